#include "dist/nccl_communicator.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include "core/log.h"
#include "dist/check.h"

#if NCCL_VERSION_CODE < NCCL_VERSION(2, 10, 0)
#error "NcclCommunicator needs NCCL >= 2.10 (for ncclAvg)"
#endif

// The checking macros for CUDA and NCCL calls, used only in this file.
#define RECSYS_CUDA_CHECK(call)                                                   \
  do {                                                                            \
    const cudaError_t recsys_cuda_rc_ = (call);                                   \
    if (recsys_cuda_rc_ != cudaSuccess)                                           \
      ::recsys::dist::ThrowCudaError(#call, recsys_cuda_rc_, __FILE__, __LINE__); \
  } while (0)

#define RECSYS_NCCL_CHECK(call)                                                   \
  do {                                                                            \
    const ncclResult_t recsys_nccl_rc_ = (call);                                  \
    if (recsys_nccl_rc_ != ncclSuccess)                                           \
      ::recsys::dist::ThrowNcclError(#call, recsys_nccl_rc_, __FILE__, __LINE__); \
  } while (0)

namespace recsys::dist {
namespace {

[[noreturn]] void ThrowCudaError(const char* call_text, cudaError_t code, const char* file,
                                 int line) {
  ::recsys::detail::ThrowError(file, line,
                               detail::CallName(call_text) + " failed: " +
                                   cudaGetErrorString(code) + " (" + detail::Where() + ")");
}

[[noreturn]] void ThrowNcclError(const char* call_text, ncclResult_t code, const char* file,
                                 int line) {
  // ncclGetLastError says what went wrong; ncclGetErrorString only names the class of error.
  const char* last = ncclGetLastError(nullptr);
  std::string message = detail::CallName(call_text) + " failed: " + ncclGetErrorString(code);
  if (last != nullptr && *last != '\0') message += std::string(": ") + last;
  ::recsys::detail::ThrowError(file, line, message + " (" + detail::Where() + ")");
}

ncclDataType_t ToNccl(DataType type) {
  switch (type) {
    case DataType::kUInt8:
      return ncclUint8;
    case DataType::kInt32:
      return ncclInt32;
    case DataType::kInt64:
      return ncclInt64;
    case DataType::kFloat32:
      return ncclFloat32;
    case DataType::kFloat64:
      return ncclFloat64;
  }
  RECSYS_THROW("NcclCommunicator: unknown DataType " << static_cast<int>(type));
}

ncclRedOp_t ToNccl(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return ncclSum;
    case ReduceOp::kAverage:
      return ncclAvg;
    case ReduceOp::kMax:
      return ncclMax;
    case ReduceOp::kMin:
      return ncclMin;
  }
  RECSYS_THROW("NcclCommunicator: unknown ReduceOp " << static_cast<int>(op));
}

const char* At(const void* base, int64_t offset, DataType type) {
  return static_cast<const char*>(base) + offset * static_cast<int64_t>(SizeOf(type));
}
char* At(void* base, int64_t offset, DataType type) {
  return static_cast<char*>(base) + offset * static_cast<int64_t>(SizeOf(type));
}

}  // namespace

int CudaDeviceCount() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) return 0;
  return count;
}

