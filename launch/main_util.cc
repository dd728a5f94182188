#include "launch/main_util.h"

#include <mpi.h>

#include <boost/program_options/errors.hpp>
#include <cstdio>

#include "core/log.h"

namespace recsys::launch {

int RunMain(const char* program, int argc, char** argv,
            const std::function<int(dist::MpiRuntime& mpi)>& body) {
  try {
    dist::MpiRuntime mpi(&argc, &argv);
    if (mpi.world_size() > 1) SetLogTag("r" + std::to_string(mpi.world_rank()));
    try {
      return body(mpi);
    } catch (const UsageError& e) {
      if (mpi.world_rank() == 0) std::fprintf(stderr, "%s: %s (see --help)\n", program, e.what());
      return 2;
    } catch (const boost::program_options::error& e) {
      if (mpi.world_rank() == 0) std::fprintf(stderr, "%s: %s (see --help)\n", program, e.what());
      return 2;
    } catch (const std::exception& e) {
      if (mpi.world_size() > 1) {
        std::fprintf(stderr, "%s: error on rank %d: %s\n", program, mpi.world_rank(), e.what());
        std::fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, 1);
      }
      std::fprintf(stderr, "%s: error: %s\n", program, e.what());
      return 1;
    }
  } catch (const std::exception& e) {
    // MPI itself failed to start or to finish.
    std::fprintf(stderr, "%s: error: %s\n", program, e.what());
    return 1;
  }
}

}  // namespace recsys::launch
