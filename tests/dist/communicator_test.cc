// Every Communicator operation on the MPI backend, run under mpiexec -n 1, 2 and 4, against
// values computed by hand from rank and size. Each test makes the same collective calls in the
// same order on every rank; checks use EXPECT so a failure on one rank does not leave the others
// waiting in a collective.

#include "dist/communicator.h"

#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "dist/mpi_communicator.h"
#include "dist/process_env.h"
#include "tests/dist/dist_test_util.h"

namespace recsys::dist {
namespace {

using testing_util::ExpectErrorContaining;
using testing_util::RankText;

// ---- All-reduce and broadcast on every type ----------------------------------------------------

template <typename T>
class TypedCollectiveTest : public testing::Test {
 protected:
  MpiCommunicator comm_{MPI_COMM_WORLD};
};
using AllTypes = testing::Types<float, double, int64_t, int32_t, uint8_t>;
TYPED_TEST_SUITE(TypedCollectiveTest, AllTypes);

constexpr int kElements = 5;

// Element i on rank r: (r + 1) * (i + 1), negated at odd i for signed types, so that the minimum
// and the maximum come from opposite ends of the rank range at odd and even i.
template <typename T>
T Value(int r, int i) {
  T v = static_cast<T>((r + 1) * (i + 1));
  if constexpr (std::is_signed_v<T>) {
    if (i % 2 == 1) v = static_cast<T>(-v);
  }
  return v;
}

template <typename T>
std::vector<T> LocalValues(int rank) {
  std::vector<T> values;
  for (int i = 0; i < kElements; ++i) values.push_back(Value<T>(rank, i));
  return values;
}

TYPED_TEST(TypedCollectiveTest, AllReduceEveryOp) {
  using T = TypeParam;
  const int n = this->comm_.size();
  const int r = this->comm_.rank();
  for (int i = 0; i < kElements; ++i) {
    // Closed forms: sum over r of (r + 1) is n(n + 1)/2.
    const bool negative = std::is_signed_v<T> && i % 2 == 1;
    const T sign = static_cast<T>(negative ? -1 : 1);
    const T sum = static_cast<T>(sign * (i + 1) * n * (n + 1) / 2);
    const T average = static_cast<T>(sum / static_cast<T>(n));  // integers truncate toward 0
    const T largest = static_cast<T>(negative ? -(i + 1) : n * (i + 1));
    const T smallest = static_cast<T>(negative ? -n * (i + 1) : (i + 1));

    std::vector<T> values = LocalValues<T>(r);
    AllReduce(this->comm_, values, ReduceOp::kSum);
    EXPECT_EQ(values[i], sum) << "sum, i=" << i;
    values = LocalValues<T>(r);
    AllReduce(this->comm_, values, ReduceOp::kAverage);
    EXPECT_EQ(values[i], average) << "average, i=" << i;
    values = LocalValues<T>(r);
    AllReduce(this->comm_, values, ReduceOp::kMax);
    EXPECT_EQ(values[i], largest) << "max, i=" << i;
    values = LocalValues<T>(r);
    AllReduce(this->comm_, values, ReduceOp::kMin);
    EXPECT_EQ(values[i], smallest) << "min, i=" << i;
  }
}

TYPED_TEST(TypedCollectiveTest, AllReduceValue) {
  using T = TypeParam;
  const int n = this->comm_.size();
  EXPECT_EQ(AllReduceValue(this->comm_, static_cast<T>(this->comm_.rank() + 1)),
            static_cast<T>(n * (n + 1) / 2));
  EXPECT_EQ(AllReduceValue(this->comm_, static_cast<T>(this->comm_.rank()), ReduceOp::kMax),
            static_cast<T>(n - 1));
}

TYPED_TEST(TypedCollectiveTest, BroadcastFromEveryRoot) {
  using T = TypeParam;
  for (int root = 0; root < this->comm_.size(); ++root) {
    std::vector<T> values =
        this->comm_.rank() == root ? LocalValues<T>(root) : std::vector<T>(kElements, T{0});
    this->comm_.Broadcast(values.data(), values.size(), DataTypeOf<T>(), root);
    EXPECT_EQ(values, LocalValues<T>(root)) << "root " << root;

    // The typed helper also sends the length: only root's vector has one.
    std::vector<T> resized = this->comm_.rank() == root
                                 ? std::vector<T>(root + 3, static_cast<T>(root + 1))
                                 : std::vector<T>();
    Broadcast(this->comm_, resized, root);
    EXPECT_EQ(resized, std::vector<T>(root + 3, static_cast<T>(root + 1))) << "root " << root;
  }
}

TEST(AllReduceTest, IntegerAverageTruncatesTowardZero) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  // Rank r contributes r + 1 and -(r + 1); sums are +-n(n + 1)/2. By hand:
  //   n = 1: 1/1 = 1, -1/1 = -1;  n = 2: 3/2 = 1, -3/2 = -1 (not -2);
  //   n = 4: 10/4 = 2, -10/4 = -2 (not -3).
  const int n = comm.size();
  if (n != 1 && n != 2 && n != 4) GTEST_SKIP() << "hand values exist for 1, 2 and 4 ranks";
  const int64_t positive = n == 4 ? 2 : 1;
  std::vector<int64_t> values64 = {comm.rank() + 1, -(comm.rank() + 1)};
  AllReduce(comm, values64, ReduceOp::kAverage);
  EXPECT_EQ(values64, (std::vector<int64_t>{positive, -positive}));
  std::vector<int32_t> values32 = {comm.rank() + 1, -(comm.rank() + 1)};
  AllReduce(comm, values32, ReduceOp::kAverage);
  EXPECT_EQ(values32, (std::vector<int32_t>{static_cast<int32_t>(positive),
                                            static_cast<int32_t>(-positive)}));
}

TEST(AllReduceTest, EmptyBufferIsANoOp) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  comm.AllReduce(nullptr, 0, DataType::kFloat32, ReduceOp::kAverage);
  comm.Broadcast(nullptr, 0, DataType::kInt64, comm.size() - 1);
  std::vector<double> empty;
  AllReduce(comm, empty);
  Broadcast(comm, empty, 0);
  EXPECT_TRUE(empty.empty());
}

