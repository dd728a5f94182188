# Sourced by the launch scripts: the environment MPI runs need here.
# Root may run mpirun only with these two set (the scripts run as root on fresh machines).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# One thread per rank: ranks, not threads, use the cores (see README, 'Threads').
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
