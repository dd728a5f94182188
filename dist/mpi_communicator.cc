#include "dist/mpi_communicator.h"

#include <algorithm>
#include <cstring>

#include "core/log.h"
#include "dist/check.h"

namespace recsys::dist {
namespace {

MPI_Datatype ToMpi(DataType type) {
  switch (type) {
    case DataType::kUInt8:
      return MPI_UINT8_T;
    case DataType::kInt32:
      return MPI_INT32_T;
    case DataType::kInt64:
      return MPI_INT64_T;
    case DataType::kFloat32:
      return MPI_FLOAT;
    case DataType::kFloat64:
      return MPI_DOUBLE;
  }
  RECSYS_THROW("MpiCommunicator: unknown DataType " << static_cast<int>(type));
}

// kAverage is reduced as kSum, then divided on each rank.
MPI_Op ToMpi(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
    case ReduceOp::kAverage:
      return MPI_SUM;
    case ReduceOp::kMax:
      return MPI_MAX;
    case ReduceOp::kMin:
      return MPI_MIN;
  }
  RECSYS_THROW("MpiCommunicator: unknown ReduceOp " << static_cast<int>(op));
}

template <typename T>
void DivideAll(void* buffer, size_t count, int divisor) {
  T* values = static_cast<T*>(buffer);
  // Integer types: C++ division truncates toward zero, the documented kAverage. The divisor
  // stays int: as uint8_t, 256 ranks would make it 0.
  for (size_t i = 0; i < count; ++i) {
    values[i] = static_cast<T>(values[i] / divisor);
  }
}

void DivideAll(void* buffer, size_t count, DataType type, int divisor) {
  switch (type) {
    case DataType::kUInt8:
      return DivideAll<uint8_t>(buffer, count, divisor);
    case DataType::kInt32:
      return DivideAll<int32_t>(buffer, count, divisor);
    case DataType::kInt64:
      return DivideAll<int64_t>(buffer, count, divisor);
    case DataType::kFloat32:
      return DivideAll<float>(buffer, count, divisor);
    case DataType::kFloat64:
      return DivideAll<double>(buffer, count, divisor);
  }
}

// Tags of the point-to-point messages that make up GatherV, AllGatherV (large path) and
// AllToAllV. Messages between two ranks with one tag arrive in order, so chunks need no number.
constexpr int kGatherTag = 1;
constexpr int kAllGatherTag = 2;
constexpr int kAllToAllTag = 3;

// Element offsets of the blocks: offsets[r] = counts[0] + ... + counts[r-1].
std::vector<size_t> Offsets(const std::vector<int64_t>& counts) {
  std::vector<size_t> offsets(counts.size());
  size_t offset = 0;
  for (size_t r = 0; r < counts.size(); ++r) {
    offsets[r] = offset;
    offset += static_cast<size_t>(counts[r]);
  }
  return offsets;
}

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm, CollectiveTimeouts timeouts, size_t max_chunk)
    : max_chunk_(max_chunk) {
  RECSYS_DIST_CHECK(max_chunk >= 1 && max_chunk <= kMaxChunk, "MpiCommunicator",
                    "max_chunk " << max_chunk << " is not in [1, INT_MAX]");
  // MPI would report a null communicator through MPI_COMM_WORLD's handler, which aborts.
  RECSYS_DIST_CHECK(comm != MPI_COMM_NULL, "MpiCommunicator", "comm is MPI_COMM_NULL");
  RECSYS_MPI_CHECK(MPI_Comm_dup(comm, &comm_));
  // From here on comm_ must be freed if the constructor throws: the destructor will not run.
  try {
    RECSYS_MPI_CHECK(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
    RECSYS_MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
    RECSYS_MPI_CHECK(MPI_Comm_size(comm_, &size_));
    watchdog_ = std::make_unique<CollectiveWatchdog>(comm_, timeouts);
  } catch (...) {
    MPI_Comm_free(&comm_);
    throw;
  }
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) {
    // Freeing now would be an MPI error; the communicator outlived MpiRuntime.
    RECSYS_WARN("MpiCommunicator destroyed after MPI_Finalize; its communicator was not freed");
    return;
  }
  watchdog_.reset();
  if (MPI_Comm_free(&comm_) != MPI_SUCCESS) {
    RECSYS_WARN("MPI_Comm_free failed in ~MpiCommunicator (" << detail::Where() << ")");
  }
}

