#pragma once
// The one place a communicator backend is chosen.

#include <mpi.h>

#include <memory>
#include <string>

#include "dist/collective_watchdog.h"
#include "dist/communicator.h"

namespace recsys::dist {

enum class Backend { kMpi, kNccl };

// "mpi" -> kMpi, "nccl" -> kNccl; anything else throws recsys::Error listing the choices.
Backend ParseBackend(const std::string& name);

// True when this build has NCCL and this process sees at least one CUDA device. Not collective.
bool NcclAvailable();

// COLLECTIVE over comm (every rank calls it with the same backend).
//   kMpi:  MpiCommunicator over a duplicate of comm; host buffers; collectives end with an error
//          naming the missing ranks after timeouts.
//   kNccl: NcclCommunicator bootstrapped over comm; device buffers, on CUDA device
//          (local rank among comm's ranks on this host) % (devices visible), the device a rank
//          picks from ProcessEnv::local_rank. Throws when the build has no NCCL or a rank sees
//          no CUDA device. timeouts apply to its host-side MPI bootstrap only (NCCL's own
//          kernels have no deadline here).
std::unique_ptr<Communicator> MakeCommunicator(Backend backend, MPI_Comm comm,
                                               CollectiveTimeouts timeouts = CollectiveTimeouts());

}  // namespace recsys::dist