NcclCommunicator::NcclCommunicator(MPI_Comm bootstrap, int device, CollectiveTimeouts timeouts)
    : bootstrap_(bootstrap, timeouts), device_(device) {
  constexpr const char* kOp = "NcclCommunicator";
  // Agree first: a rank that gave up alone would leave the others waiting in ncclCommInitRank.
  const int device_count = CudaDeviceCount();
  const bool device_ok = device >= 0 && device < device_count;
  const int all_ok = AllReduceValue(bootstrap_, device_ok ? 1 : 0, ReduceOp::kMin);
  RECSYS_DIST_CHECK(device_ok, kOp,
                    "no usable CUDA device: asked for device " << device << ", this process sees "
                                                               << device_count);
  RECSYS_DIST_CHECK(all_ok == 1, kOp, "another rank has no usable CUDA device");

  RECSYS_CUDA_CHECK(cudaSetDevice(device_));
  ncclUniqueId id{};
  if (bootstrap_.rank() == 0) RECSYS_NCCL_CHECK(ncclGetUniqueId(&id));
  bootstrap_.Broadcast(&id, sizeof(id), DataType::kUInt8, 0);
  RECSYS_NCCL_CHECK(ncclCommInitRank(&comm_, bootstrap_.size(), id, bootstrap_.rank()));
  // From here on comm_ must be released if the constructor throws: the destructor will not run.
  try {
    RECSYS_CUDA_CHECK(cudaStreamCreate(&stream_));
  } catch (...) {
    ncclCommDestroy(comm_);
    throw;
  }
}

NcclCommunicator::~NcclCommunicator() {
  if (ncclCommDestroy(comm_) != ncclSuccess) {
    RECSYS_WARN("ncclCommDestroy failed in ~NcclCommunicator (" << detail::Where() << ")");
  }
  if (cudaStreamDestroy(stream_) != cudaSuccess) {
    RECSYS_WARN("cudaStreamDestroy failed in ~NcclCommunicator (" << detail::Where() << ")");
  }
}

