#include "dist/make_communicator.h"

#include "core/error.h"
#include "dist/mpi_communicator.h"
#include "recsys/config.h"
#if RECSYS_WITH_NCCL
#include "dist/nccl_communicator.h"
#include "dist/process_env.h"
#endif

namespace recsys::dist {

Backend ParseBackend(const std::string& name) {
  if (name == "mpi") return Backend::kMpi;
  if (name == "nccl") return Backend::kNccl;
  RECSYS_THROW("unknown communicator backend '" << name << "': expected \"mpi\" or \"nccl\"");
}

bool NcclAvailable() {
#if RECSYS_WITH_NCCL
  return CudaDeviceCount() > 0;
#else
  return false;
#endif
}

std::unique_ptr<Communicator> MakeCommunicator(Backend backend, MPI_Comm comm,
                                               CollectiveTimeouts timeouts) {
  switch (backend) {
    case Backend::kMpi:
      return std::make_unique<MpiCommunicator>(comm, timeouts);
    case Backend::kNccl: {
#if RECSYS_WITH_NCCL
      const int device_count = CudaDeviceCount();
      // A rank without a device passes -1: the constructor then fails on every rank alike.
      const int local_rank = LocalRankFromMpi(comm);
      const int device = device_count > 0 ? local_rank % device_count : -1;
      return std::make_unique<NcclCommunicator>(comm, device, timeouts);
#else
      RECSYS_THROW(
          "communicator backend \"nccl\" requested, but this build has no NCCL "
          "(configure with RECSYS_WITH_NCCL=ON where CUDA and NCCL are installed)");
#endif
    }
  }
  RECSYS_THROW("MakeCommunicator: unknown Backend " << static_cast<int>(backend));
}

}  // namespace recsys::dist
