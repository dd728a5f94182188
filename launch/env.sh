# Sourced by the launch scripts: the environment MPI runs need here.
# Root may run mpirun only with these two set (the scripts run as root on fresh machines).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# One thread per rank: ranks, not threads, use the cores (see README, 'Threads').
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
# Shared-memory messages by copy through Open MPI's buffers instead of a single copy with
# process_vm_readv: on this kind of VM the system call (which pins the peer's pages) made a
# data-parallel training step 10-13% slower (recsys_bench_train, 2 ranks, 4 alternating runs);
# the index router was unaffected. Revisit on bare-metal nodes: a value set before (e.g. cma,
# Open MPI's default) is kept.
export OMPI_MCA_btl_vader_single_copy_mechanism=${OMPI_MCA_btl_vader_single_copy_mechanism:-none}
