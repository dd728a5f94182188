// NcclCommunicator on device buffers against hand values. Built when RECSYS_WITH_NCCL; every test
// skips (on every rank alike) where this host has fewer CUDA devices than ranks.

#include "dist/nccl_communicator.h"

#include <cuda_runtime.h>
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "dist/make_communicator.h"
#include "dist/mpi_communicator.h"

namespace recsys::dist {
namespace {

void CudaOk(cudaError_t code, const char* what) {
  if (code != cudaSuccess) RECSYS_THROW(what << ": " << cudaGetErrorString(code));
}

// A device copy of a host vector; empty vectors have a null device pointer.
template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(const std::vector<T>& host) : size_(host.size()) {
    if (size_ == 0) return;
    CudaOk(cudaMalloc(reinterpret_cast<void**>(&data_), size_ * sizeof(T)), "cudaMalloc");
    CudaOk(cudaMemcpy(data_, host.data(), size_ * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy");
  }
  ~DeviceBuffer() {
    if (data_ != nullptr) cudaFree(data_);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* data() { return data_; }
  size_t size() const { return size_; }
  std::vector<T> ToHost() const {
    std::vector<T> host(size_);
    if (size_ > 0) {
      CudaOk(cudaMemcpy(host.data(), data_, size_ * sizeof(T), cudaMemcpyDeviceToHost),
             "cudaMemcpy");
    }
    return host;
  }

 private:
  T* data_ = nullptr;
  size_t size_;
};

class NcclCommunicatorTest : public testing::Test {
 protected:
  void SetUp() override {
    // Decide together: a rank that skipped alone would leave the others waiting in NCCL's set-up.
    MpiCommunicator world(MPI_COMM_WORLD);
    MPI_Comm node = MPI_COMM_NULL;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    int ranks_here = 0;
    MPI_Comm_size(node, &ranks_here);
    MPI_Comm_free(&node);
    const int devices = CudaDeviceCount();
    const int can_run = devices >= ranks_here ? 1 : 0;
    if (AllReduceValue(world, can_run, ReduceOp::kMin) == 0) {
      if (devices == 0) {
        GTEST_SKIP() << "no CUDA device: cudaGetDeviceCount reports none on this host";
      }
      GTEST_SKIP() << "a host has fewer CUDA devices than ranks (NCCL needs one device per rank; "
                      "this one has "
                   << devices << " for " << ranks_here << " ranks)";
    }
    comm_ = MakeCommunicator(Backend::kNccl, MPI_COMM_WORLD);
  }

  std::unique_ptr<Communicator> comm_;
};

TEST_F(NcclCommunicatorTest, Identity) {
  int rank = -1;
  int size = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  EXPECT_EQ(comm_->backend(), "nccl");
  EXPECT_EQ(comm_->rank(), rank);
  EXPECT_EQ(comm_->size(), size);
}

TEST_F(NcclCommunicatorTest, AllReduceEveryOp) {
  const int n = comm_->size();
  const int r = comm_->rank();
  constexpr int kElements = 5;
  // Element i on rank r: (r + 1)(i + 1), negated at odd i; sums are +-(i + 1)n(n + 1)/2.
  std::vector<float> floats;
  std::vector<int64_t> ints;
  for (int i = 0; i < kElements; ++i) {
    const int sign = i % 2 == 1 ? -1 : 1;
    floats.push_back(static_cast<float>(sign * (r + 1) * (i + 1)));
    ints.push_back(sign * (r + 1) * (i + 1));
  }
  for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kAverage, ReduceOp::kMax, ReduceOp::kMin}) {
    DeviceBuffer<float> f(floats);
    DeviceBuffer<int64_t> d(ints);
    comm_->AllReduce(f.data(), f.size(), DataType::kFloat32, op);
    comm_->AllReduce(d.data(), d.size(), DataType::kInt64, op);
    const std::vector<float> f_out = f.ToHost();
    const std::vector<int64_t> d_out = d.ToHost();
    for (int i = 0; i < kElements; ++i) {
      const int sign = i % 2 == 1 ? -1 : 1;
      const int64_t sum = sign * (i + 1) * n * (n + 1) / 2;
      int64_t expected = 0;
      switch (op) {
        case ReduceOp::kSum:
          expected = sum;
          break;
        case ReduceOp::kAverage:
          expected = sum / n;  // truncates toward zero, as NCCL's integer ncclAvg does
          break;
        case ReduceOp::kMax:
          expected = sign > 0 ? n * (i + 1) : -(i + 1);
          break;
        case ReduceOp::kMin:
          expected = sign > 0 ? (i + 1) : -n * (i + 1);
          break;
      }
      EXPECT_EQ(d_out[i], expected) << "op " << static_cast<int>(op) << " i " << i;
      const float expected_float =
          op == ReduceOp::kAverage ? static_cast<float>(sum) / n : static_cast<float>(expected);
      EXPECT_FLOAT_EQ(f_out[i], expected_float) << "op " << static_cast<int>(op) << " i " << i;
    }
  }
}

TEST_F(NcclCommunicatorTest, BroadcastFromEveryRoot) {
  for (int root = 0; root < comm_->size(); ++root) {
    std::vector<double> host(6, -1.0);
    if (comm_->rank() == root) {
      for (int i = 0; i < 6; ++i) host[i] = root * 100 + i;
    }
    DeviceBuffer<double> buffer(host);
    comm_->Broadcast(buffer.data(), buffer.size(), DataType::kFloat64, root);
    const std::vector<double> out = buffer.ToHost();
    for (int i = 0; i < 6; ++i) EXPECT_EQ(out[i], root * 100 + i) << "root " << root;
  }
}

// Rank r holds r % 3 elements valued r*1000 + i (ranks 0 and 3 send nothing).
std::vector<int32_t> Block(int r) {
  std::vector<int32_t> block;
  for (int i = 0; i < r % 3; ++i) block.push_back(r * 1000 + i);
  return block;
}

TEST_F(NcclCommunicatorTest, GatherVAndAllGatherVUneven) {
  const int n = comm_->size();
  std::vector<int64_t> counts;
  std::vector<int32_t> expected;
  for (int r = 0; r < n; ++r) {
    counts.push_back(r % 3);
    const std::vector<int32_t> block = Block(r);
    expected.insert(expected.end(), block.begin(), block.end());
  }
  DeviceBuffer<int32_t> send(Block(comm_->rank()));

  DeviceBuffer<int32_t> all(std::vector<int32_t>(expected.size(), -1));
  comm_->AllGatherV(send.data(), send.size(), all.data(), counts, DataType::kInt32);
  EXPECT_EQ(all.ToHost(), expected);

  // In place: only this rank's block is there beforehand.
  std::vector<int32_t> own_only(expected.size(), -1);
  int64_t own = 0;
  for (int r = 0; r < comm_->rank(); ++r) own += counts[r];
  const std::vector<int32_t> mine = Block(comm_->rank());
  std::copy(mine.begin(), mine.end(), own_only.begin() + own);
  DeviceBuffer<int32_t> in_place(own_only);
  comm_->AllGatherVInPlace(in_place.data(), counts, DataType::kInt32);
  EXPECT_EQ(in_place.ToHost(), expected);

  for (int root = 0; root < n; ++root) {
    const bool is_root = comm_->rank() == root;
    DeviceBuffer<int32_t> recv(std::vector<int32_t>(is_root ? expected.size() : 0, -1));
    comm_->GatherV(send.data(), send.size(), recv.data(), is_root ? counts : std::vector<int64_t>(),
                   DataType::kInt32, root);
    if (is_root) {
      EXPECT_EQ(recv.ToHost(), expected) << "root " << root;
    }
  }

  // Everyone empty.
  comm_->AllGatherV(nullptr, 0, nullptr, std::vector<int64_t>(n, 0), DataType::kInt32);
}

TEST_F(NcclCommunicatorTest, AllToAllVProvenance) {
  const int n = comm_->size();
  const int me = comm_->rank();
  // Rank s sends (s + 2d + 1) % 4 elements to rank d; element k is s*1e6 + d*1e3 + k.
  const auto count = [](int s, int d) { return static_cast<int64_t>((s + 2 * d + 1) % 4); };
  std::vector<int64_t> send_counts;
  std::vector<int64_t> recv_counts;
  std::vector<int64_t> send;
  std::vector<int64_t> expected;
  for (int j = 0; j < n; ++j) {
    send_counts.push_back(count(me, j));
    recv_counts.push_back(count(j, me));
    for (int k = 0; k < count(me, j); ++k) send.push_back(me * 1000000 + j * 1000 + k);
    for (int k = 0; k < count(j, me); ++k) expected.push_back(j * 1000000 + me * 1000 + k);
  }
  DeviceBuffer<int64_t> send_buffer(send);
  DeviceBuffer<int64_t> recv_buffer(std::vector<int64_t>(expected.size(), -1));
  comm_->AllToAllV(send_buffer.data(), send_counts, recv_buffer.data(), recv_counts,
                   DataType::kInt64);
  EXPECT_EQ(recv_buffer.ToHost(), expected);
  comm_->Barrier();
}

TEST_F(NcclCommunicatorTest, RootOutOfRange) {
  try {
    comm_->Broadcast(nullptr, 0, DataType::kFloat32, comm_->size());
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("NcclCommunicator::Broadcast"), std::string::npos)
        << e.what();
  }
}

// Payload sweep: a sum all-reduce over sizes from empty to 4M floats.
class NcclPayloadTest : public NcclCommunicatorTest, public testing::WithParamInterface<size_t> {};

TEST_P(NcclPayloadTest, AllReduceSum) {
  const size_t count = GetParam();
  const int n = comm_->size();
  std::vector<float> host(count);
  for (size_t i = 0; i < count; ++i) host[i] = static_cast<float>(comm_->rank() + i % 7);
  DeviceBuffer<float> buffer(host);
  comm_->AllReduce(buffer.data(), count, DataType::kFloat32, ReduceOp::kSum);
  const std::vector<float> out = buffer.ToHost();
  for (size_t i = 0; i < count; ++i) {
    const float expected = static_cast<float>(n * (n - 1) / 2 + n * (i % 7));
    if (out[i] != expected) {
      ADD_FAILURE() << "element " << i << ": " << out[i] << " != " << expected;
      break;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, NcclPayloadTest,
                         testing::Values(size_t{0}, size_t{1}, size_t{1000}, size_t{1} << 22));

}  // namespace
}  // namespace recsys::dist
