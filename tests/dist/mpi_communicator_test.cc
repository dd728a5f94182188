// What is particular to MpiCommunicator: its private duplicate communicator, MPI errors turned
// into exceptions, and buffers split at max_chunk elements.

#include "dist/mpi_communicator.h"

#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "dist/check.h"
#include "dist/process_env.h"
#include "tests/dist/dist_test_util.h"

namespace recsys::dist {
namespace {

using testing_util::ExpectErrorContaining;
using testing_util::RankText;

TEST(MpiCommunicatorTest, UsesADuplicateWithErrorsReturned) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  EXPECT_EQ(comm.backend(), "mpi");
  int rank = -1;
  int size = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  EXPECT_EQ(comm.rank(), rank);
  EXPECT_EQ(comm.size(), size);

  // Same group and order, different context: a duplicate, not MPI_COMM_WORLD itself.
  int compare = MPI_UNEQUAL;
  MPI_Comm_compare(comm.mpi_comm(), MPI_COMM_WORLD, &compare);
  EXPECT_EQ(compare, MPI_CONGRUENT);
  MpiCommunicator other(MPI_COMM_WORLD);
  MPI_Comm_compare(comm.mpi_comm(), other.mpi_comm(), &compare);
  EXPECT_EQ(compare, MPI_CONGRUENT);