// ---- Gathers -----------------------------------------------------------------------------------

// Uneven blocks with empty ones: rank r has r % 3 elements (0, 1, 2, 0, ...), valued r*1000 + i.
std::vector<int64_t> GatherBlock(int r) {
  std::vector<int64_t> block;
  for (int i = 0; i < r % 3; ++i) block.push_back(r * 1000 + i);
  return block;
}

std::vector<int64_t> AllGatherBlocks(int size) {
  std::vector<int64_t> all;
  for (int r = 0; r < size; ++r) {
    const std::vector<int64_t> block = GatherBlock(r);
    all.insert(all.end(), block.begin(), block.end());
  }
  return all;
}

std::vector<int64_t> BlockCounts(int size) {
  std::vector<int64_t> counts;
  for (int r = 0; r < size; ++r) counts.push_back(r % 3);
  return counts;
}

TEST(GatherVTest, UnevenBlocksToEveryRoot) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  const std::vector<int64_t> local = GatherBlock(comm.rank());
  const std::vector<int64_t> expected = AllGatherBlocks(comm.size());
  for (int root = 0; root < comm.size(); ++root) {
    const bool is_root = comm.rank() == root;
    std::vector<int64_t> recv(is_root ? expected.size() : 0, -1);
    const std::vector<int64_t> counts = is_root ? BlockCounts(comm.size()) : std::vector<int64_t>();
    comm.GatherV(local.data(), local.size(), is_root ? recv.data() : nullptr, counts,
                 DataType::kInt64, root);
    if (is_root) {
      EXPECT_EQ(recv, expected) << "root " << root;
    }

    const std::vector<int64_t> helper = GatherV(comm, local, root);
    EXPECT_EQ(helper, is_root ? expected : std::vector<int64_t>()) << "root " << root;
  }
}

