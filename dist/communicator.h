#pragma once
// The collective-communication interface every distributed part of the system uses. Two
// backends implement it: MpiCommunicator (host buffers; the default) and NcclCommunicator
// (device buffers; compiled when NCCL is found). Choose one with MakeCommunicator().
//
// Every method is COLLECTIVE: all ranks of the communicator must call it, in the same order, with
// the same type, op and root. A rank with nothing to contribute still calls it with count 0.
// Failures throw recsys::Error naming the operation, the rank and the host.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace recsys::dist {

enum class DataType { kUInt8, kInt32, kInt64, kFloat32, kFloat64 };
enum class ReduceOp { kSum, kAverage, kMax, kMin };

size_t SizeOf(DataType type);
const char* Name(DataType type);

template <typename T>
constexpr DataType DataTypeOf();
template <>
constexpr DataType DataTypeOf<uint8_t>() {
  return DataType::kUInt8;
}
template <>
constexpr DataType DataTypeOf<int32_t>() {
  return DataType::kInt32;
}
template <>
constexpr DataType DataTypeOf<int64_t>() {
  return DataType::kInt64;
}
template <>
constexpr DataType DataTypeOf<float>() {
  return DataType::kFloat32;
}
template <>
constexpr DataType DataTypeOf<double>() {
  return DataType::kFloat64;
}

class Communicator {
 public:
  virtual ~Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "mpi" or "nccl".
  virtual std::string backend() const = 0;

  // In place: buffer (count elements) becomes the element-wise reduction over all ranks.
  // kAverage divides the sum by size() (integer types: truncating division).
  virtual void AllReduce(void* buffer, size_t count, DataType type, ReduceOp op) = 0;

  // buffer (count elements, same count on every rank) is copied from root to every rank.
  virtual void Broadcast(void* buffer, size_t count, DataType type, int root) = 0;

  // Uneven gather to root. Each rank sends send_count elements; on root, recv must hold
  // sum(recv_counts) elements and receives rank 0's block, then rank 1's, ... recv_counts (size
  // size()) is read on root only; other ranks may pass an empty vector and a null recv.
  virtual void GatherV(const void* send, size_t send_count, void* recv,
                       const std::vector<int64_t>& recv_counts, DataType type, int root) = 0;

  // Uneven all-gather: like GatherV, but every rank receives, and recv_counts is needed on all.
  virtual void AllGatherV(const void* send, size_t send_count, void* recv,
                          const std::vector<int64_t>& recv_counts, DataType type) = 0;

  // AllGatherV in place: each rank's block is already at its place in recv (after the blocks of
  // the ranks before it), written there by the caller; the others' blocks arrive around it. Saves
  // the copy of this rank's block that a separate send buffer costs.
  virtual void AllGatherVInPlace(void* recv, const std::vector<int64_t>& recv_counts,
                                 DataType type) = 0;

  // Uneven all-to-all. send holds sum(send_counts) elements: send_counts[0] for rank 0 first,
  // then rank 1's, ...; recv holds sum(recv_counts) elements, rank 0's block first.
  // recv_counts[j] must equal rank j's send_counts[rank()] (see ExchangeCounts()).
  virtual void AllToAllV(const void* send, const std::vector<int64_t>& send_counts, void* recv,
                         const std::vector<int64_t>& recv_counts, DataType type) = 0;

  virtual void Barrier() = 0;

 protected:
  Communicator() = default;
};

// ---- Typed conveniences over host vectors (collective, like the methods they call) -----------

template <typename T>
void AllReduce(Communicator& comm, std::vector<T>& values, ReduceOp op = ReduceOp::kSum) {
  comm.AllReduce(values.data(), values.size(), DataTypeOf<T>(), op);
}

template <typename T>
T AllReduceValue(Communicator& comm, T value, ReduceOp op = ReduceOp::kSum) {
  comm.AllReduce(&value, 1, DataTypeOf<T>(), op);
  return value;
}

template <typename T>
void Broadcast(Communicator& comm, std::vector<T>& values, int root) {
  auto n = static_cast<int64_t>(values.size());
  comm.Broadcast(&n, 1, DataType::kInt64, root);
  values.resize(n);
  comm.Broadcast(values.data(), values.size(), DataTypeOf<T>(), root);
}

// Every rank's element count: result[r] = count on rank r. Host backends only.
std::vector<int64_t> AllGatherCounts(Communicator& comm, int64_t count);

// For an all-to-all: given how many elements this rank sends to each rank, returns how many it
// receives from each. Host backends only.
std::vector<int64_t> ExchangeCounts(Communicator& comm, const std::vector<int64_t>& send_counts);

// Concatenation of every rank's vector, in rank order, on every rank.
template <typename T>
std::vector<T> AllGatherV(Communicator& comm, const std::vector<T>& local) {
  std::vector<int64_t> counts = AllGatherCounts(comm, static_cast<int64_t>(local.size()));
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  std::vector<T> out(total);
  comm.AllGatherV(local.data(), local.size(), out.data(), counts, DataTypeOf<T>());
  return out;
}

// Concatenation of every rank's vector, in rank order, on root; empty on the other ranks.
template <typename T>
std::vector<T> GatherV(Communicator& comm, const std::vector<T>& local, int root) {
  std::vector<int64_t> counts = AllGatherCounts(comm, static_cast<int64_t>(local.size()));
  std::vector<T> out;
  if (comm.rank() == root) {
    int64_t total = 0;
    for (int64_t c : counts) total += c;
    out.resize(total);
  }
  comm.GatherV(local.data(), local.size(), out.data(), counts, DataTypeOf<T>(), root);
  return out;
}

// Strings gathered to root in rank order (empty on other ranks).
std::vector<std::string> GatherStrings(Communicator& comm, const std::vector<std::string>& local,
                                       int root);

}  // namespace recsys::dist