void NcclCommunicator::Synchronize() { RECSYS_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

void NcclCommunicator::AllReduce(void* buffer, size_t count, DataType type, ReduceOp op) {
  const ncclDataType_t nccl_type = ToNccl(type);
  const ncclRedOp_t nccl_op = ToNccl(op);
  if (count == 0) return;  // count is the same on every rank, so all skip alike
  RECSYS_NCCL_CHECK(ncclAllReduce(buffer, buffer, count, nccl_type, nccl_op, comm_, stream_));
  Synchronize();
}

void NcclCommunicator::Broadcast(void* buffer, size_t count, DataType type, int root) {
  detail::CheckRoot("NcclCommunicator::Broadcast", root, size());
  const ncclDataType_t nccl_type = ToNccl(type);
  if (count == 0) return;
  RECSYS_NCCL_CHECK(ncclBroadcast(buffer, buffer, count, nccl_type, root, comm_, stream_));
  Synchronize();
}

// The V-collectives are point-to-point transfers fused in one NCCL group, which lets every send
// and receive progress together (no ordering deadlock). Empty blocks are skipped on both sides:
// the sender's count and the receiver's recv_counts entry agree, so both skip.

void NcclCommunicator::GatherV(const void* send, size_t send_count, void* recv,
                               const std::vector<int64_t>& recv_counts, DataType type, int root) {
  constexpr const char* kOp = "NcclCommunicator::GatherV";
  detail::CheckRoot(kOp, root, size());
  const ncclDataType_t nccl_type = ToNccl(type);
  if (rank() == root) {
    detail::CheckCounts(kOp, "recv_counts", recv_counts, size());
    RECSYS_DIST_CHECK(recv_counts[rank()] == static_cast<int64_t>(send_count), kOp,
                      "send_count " << send_count << " != recv_counts[" << rank()
                                    << "] = " << recv_counts[rank()]);
  }
  RECSYS_NCCL_CHECK(ncclGroupStart());
  if (send_count > 0) {
    RECSYS_NCCL_CHECK(ncclSend(send, send_count, nccl_type, root, comm_, stream_));
  }
  if (rank() == root) {
    int64_t offset = 0;
    for (int r = 0; r < size(); ++r) {
      if (recv_counts[r] > 0) {
        RECSYS_NCCL_CHECK(
            ncclRecv(At(recv, offset, type), recv_counts[r], nccl_type, r, comm_, stream_));
      }
      offset += recv_counts[r];
    }
  }
  RECSYS_NCCL_CHECK(ncclGroupEnd());
  Synchronize();
}

void NcclCommunicator::AllGatherV(const void* send, size_t send_count, void* recv,
                                  const std::vector<int64_t>& recv_counts, DataType type) {
  constexpr const char* kOp = "NcclCommunicator::AllGatherV";
  detail::CheckCounts(kOp, "recv_counts", recv_counts, size());
  RECSYS_DIST_CHECK(
      recv_counts[rank()] == static_cast<int64_t>(send_count), kOp,
      "send_count " << send_count << " != recv_counts[" << rank() << "] = " << recv_counts[rank()]);
  const ncclDataType_t nccl_type = ToNccl(type);
  RECSYS_NCCL_CHECK(ncclGroupStart());
  int64_t offset = 0;
  for (int r = 0; r < size(); ++r) {
    if (send_count > 0) {
      RECSYS_NCCL_CHECK(ncclSend(send, send_count, nccl_type, r, comm_, stream_));
    }
    if (recv_counts[r] > 0) {
      RECSYS_NCCL_CHECK(
          ncclRecv(At(recv, offset, type), recv_counts[r], nccl_type, r, comm_, stream_));
    }
    offset += recv_counts[r];
  }
  RECSYS_NCCL_CHECK(ncclGroupEnd());
  Synchronize();
}

void NcclCommunicator::AllGatherVInPlace(void* recv, const std::vector<int64_t>& recv_counts,
                                         DataType type) {
  constexpr const char* kOp = "NcclCommunicator::AllGatherVInPlace";
  detail::CheckCounts(kOp, "recv_counts", recv_counts, size());
  const ncclDataType_t nccl_type = ToNccl(type);
  int64_t own = 0;  // where this rank's block starts
  for (int r = 0; r < rank(); ++r) own += recv_counts[r];
  const int64_t own_count = recv_counts[rank()];
  RECSYS_NCCL_CHECK(ncclGroupStart());
  int64_t offset = 0;
  for (int r = 0; r < size(); ++r) {
    if (r != rank() && own_count > 0) {
      RECSYS_NCCL_CHECK(ncclSend(At(recv, own, type), own_count, nccl_type, r, comm_, stream_));
    }
    if (r != rank() && recv_counts[r] > 0) {
      RECSYS_NCCL_CHECK(
          ncclRecv(At(recv, offset, type), recv_counts[r], nccl_type, r, comm_, stream_));
    }
    offset += recv_counts[r];
  }
  RECSYS_NCCL_CHECK(ncclGroupEnd());
  Synchronize();
}

void NcclCommunicator::AllToAllV(const void* send, const std::vector<int64_t>& send_counts,
                                 void* recv, const std::vector<int64_t>& recv_counts,
                                 DataType type) {
  constexpr const char* kOp = "NcclCommunicator::AllToAllV";
  detail::CheckCounts(kOp, "send_counts", send_counts, size());
  detail::CheckCounts(kOp, "recv_counts", recv_counts, size());
  const ncclDataType_t nccl_type = ToNccl(type);
  RECSYS_NCCL_CHECK(ncclGroupStart());
  int64_t send_offset = 0;
  int64_t recv_offset = 0;
  for (int r = 0; r < size(); ++r) {
    if (send_counts[r] > 0) {
      RECSYS_NCCL_CHECK(
          ncclSend(At(send, send_offset, type), send_counts[r], nccl_type, r, comm_, stream_));
    }
    if (recv_counts[r] > 0) {
      RECSYS_NCCL_CHECK(
          ncclRecv(At(recv, recv_offset, type), recv_counts[r], nccl_type, r, comm_, stream_));
    }
    send_offset += send_counts[r];
    recv_offset += recv_counts[r];
  }
  RECSYS_NCCL_CHECK(ncclGroupEnd());
  Synchronize();
}

void NcclCommunicator::Barrier() { bootstrap_.Barrier(); }

}  // namespace recsys::dist