TEST(GatherVTest, AllEmpty) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  const int root = comm.size() - 1;
  const std::vector<int64_t> counts(comm.rank() == root ? comm.size() : 0, 0);
  comm.GatherV(nullptr, 0, nullptr, counts, DataType::kFloat64, root);
  EXPECT_TRUE(GatherV(comm, std::vector<float>(), root).empty());
}

TEST(AllGatherVTest, UnevenBlocks) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  const std::vector<int64_t> local = GatherBlock(comm.rank());
  const std::vector<int64_t> expected = AllGatherBlocks(comm.size());
  std::vector<int64_t> recv(expected.size(), -1);
  comm.AllGatherV(local.data(), local.size(), recv.data(), BlockCounts(comm.size()),
                  DataType::kInt64);
  EXPECT_EQ(recv, expected);
  EXPECT_EQ(AllGatherV(comm, local), expected);

  // Another type through the helper: rank r's r % 3 floats valued r + 0.5.
  std::vector<float> floats(comm.rank() % 3, comm.rank() + 0.5f);
  std::vector<float> expected_floats;
  for (int r = 0; r < comm.size(); ++r)
    expected_floats.insert(expected_floats.end(), r % 3, r + 0.5f);
  EXPECT_EQ(AllGatherV(comm, floats), expected_floats);
}

TEST(AllGatherVTest, InPlaceKeepsOwnBlockAndFillsTheOthers) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  const std::vector<int64_t> counts = BlockCounts(comm.size());
  const std::vector<int64_t> expected = AllGatherBlocks(comm.size());
  // Only this rank's block is written beforehand; -1 elsewhere must all be overwritten.
  std::vector<int64_t> recv(expected.size(), -1);
  int64_t own = 0;
  for (int r = 0; r < comm.rank(); ++r) own += counts[r];
  const std::vector<int64_t> local = GatherBlock(comm.rank());
  std::copy(local.begin(), local.end(), recv.begin() + own);
  comm.AllGatherVInPlace(recv.data(), counts, DataType::kInt64);
  EXPECT_EQ(recv, expected);
  comm.AllGatherVInPlace(nullptr, std::vector<int64_t>(comm.size(), 0), DataType::kInt64);
  const std::vector<int64_t> one_too_many(comm.size() + 1, 0);
  ExpectErrorContaining(
      [&] { comm.AllGatherVInPlace(recv.data(), one_too_many, DataType::kInt64); },
      {"MpiCommunicator::AllGatherVInPlace", "recv_counts", RankText()});
}

TEST(AllGatherVTest, AllEmpty) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  comm.AllGatherV(nullptr, 0, nullptr, std::vector<int64_t>(comm.size(), 0), DataType::kUInt8);
  EXPECT_TRUE(AllGatherV(comm, std::vector<int32_t>()).empty());
}

TEST(AllGatherCountsTest, EveryRanksCount) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  std::vector<int64_t> expected;
  for (int r = 0; r < comm.size(); ++r) expected.push_back(r * r + 1);
  EXPECT_EQ(AllGatherCounts(comm, comm.rank() * comm.rank() + 1), expected);
}

// ---- All-to-all --------------------------------------------------------------------------------

// Rank s sends (s + 2d + 1) % 4 elements to rank d: uneven, with empty blocks from 2 ranks up.
int64_t SendCount(int s, int d) { return (s + 2 * d + 1) % 4; }
// Element k of the block from rank s to rank d records where it came from and went to.
int64_t Provenance(int s, int d, int k) { return s * 1000000 + d * 1000 + k; }