void MpiCommunicator::Wait(MPI_Request request, CollectiveKind kind, const char* op) {
  watchdog_->Wait(&request, 1, kind, op);
}

void MpiCommunicator::Wait(std::vector<MPI_Request>& requests, CollectiveKind kind,
                           const char* op) {
  watchdog_->Wait(requests.data(), static_cast<int>(requests.size()), kind, op);
}

void MpiCommunicator::PostSend(const void* data, size_t count, DataType type, int to, int tag,
                               std::vector<MPI_Request>& requests) {
  const char* bytes = static_cast<const char*>(data);
  for (size_t done = 0; done < count;) {
    const size_t n = std::min(max_chunk_, count - done);
    RECSYS_MPI_CHECK(MPI_Isend(bytes + done * SizeOf(type), static_cast<int>(n), ToMpi(type), to,
                               tag, comm_, &requests.emplace_back()));
    done += n;
  }
}

void MpiCommunicator::PostRecv(void* data, size_t count, DataType type, int from, int tag,
                               std::vector<MPI_Request>& requests) {
  char* bytes = static_cast<char*>(data);
  for (size_t done = 0; done < count;) {
    const size_t n = std::min(max_chunk_, count - done);
    RECSYS_MPI_CHECK(MPI_Irecv(bytes + done * SizeOf(type), static_cast<int>(n), ToMpi(type), from,
                               tag, comm_, &requests.emplace_back()));
    done += n;
  }
}

void MpiCommunicator::AllReduce(void* buffer, size_t count, DataType type, ReduceOp op) {
  const MPI_Datatype mpi_type = ToMpi(type);
  const MPI_Op mpi_op = ToMpi(op);
  char* bytes = static_cast<char*>(buffer);
  const size_t element_size = SizeOf(type);
  for (size_t done = 0; done < count;) {
    const size_t n = std::min(max_chunk_, count - done);
    MPI_Request request;
    RECSYS_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, bytes + done * element_size, static_cast<int>(n),
                                    mpi_type, mpi_op, comm_, &request));
    Wait(request, CollectiveKind::kAllReduce, "MpiCommunicator::AllReduce");
    done += n;
  }
  if (op == ReduceOp::kAverage) DivideAll(buffer, count, type, size_);
}

void MpiCommunicator::Broadcast(void* buffer, size_t count, DataType type, int root) {
  detail::CheckRoot("MpiCommunicator::Broadcast", root, size_);
  const MPI_Datatype mpi_type = ToMpi(type);
  char* bytes = static_cast<char*>(buffer);
  const size_t element_size = SizeOf(type);
  for (size_t done = 0; done < count;) {
    const size_t n = std::min(max_chunk_, count - done);
    MPI_Request request;
    RECSYS_MPI_CHECK(MPI_Ibcast(bytes + done * element_size, static_cast<int>(n), mpi_type, root,
                                comm_, &request));
    Wait(request, CollectiveKind::kBroadcast, "MpiCommunicator::Broadcast");
    done += n;
  }
}

void MpiCommunicator::GatherV(const void* send, size_t send_count, void* recv,
                              const std::vector<int64_t>& recv_counts, DataType type, int root) {
  constexpr const char* kOp = "MpiCommunicator::GatherV";
  detail::CheckRoot(kOp, root, size_);
  std::vector<MPI_Request> requests;
  if (rank_ == root) {
    detail::CheckCounts(kOp, "recv_counts", recv_counts, size_);
    RECSYS_DIST_CHECK(
        recv_counts[rank_] == static_cast<int64_t>(send_count), kOp,
        "send_count " << send_count << " != recv_counts[" << rank_ << "] = " << recv_counts[rank_]);
    const std::vector<size_t> offsets = Offsets(recv_counts);
    char* bytes = static_cast<char*>(recv);
    for (int r = 0; r < size_; ++r) {
      if (r != rank_)
        PostRecv(bytes + offsets[r] * SizeOf(type), recv_counts[r], type, r, kGatherTag, requests);
    }
    if (send_count > 0)
      std::memmove(bytes + offsets[rank_] * SizeOf(type), send, send_count * SizeOf(type));
  } else {
    PostSend(send, send_count, type, root, kGatherTag, requests);
  }
  Wait(requests, CollectiveKind::kGather, kOp);
}

