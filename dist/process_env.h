#pragma once
// Who this process is in the job, read from the launcher's environment before (or without) MPI.

#include <mpi.h>

#include <map>
#include <string>

#include "core/host_name.h"

namespace recsys::dist {

struct ProcessEnv {
  int rank = 0;        // in the job, [0, world_size)
  int local_rank = 0;  // among the job's processes on this host, [0, local_size): picks the GPU
  int world_size = 1;
  int local_size = 1;  // the job's processes on this host
  std::string host;
  std::string launcher = "none";  // "mpirun", "srun" or "none"
};

// Reads the launcher's variables from env (name -> value). Not collective; pure.
//   mpirun (Open MPI): OMPI_COMM_WORLD_RANK, _SIZE, _LOCAL_RANK, _LOCAL_SIZE. Checked first,
//     because mpirun inside an sbatch allocation also inherits SLURM_* of the batch step. When
//     OMPI_COMM_WORLD_SIZE is set but not OMPI_COMM_WORLD_RANK, the rank is read from PMIX_RANK,
//     which every PMIx launcher sets.
//   srun (Slurm): SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID; the local size is this node's entry
//     (SLURM_NODEID, default 0) of the first set of SLURM_STEP_TASKS_PER_NODE,
//     SLURM_TASKS_PER_NODE, SLURM_NTASKS_PER_NODE, whose format is "2(x3),1" (2 tasks on each of
//     3 nodes, then 1); a single entry applies to every node.
//   none: nothing above set (PMIX_RANK alone is not enough: it gives no sizes); rank 0 of 1.
// Throws recsys::Error naming the variable when a value is malformed or inconsistent (a rank not
// below its size), or when a launcher's variable set is incomplete. host is copied into the result.
ProcessEnv ParseProcessEnv(const std::map<std::string, std::string>& env, std::string host);

// ParseProcessEnv on this process's environment and HostName() (core/host_name.h). Not
// collective.
ProcessEnv CurrentProcessEnv();

// COLLECTIVE over comm: this process's rank among the ranks of comm that share its memory
// (MPI_Comm_split_type with MPI_COMM_TYPE_SHARED), i.e. its local rank as MPI sees it.
int LocalRankFromMpi(MPI_Comm comm);

}  // namespace recsys::dist