TEST(AllToAllVTest, EveryElementArrivesFromItsSender) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  const int me = comm.rank();
  std::vector<int64_t> send_counts;
  std::vector<int64_t> send;
  for (int d = 0; d < comm.size(); ++d) {
    send_counts.push_back(SendCount(me, d));
    for (int k = 0; k < SendCount(me, d); ++k) send.push_back(Provenance(me, d, k));
  }
  const std::vector<int64_t> recv_counts = ExchangeCounts(comm, send_counts);
  std::vector<int64_t> expected_counts;
  std::vector<int64_t> expected;
  for (int s = 0; s < comm.size(); ++s) {
    expected_counts.push_back(SendCount(s, me));
    for (int k = 0; k < SendCount(s, me); ++k) expected.push_back(Provenance(s, me, k));
  }
  EXPECT_EQ(recv_counts, expected_counts);

  std::vector<int64_t> recv(expected.size(), -1);
  comm.AllToAllV(send.data(), send_counts, recv.data(), expected_counts, DataType::kInt64);
  EXPECT_EQ(recv, expected);

  // The same exchange in float32 (values are small integers, exact in float).
  std::vector<float> send_f(send.begin(), send.end());
  for (float& v : send_f) v = static_cast<float>(static_cast<int64_t>(v) % 1000000);
  std::vector<float> recv_f(expected.size(), -1.0f);
  comm.AllToAllV(send_f.data(), send_counts, recv_f.data(), expected_counts, DataType::kFloat32);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(recv_f[i], static_cast<float>(expected[i] % 1000000)) << "element " << i;
  }
}

TEST(AllToAllVTest, AllEmpty) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  const std::vector<int64_t> zeros(comm.size(), 0);
  comm.AllToAllV(nullptr, zeros, nullptr, zeros, DataType::kFloat64);
  EXPECT_EQ(ExchangeCounts(comm, zeros), zeros);
}

TEST(ExchangeCountsTest, TransposesTheCountMatrix) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  std::vector<int64_t> send_counts;
  std::vector<int64_t> expected;
  for (int j = 0; j < comm.size(); ++j) {
    send_counts.push_back(10 * comm.rank() + j);
    expected.push_back(10 * j + comm.rank());
  }
  EXPECT_EQ(ExchangeCounts(comm, send_counts), expected);
}

// ---- Barrier -----------------------------------------------------------------------------------

TEST(BarrierTest, NoRankLeavesBeforeEveryRankEntered) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  // Stagger the arrivals, then compare steady_clock readings, which all processes on one host
  // share (CLOCK_MONOTONIC): the last arrival must precede the first departure.
  std::this_thread::sleep_for(std::chrono::milliseconds(20 * comm.rank()));
  const auto now_ns = [] {
    return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::steady_clock::now().time_since_epoch())
                                    .count());
  };
  const int64_t entered = now_ns();
  comm.Barrier();
  const int64_t left = now_ns();

  const std::vector<int64_t> entries = GatherV(comm, std::vector<int64_t>{entered}, 0);
  const std::vector<int64_t> exits = GatherV(comm, std::vector<int64_t>{left}, 0);
  const std::vector<std::string> hosts = GatherStrings(comm, {HostName()}, 0);
  if (comm.rank() != 0) return;
  for (const std::string& host : hosts) {
    if (host != hosts[0]) GTEST_SKIP() << "ranks on several hosts: clocks are not comparable";
  }
  int64_t last_entry = entries[0];
  int64_t first_exit = exits[0];
  for (int r = 0; r < comm.size(); ++r) {
    last_entry = std::max(last_entry, entries[r]);
    first_exit = std::min(first_exit, exits[r]);
  }
  EXPECT_LE(last_entry, first_exit);
}

// ---- Strings -----------------------------------------------------------------------------------

// Odd ranks contribute nothing; even ranks an empty string, ASCII, UTF-8 and an embedded NUL.
std::vector<std::string> LocalStrings(int r) {
  if (r % 2 == 1) return {};
  return {"", "rank " + std::to_string(r), "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5",
          std::string(r + 1, 'x') + std::string("\0tail", 5)};
}