void MpiCommunicator::AllGatherV(const void* send, size_t send_count, void* recv,
                                 const std::vector<int64_t>& recv_counts, DataType type) {
  constexpr const char* kOp = "MpiCommunicator::AllGatherV";
  detail::CheckCounts(kOp, "recv_counts", recv_counts, size_);
  RECSYS_DIST_CHECK(
      recv_counts[rank_] == static_cast<int64_t>(send_count), kOp,
      "send_count " << send_count << " != recv_counts[" << rank_ << "] = " << recv_counts[rank_]);
  const std::vector<size_t> offsets = Offsets(recv_counts);
  if (send_count > 0) {
    std::memmove(static_cast<char*>(recv) + offsets[rank_] * SizeOf(type), send,
                 send_count * SizeOf(type));
  }
  AllGatherVInPlace(recv, recv_counts, type);
}

void MpiCommunicator::AllGatherVInPlace(void* recv, const std::vector<int64_t>& recv_counts,
                                        DataType type) {
  constexpr const char* kOp = "MpiCommunicator::AllGatherVInPlace";
  detail::CheckCounts(kOp, "recv_counts", recv_counts, size_);
  const std::vector<size_t> offsets = Offsets(recv_counts);
  const size_t total = offsets.back() + static_cast<size_t>(recv_counts.back());
  char* bytes = static_cast<char*>(recv);
  std::vector<MPI_Request> requests;
  if (total <= max_chunk_) {
    // Every count and displacement fits an int: one MPI collective. recv_counts are the same on
    // every rank, so every rank takes the same branch.
    const std::vector<int> counts(recv_counts.begin(), recv_counts.end());
    const std::vector<int> displacements(offsets.begin(), offsets.end());
    RECSYS_MPI_CHECK(MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, recv, counts.data(),
                                     displacements.data(), ToMpi(type), comm_,
                                     &requests.emplace_back()));
  } else {
    // Past an int: every rank sends its block to every other, in chunks of max_chunk elements.
    for (int r = 0; r < size_; ++r) {
      if (r == rank_) continue;
      PostRecv(bytes + offsets[r] * SizeOf(type), recv_counts[r], type, r, kAllGatherTag, requests);
      PostSend(bytes + offsets[rank_] * SizeOf(type), recv_counts[rank_], type, r, kAllGatherTag,
               requests);
    }
  }
  Wait(requests, CollectiveKind::kAllGather, kOp);
}

void MpiCommunicator::AllToAllV(const void* send, const std::vector<int64_t>& send_counts,
                                void* recv, const std::vector<int64_t>& recv_counts,
                                DataType type) {
  constexpr const char* kOp = "MpiCommunicator::AllToAllV";
  detail::CheckCounts(kOp, "send_counts", send_counts, size_);
  detail::CheckCounts(kOp, "recv_counts", recv_counts, size_);
  RECSYS_DIST_CHECK(send_counts[rank_] == recv_counts[rank_], kOp,
                    "send_counts[" << rank_ << "] = " << send_counts[rank_] << " != recv_counts["
                                   << rank_ << "] = " << recv_counts[rank_]);
  // Point to point, as MPI libraries do it for few ranks: sizes past an int are then only a
  // matter of chunking, and each rank decides alone (its counts are not known to the others).
  const std::vector<size_t> send_offsets = Offsets(send_counts);
  const std::vector<size_t> recv_offsets = Offsets(recv_counts);
  const char* send_bytes = static_cast<const char*>(send);
  char* recv_bytes = static_cast<char*>(recv);
  const size_t element_size = SizeOf(type);
  std::vector<MPI_Request> requests;
  for (int i = 1; i < size_; ++i) {
    const int from = (rank_ - i + size_) % size_;
    PostRecv(recv_bytes + recv_offsets[from] * element_size, recv_counts[from], type, from,
             kAllToAllTag, requests);
  }
  for (int i = 1; i < size_; ++i) {
    const int to = (rank_ + i) % size_;
    PostSend(send_bytes + send_offsets[to] * element_size, send_counts[to], type, to, kAllToAllTag,
             requests);
  }
  if (send_counts[rank_] > 0) {
    std::memcpy(recv_bytes + recv_offsets[rank_] * element_size,
                send_bytes + send_offsets[rank_] * element_size,
                static_cast<size_t>(send_counts[rank_]) * element_size);
  }
  Wait(requests, CollectiveKind::kAllToAll, kOp);
}

void MpiCommunicator::Barrier() {
  MPI_Request request;
  RECSYS_MPI_CHECK(MPI_Ibarrier(comm_, &request));
  Wait(request, CollectiveKind::kBarrier, "MpiCommunicator::Barrier");
}

}  // namespace recsys::dist
