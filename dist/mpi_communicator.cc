#include "dist/mpi_communicator.h"

#include <algorithm>

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

// MPI-3 counts and displacements are int: counts and their running offsets as ints, or a clear
// error naming the operation.
struct IntLayout {
  std::vector<int> counts;
  std::vector<int> offsets;
};

IntLayout ToIntLayout(const char* op, const char* name, const std::vector<int64_t>& counts) {
  IntLayout layout;
  layout.counts.reserve(counts.size());
  layout.offsets.reserve(counts.size());
  int64_t offset = 0;
  for (size_t r = 0; r < counts.size(); ++r) {
    RECSYS_DIST_CHECK(counts[r] <= INT_MAX && offset <= INT_MAX, op,
                      name << "[" << r << "] = " << counts[r] << " at element offset " << offset
                           << " exceeds INT_MAX, the most an MPI-3 count or displacement holds;"
                              " split the call");
    layout.counts.push_back(static_cast<int>(counts[r]));
    layout.offsets.push_back(static_cast<int>(offset));
    offset += counts[r];
  }
  return layout;
}

int ToIntCount(const char* op, const char* name, size_t count) {
  RECSYS_DIST_CHECK(count <= static_cast<size_t>(INT_MAX), op,
                    name << " = " << count
                         << " exceeds INT_MAX, the most an MPI-3 count holds;"
                            " split the call");
  return static_cast<int>(count);
}

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm, size_t max_chunk) : max_chunk_(max_chunk) {
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
  if (MPI_Comm_free(&comm_) != MPI_SUCCESS) {
    RECSYS_WARN("MPI_Comm_free failed in ~MpiCommunicator (" << detail::Where() << ")");
  }
}

void MpiCommunicator::AllReduce(void* buffer, size_t count, DataType type, ReduceOp op) {
  const MPI_Datatype mpi_type = ToMpi(type);
  const MPI_Op mpi_op = ToMpi(op);
  char* bytes = static_cast<char*>(buffer);
  const size_t element_size = SizeOf(type);
  for (size_t done = 0; done < count;) {
    const size_t n = std::min(max_chunk_, count - done);
    RECSYS_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, bytes + done * element_size, static_cast<int>(n),
                                   mpi_type, mpi_op, comm_));
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
    RECSYS_MPI_CHECK(
        MPI_Bcast(bytes + done * element_size, static_cast<int>(n), mpi_type, root, comm_));
    done += n;
  }
}

void MpiCommunicator::GatherV(const void* send, size_t send_count, void* recv,
                              const std::vector<int64_t>& recv_counts, DataType type, int root) {
  constexpr const char* kOp = "MpiCommunicator::GatherV";
  detail::CheckRoot(kOp, root, size_);
  const MPI_Datatype mpi_type = ToMpi(type);
  const int send_int = ToIntCount(kOp, "send_count", send_count);
  IntLayout layout;
  if (rank_ == root) {
    detail::CheckCounts(kOp, "recv_counts", recv_counts, size_);
    RECSYS_DIST_CHECK(
        recv_counts[rank_] == static_cast<int64_t>(send_count), kOp,
        "send_count " << send_count << " != recv_counts[" << rank_ << "] = " << recv_counts[rank_]);
    layout = ToIntLayout(kOp, "recv_counts", recv_counts);
  }
  // Off root, MPI ignores the receive arguments: null pointers are fine there.
  RECSYS_MPI_CHECK(MPI_Gatherv(send, send_int, mpi_type, recv, layout.counts.data(),
                               layout.offsets.data(), mpi_type, root, comm_));
}

void MpiCommunicator::AllGatherV(const void* send, size_t send_count, void* recv,
                                 const std::vector<int64_t>& recv_counts, DataType type) {
  constexpr const char* kOp = "MpiCommunicator::AllGatherV";
  detail::CheckCounts(kOp, "recv_counts", recv_counts, size_);
  const IntLayout layout = ToIntLayout(kOp, "recv_counts", recv_counts);
  RECSYS_DIST_CHECK(
      recv_counts[rank_] == static_cast<int64_t>(send_count), kOp,
      "send_count " << send_count << " != recv_counts[" << rank_ << "] = " << recv_counts[rank_]);
  const MPI_Datatype mpi_type = ToMpi(type);
  RECSYS_MPI_CHECK(MPI_Allgatherv(send, static_cast<int>(send_count), mpi_type, recv,
                                  layout.counts.data(), layout.offsets.data(), mpi_type, comm_));
}

void MpiCommunicator::AllGatherVInPlace(void* recv, const std::vector<int64_t>& recv_counts,
                                        DataType type) {
  constexpr const char* kOp = "MpiCommunicator::AllGatherVInPlace";
  detail::CheckCounts(kOp, "recv_counts", recv_counts, size_);
  const IntLayout layout = ToIntLayout(kOp, "recv_counts", recv_counts);
  const MPI_Datatype mpi_type = ToMpi(type);
  RECSYS_MPI_CHECK(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, recv, layout.counts.data(),
                                  layout.offsets.data(), mpi_type, comm_));
}

void MpiCommunicator::AllToAllV(const void* send, const std::vector<int64_t>& send_counts,
                                void* recv, const std::vector<int64_t>& recv_counts,
                                DataType type) {
  constexpr const char* kOp = "MpiCommunicator::AllToAllV";
  detail::CheckCounts(kOp, "send_counts", send_counts, size_);
  detail::CheckCounts(kOp, "recv_counts", recv_counts, size_);
  const IntLayout send_layout = ToIntLayout(kOp, "send_counts", send_counts);
  const IntLayout recv_layout = ToIntLayout(kOp, "recv_counts", recv_counts);
  const MPI_Datatype mpi_type = ToMpi(type);
  RECSYS_MPI_CHECK(MPI_Alltoallv(send, send_layout.counts.data(), send_layout.offsets.data(),
                                 mpi_type, recv, recv_layout.counts.data(),
                                 recv_layout.offsets.data(), mpi_type, comm_));
}

void MpiCommunicator::Barrier() { RECSYS_MPI_CHECK(MPI_Barrier(comm_)); }

}  // namespace recsys::dist