TEST(GatherStringsTest, InRankOrderOnEveryRoot) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  std::vector<std::string> expected;
  for (int r = 0; r < comm.size(); ++r) {
    const std::vector<std::string> strings = LocalStrings(r);
    expected.insert(expected.end(), strings.begin(), strings.end());
  }
  for (int root = 0; root < comm.size(); ++root) {
    const std::vector<std::string> gathered = GatherStrings(comm, LocalStrings(comm.rank()), root);
    EXPECT_EQ(gathered, comm.rank() == root ? expected : std::vector<std::string>())
        << "root " << root;
  }
  // Nobody has anything.
  EXPECT_TRUE(GatherStrings(comm, {}, 0).empty());
}

// ---- Errors: each bad argument is the same on every rank, so every rank throws ------------------

TEST(CommunicatorErrorTest, RootOutOfRangeNamesOperationAndRank) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  double value = 1.0;
  for (int bad_root : {comm.size(), -1}) {
    ExpectErrorContaining(
        [&] { comm.Broadcast(&value, 1, DataType::kFloat64, bad_root); },
        {"MpiCommunicator::Broadcast", "root " + std::to_string(bad_root) + " is out of range",
         RankText(), "on host " + HostName(), "dist/check.cc:"});
    ExpectErrorContaining(
        [&] {
          comm.GatherV(&value, 1, &value, std::vector<int64_t>(comm.size(), 1), DataType::kFloat64,
                       bad_root);
        },
        {"MpiCommunicator::GatherV", "out of range", RankText()});
    ExpectErrorContaining([&] { GatherStrings(comm, {"a"}, bad_root); },
                          {"MpiCommunicator::GatherV", "out of range", RankText()});
  }
  // The communicator is still in step on every rank after the errors.
  EXPECT_EQ(AllReduceValue(comm, 1), comm.size());
}

TEST(CommunicatorErrorTest, BadCountVectors) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  const int n = comm.size();
  ExpectErrorContaining(
      [&] {
        comm.AllGatherV(nullptr, 0, nullptr, std::vector<int64_t>(n + 1, 0), DataType::kInt32);
      },
      {"MpiCommunicator::AllGatherV", "recv_counts has " + std::to_string(n + 1) + " entries",
       RankText()});
  std::vector<int64_t> negative(n, 0);
  negative[0] = -2;
  ExpectErrorContaining([&] { comm.AllGatherV(nullptr, 0, nullptr, negative, DataType::kInt32); },
                        {"MpiCommunicator::AllGatherV", "recv_counts[0] = -2 < 0", RankText()});
  ExpectErrorContaining(
      [&] {
        comm.AllToAllV(nullptr, std::vector<int64_t>(n, 0), nullptr, std::vector<int64_t>(),
                       DataType::kInt32);
      },
      {"MpiCommunicator::AllToAllV", "recv_counts has 0 entries", RankText()});
  ExpectErrorContaining([&] { ExchangeCounts(comm, std::vector<int64_t>(n + 2, 1)); },
                        {"ExchangeCounts", "send_counts has", RankText()});
  EXPECT_EQ(AllReduceValue(comm, 1), comm.size());
}

TEST(DataTypeTest, SizesAndNames) {
  EXPECT_EQ(SizeOf(DataType::kUInt8), 1u);
  EXPECT_EQ(SizeOf(DataType::kInt32), 4u);
  EXPECT_EQ(SizeOf(DataType::kInt64), 8u);
  EXPECT_EQ(SizeOf(DataType::kFloat32), 4u);
  EXPECT_EQ(SizeOf(DataType::kFloat64), 8u);
  EXPECT_STREQ(Name(DataType::kUInt8), "uint8");
  EXPECT_STREQ(Name(DataType::kInt32), "int32");
  EXPECT_STREQ(Name(DataType::kInt64), "int64");
  EXPECT_STREQ(Name(DataType::kFloat32), "float32");
  EXPECT_STREQ(Name(DataType::kFloat64), "float64");
}

}  // namespace
}  // namespace recsys::dist