  MPI_Errhandler handler = MPI_ERRHANDLER_NULL;
  MPI_Comm_get_errhandler(comm.mpi_comm(), &handler);
  EXPECT_EQ(handler, MPI_ERRORS_RETURN);
  MPI_Errhandler_free(&handler);
}

TEST(MpiCommunicatorTest, MessagesOnTheDuplicateDoNotMatchTheOriginal) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  // Rank 0 sends 1 on the duplicate, then 2 on MPI_COMM_WORLD, same tag, to the last rank (itself
  // on one rank). MPI keeps messages between two ranks in order only within one communicator, so
  // a receive on MPI_COMM_WORLD must get 2 although 1 was sent first.
  const int sender = 0;
  const int receiver = comm.size() - 1;
  constexpr int kTag = 7;
  int on_dup = 1;
  int on_world = 2;
  MPI_Request requests[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
  if (comm.rank() == sender) {
    MPI_Isend(&on_dup, 1, MPI_INT, receiver, kTag, comm.mpi_comm(), &requests[0]);
    MPI_Isend(&on_world, 1, MPI_INT, receiver, kTag, MPI_COMM_WORLD, &requests[1]);
  }
  if (comm.rank() == receiver) {
    int value = 0;
    MPI_Recv(&value, 1, MPI_INT, sender, kTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    EXPECT_EQ(value, 2);
    MPI_Recv(&value, 1, MPI_INT, sender, kTag, comm.mpi_comm(), MPI_STATUS_IGNORE);
    EXPECT_EQ(value, 1);
  }
  MPI_Waitall(2, requests, MPI_STATUSES_IGNORE);
}

TEST(MpiCommunicatorTest, MpiErrorBecomesAnExceptionNamingTheCall) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  // A send to a rank that does not exist fails locally (MPI_ERR_RANK) on every rank, and returns
  // because the duplicate has MPI_ERRORS_RETURN; under MPI_ERRORS_ARE_FATAL the job would abort.
  ExpectErrorContaining(
      [&] { RECSYS_MPI_CHECK(MPI_Send(nullptr, 0, MPI_INT, comm.size(), 0, comm.mpi_comm())); },
      {"MPI_Send failed: ", "MPI_ERR_RANK", RankText(), "on host " + HostName(),
       "mpi_communicator_test.cc:"});
  EXPECT_EQ(AllReduceValue(comm, 1), comm.size());
}

TEST(MpiCommunicatorTest, ZeroMaxChunkIsRefused) {
  ExpectErrorContaining([&] { MpiCommunicator(MPI_COMM_WORLD, CollectiveTimeouts(), 0); },
                        {"MpiCommunicator", "max_chunk 0", RankText()});
}

// Payload size x chunk size: every collective gives the same answers however its buffers are
// split into MPI calls (kMaxChunk: one call). A small max_chunk stands in for INT_MAX, so the
// paths that 50M products take past an int run here on a few elements.
class ChunkedTest : public testing::TestWithParam<std::tuple<size_t, size_t>> {};

TEST_P(ChunkedTest, AllReduceAndBroadcast) {
  const auto [count, max_chunk] = GetParam();
  MpiCommunicator comm(MPI_COMM_WORLD, CollectiveTimeouts(), max_chunk);
  const int n = comm.size();
  // Element i on rank r: r * 3 + i, so the sum is 3n(n - 1)/2 + n*i and the max 3(n - 1) + i.
  std::vector<double> sum(count);
  std::vector<int64_t> largest(count);
  for (size_t i = 0; i < count; ++i) {
    sum[i] = comm.rank() * 3.0 + i;
    largest[i] = comm.rank() * 3 + static_cast<int64_t>(i);
  }
  AllReduce(comm, sum);
  AllReduce(comm, largest, ReduceOp::kMax);
  for (size_t i = 0; i < count; ++i) {
    EXPECT_EQ(sum[i], 3.0 * n * (n - 1) / 2 + static_cast<double>(n) * i) << "i=" << i;
    EXPECT_EQ(largest[i], 3 * (n - 1) + static_cast<int64_t>(i)) << "i=" << i;
  }

  const int root = n - 1;
  std::vector<float> values(count, -1.0f);
  if (comm.rank() == root) {
    for (size_t i = 0; i < count; ++i) values[i] = static_cast<float>(i) + 0.25f;
  }
  comm.Broadcast(values.data(), values.size(), DataType::kFloat32, root);
  for (size_t i = 0; i < count; ++i) EXPECT_EQ(values[i], static_cast<float>(i) + 0.25f);
}

// Rank r contributes count + r elements, element i being r * 1000 + i.
std::vector<int32_t> BlockOf(int rank, size_t count) {
  std::vector<int32_t> block(count + rank);
  for (size_t i = 0; i < block.size(); ++i) block[i] = rank * 1000 + static_cast<int32_t>(i);
  return block;
}

TEST_P(ChunkedTest, GatherAndAllGatherUnevenBlocks) {
  const auto [count, max_chunk] = GetParam();
  MpiCommunicator comm(MPI_COMM_WORLD, CollectiveTimeouts(), max_chunk);
  std::vector<int64_t> counts;
  std::vector<int32_t> expected;
  for (int r = 0; r < comm.size(); ++r) {
    const std::vector<int32_t> block = BlockOf(r, count);
    counts.push_back(static_cast<int64_t>(block.size()));
    expected.insert(expected.end(), block.begin(), block.end());
  }
  const std::vector<int32_t> mine = BlockOf(comm.rank(), count);

  const int root = comm.size() - 1;
  std::vector<int32_t> gathered(comm.rank() == root ? expected.size() : 0, -1);
  comm.GatherV(mine.data(), mine.size(), gathered.data(), counts, DataType::kInt32, root);
  if (comm.rank() == root) EXPECT_EQ(gathered, expected);

  std::vector<int32_t> all(expected.size(), -1);
  comm.AllGatherV(mine.data(), mine.size(), all.data(), counts, DataType::kInt32);
  EXPECT_EQ(all, expected);

  std::vector<int32_t> in_place(expected.size(), -1);
  size_t offset = 0;
  for (int r = 0; r < comm.rank(); ++r) offset += counts[r];
  std::copy(mine.begin(), mine.end(), in_place.begin() + offset);
  comm.AllGatherVInPlace(in_place.data(), counts, DataType::kInt32);
  EXPECT_EQ(in_place, expected);
}

TEST_P(ChunkedTest, AllToAllUnevenBlocks) {
  const auto [count, max_chunk] = GetParam();
  MpiCommunicator comm(MPI_COMM_WORLD, CollectiveTimeouts(), max_chunk);
  const int n = comm.size();
  // Rank s sends count + s + t elements to rank t, element i being s * 1e6 + t * 1e3 + i.
  auto message = [count = count](int s, int t) {
    std::vector<int32_t> m(count + s + t);
    for (size_t i = 0; i < m.size(); ++i) m[i] = s * 1000000 + t * 1000 + static_cast<int32_t>(i);
    return m;
  };
  std::vector<int32_t> send, expected;
  std::vector<int64_t> send_counts, recv_counts;
  for (int t = 0; t < n; ++t) {
    const std::vector<int32_t> out = message(comm.rank(), t);
    send.insert(send.end(), out.begin(), out.end());
    send_counts.push_back(static_cast<int64_t>(out.size()));
    const std::vector<int32_t> in = message(t, comm.rank());
    expected.insert(expected.end(), in.begin(), in.end());
    recv_counts.push_back(static_cast<int64_t>(in.size()));
  }
  EXPECT_EQ(ExchangeCounts(comm, send_counts), recv_counts);
  std::vector<int32_t> recv(expected.size(), -1);
  comm.AllToAllV(send.data(), send_counts, recv.data(), recv_counts, DataType::kInt32);
  EXPECT_EQ(recv, expected);
}

INSTANTIATE_TEST_SUITE_P(
    PayloadByChunk, ChunkedTest,
    testing::Combine(testing::Values(size_t{0}, size_t{1}, size_t{7}, size_t{1000}),
                     testing::Values(size_t{1}, size_t{3}, MpiCommunicator::kMaxChunk)));

}  // namespace
}  // namespace recsys::dist
