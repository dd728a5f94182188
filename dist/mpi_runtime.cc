#include "dist/mpi_runtime.h"

#include <mpi.h>

#include "core/log.h"
#include "dist/check.h"

namespace recsys::dist {

MpiRuntime::MpiRuntime(int* argc, char*** argv) {
  int initialized = 0;
  RECSYS_MPI_CHECK(MPI_Initialized(&initialized));
  // A second owner would finalise MPI under the first one's feet.
  RECSYS_DIST_CHECK(!initialized, "MpiRuntime", "MPI is already initialised");
  int provided = MPI_THREAD_SINGLE;
  RECSYS_MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided));
  if (provided < MPI_THREAD_FUNNELED) {
    // The destructor will not run: finalise here so the process can still exit cleanly.
    MPI_Finalize();
    RECSYS_THROW("MpiRuntime: the MPI library provides thread level "
                 << provided << ", below MPI_THREAD_FUNNELED (" << MPI_THREAD_FUNNELED << ")");
  }
  RECSYS_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &world_rank_));
  RECSYS_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &world_size_));
}

MpiRuntime::~MpiRuntime() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (MPI_Finalize() != MPI_SUCCESS) RECSYS_WARN("MPI_Finalize failed");
}

}  // namespace recsys::dist
