#include "dist/data_parallel.h"

#include <gtest/gtest.h>
#include <mpi.h>

#include "core/error.h"
#include "dist/mpi_communicator.h"

namespace recsys::dist {
namespace {

class DataParallelTest : public ::testing::Test {
 protected:
  MpiCommunicator comm_{MPI_COMM_WORLD};
  int rank_ = comm_.rank();
  int world_ = comm_.size();
};

TEST_F(DataParallelTest, BroadcastModuleCopiesRootsParameters) {
  torch::manual_seed(100 + rank_);  // every rank draws different weights
  torch::nn::Linear linear(4, 3);
  BroadcastModule(*linear, comm_, 0);
  torch::manual_seed(100);
  torch::nn::Linear root(4, 3);
  EXPECT_TRUE(torch::equal(linear->weight, root->weight));
  EXPECT_TRUE(torch::equal(linear->bias, root->bias));
}

TEST_F(DataParallelTest, AllReduceSumFusesMixedTensorsIntoBuckets) {
  const double r = rank_ + 1;
  std::vector<torch::Tensor> tensors = {
      torch::full({3}, r), torch::full({2, 2}, r, torch::kFloat64), torch::full({5}, r),
      torch::full({1}, r, torch::kFloat64), torch::full({40}, r)};
  // 16-byte buckets: some tensors share one, the 160-byte one travels alone.
  AllReduceSum(tensors, comm_, 16);
  const double sum = world_ * (world_ + 1) / 2.0;
  for (const torch::Tensor& t : tensors) {
    EXPECT_TRUE(torch::all(t == sum).item<bool>()) << t;
  }
}

TEST(OwnedRowsTest, BlocksCoverTheTableInRankOrder) {
  for (int64_t rows : {0, 1, 3, 7, 8, 262144}) {
    for (int world : {1, 2, 3, 4, 8}) {
      int64_t next = 0;
      for (int r = 0; r < world; ++r) {
        const Slice owned = OwnedRows(rows, r, world);
        EXPECT_EQ(owned.begin, next) << rows << " rows, rank " << r << " of " << world;
        EXPECT_LE(owned.begin, owned.end);
        EXPECT_LE(owned.end - owned.begin, (rows + world - 1) / world);
        next = owned.end;
      }
      EXPECT_EQ(next, rows);
    }
  }
  EXPECT_EQ(OwnedRows(10, 1, 4).begin, 3);
  EXPECT_EQ(OwnedRows(10, 3, 4).end - OwnedRows(10, 3, 4).begin, 1);
  EXPECT_THROW(OwnedRows(10, 4, 4), Error);
  EXPECT_THROW(OwnedRows(-1, 0, 1), Error);
}

// Every rank's result, summed densely over the ranks (each row has one owner, so this is the
// union of the owners' rows).
torch::Tensor SumOverRanks(const torch::Tensor& t, Communicator& comm) {
  torch::Tensor dense = t.to_dense().contiguous();
  AllReduceSum({dense}, comm, 1 << 20);
  return dense;
}

TEST_F(DataParallelTest, SparseRowsAreSummedOnTheirOwnersOnly) {
  // Table 0 (float, 2 wide): rank r touches rows r (twice, uncoalesced) and r + 1, value r + 1
  // per touch; the last rank touches nothing. Table 1 (double, 3 wide): only rank 0 touches
  // row 4; nobody touches table 2.
  const std::vector<torch::Tensor> tables = {
      torch::zeros({world_ + 2, 2}), torch::zeros({5, 3}, torch::kFloat64), torch::zeros({7, 1})};
  std::vector<torch::Tensor> local(3);
  if (rank_ != world_ - 1 || world_ == 1) {
    local[0] = torch::sparse_coo_tensor(torch::tensor({{rank_, rank_, rank_ + 1}}),
                                        torch::full({3, 2}, rank_ + 1.0), tables[0].sizes());
  }
  if (rank_ == 0) {
    local[1] = torch::sparse_coo_tensor(torch::tensor({{4}}),
                                        torch::full({1, 3}, 0.5, torch::kFloat64), {5, 3});
  }
  const std::vector<torch::Tensor> owned = ReduceScatterSparseRows(local, tables, comm_);
  ASSERT_EQ(owned.size(), 3u);
  for (size_t t = 0; t < owned.size(); ++t) {
    ASSERT_TRUE(owned[t].is_sparse() && owned[t].is_coalesced());
    const Slice mine = OwnedRows(tables[t].size(0), rank_, world_);
    const torch::Tensor rows = owned[t]._indices().reshape({-1});
    EXPECT_TRUE(torch::all((rows >= mine.begin) & (rows < mine.end)).item<bool>())
        << "table " << t << " rank " << rank_ << " got rows " << rows;
  }
  torch::Tensor expected = torch::zeros({world_ + 2, 2});
  const int contributors = world_ == 1 ? 1 : world_ - 1;
  for (int r = 0; r < contributors; ++r) {
    expected[r] += 2.0 * (r + 1);
    expected[r + 1] += r + 1.0;
  }
  EXPECT_TRUE(torch::equal(SumOverRanks(owned[0], comm_), expected));
  // Only touched rows are returned: contributors + 1 of them over all owners.
  EXPECT_EQ(AllReduceValue<int64_t>(comm_, owned[0]._nnz()), contributors + 1);
  torch::Tensor expected1 = torch::zeros({5, 3}, torch::kFloat64);
  expected1[4] = 0.5;
  EXPECT_TRUE(torch::equal(SumOverRanks(owned[1], comm_), expected1));
  EXPECT_EQ(owned[2]._nnz(), 0);
}

TEST_F(DataParallelTest, SparseRowSumsAreTheSameAsOnOneRank) {
  // Many random touches of a 50-row table: the owners' sums equal one process's coalesce.
  torch::manual_seed(3);
  std::vector<torch::Tensor> all_indices, all_values;
  for (int r = 0; r < world_; ++r) {
    all_indices.push_back(torch::randint(50, {200}, torch::kInt64));
    all_values.push_back(torch::randn({200, 4}, torch::kFloat64));
  }
  const torch::Tensor table = torch::zeros({50, 4}, torch::kFloat64);
  const torch::Tensor mine =
      torch::sparse_coo_tensor(all_indices[rank_].unsqueeze(0), all_values[rank_], table.sizes());
  const torch::Tensor owned = ReduceScatterSparseRows({mine}, {table}, comm_)[0];
  const torch::Tensor reference = torch::sparse_coo_tensor(torch::cat(all_indices).unsqueeze(0),
                                                           torch::cat(all_values), table.sizes());
  EXPECT_TRUE(torch::allclose(SumOverRanks(owned, comm_), reference.to_dense(), 1e-12, 1e-12));
}

TEST_F(DataParallelTest, UpdatedRowsReachEveryRank) {
  // Rank r "updates" the even rows of its block to r + 1, writing them into its own table and
  // into the message; the other rows keep their own value (rank-specific here, to show they are
  // not touched).
  std::vector<torch::Tensor> tables = {torch::full({9, 2}, -1.0 - rank_),
                                       torch::full({3, 5}, -1.0 - rank_, torch::kFloat64)};
  std::vector<torch::Tensor> updated;
  for (torch::Tensor& table : tables) {
    const Slice mine = OwnedRows(table.size(0), rank_, world_);
    std::vector<int64_t> rows;
    for (int64_t row = mine.begin; row < mine.end; ++row) {
      if (row % 2 == 0) rows.push_back(row);
    }
    for (int64_t row : rows) table[row] = rank_ + 1.0;
    updated.push_back(torch::tensor(rows, torch::kInt64));
  }
  UpdatedRowsShare share(updated, tables, comm_);
  for (size_t t = 0; t < tables.size(); ++t) {
    ASSERT_EQ(share.values(t).defined(), world_ > 1);
    if (!share.values(t).defined()) continue;
    EXPECT_EQ(share.values(t).sizes(),
              (std::vector<int64_t>{updated[t].numel(), tables[t].size(1)}));
    EXPECT_EQ(share.values(t).scalar_type(), tables[t].scalar_type());
    share.values(t).fill_(rank_ + 1.0);
  }
  share.Finish();
  for (const torch::Tensor& table : tables) {
    for (int64_t row = 0; row < table.size(0); ++row) {
      int owner = 0;
      while (OwnedRows(table.size(0), owner, world_).end <= row) ++owner;
      const double expected = row % 2 == 0 ? owner + 1.0 : -1.0 - rank_;
      EXPECT_TRUE(torch::all(table[row] == expected).item<bool>())
          << "row " << row << " on rank " << rank_ << ": " << table[row];
    }
  }
}

TEST_F(DataParallelTest, OwnedBlocksAreGatheredOnRankZero) {
  // Tables with more, as many and fewer rows than ranks (some blocks empty).
  std::vector<torch::Tensor> tables = {torch::full({7, 3}, -1.0), torch::full({2, 1}, -1.0),
                                       torch::full({4, 2}, -1.0, torch::kFloat64)};
  for (torch::Tensor& table : tables) {
    const Slice mine = OwnedRows(table.size(0), rank_, world_);
    table.narrow(0, mine.begin, mine.size()).fill_(rank_);
  }
  GatherOwnedRows(tables, comm_);
  for (const torch::Tensor& table : tables) {
    for (int r = 0; r < world_; ++r) {
      const Slice owned = OwnedRows(table.size(0), r, world_);
      const double expected = rank_ == 0 || r == rank_ ? r : -1.0;
      EXPECT_TRUE(torch::all(table.narrow(0, owned.begin, owned.size()) == expected).item<bool>())
          << "rank " << rank_ << ", block of rank " << r << ": " << table;
    }
  }
}

TEST_F(DataParallelTest, AllGatherRowsConcatenatesAndBackpropagatesTheSummedGradient) {
  // Uneven counts, rank 1 with none.
  std::vector<int64_t> counts(world_);
  for (int r = 0; r < world_; ++r) counts[r] = r == 1 ? 0 : r + 1;
  torch::Tensor local =
      torch::full({counts[rank_], 2}, rank_ * 10.0, torch::kFloat64).requires_grad_();
  torch::Tensor gathered = AllGatherRows(local, counts, comm_);
  int64_t total = 0;
  for (int r = 0; r < world_; ++r) {
    EXPECT_TRUE(torch::all(gathered.narrow(0, total, counts[r]) == r * 10.0).item<bool>());
    total += counts[r];
  }
  ASSERT_EQ(gathered.size(0), total);
  // Rank r's loss weighs every gathered element by (r + 1): the gradient of the sum of all
  // ranks' losses with respect to any element is sum_r (r + 1).
  (gathered * (rank_ + 1.0)).sum().backward();
  const double expected = world_ * (world_ + 1) / 2.0;
  ASSERT_EQ(local.grad().size(0), counts[rank_]);
  EXPECT_TRUE(torch::all(local.grad() == expected).item<bool>()) << local.grad();
}

TEST_F(DataParallelTest, RefusesBadArguments) {
  EXPECT_THROW(DataTypeFor(torch::kInt16), Error);
  std::vector<int64_t> counts(world_, 1);
  EXPECT_THROW(AllGatherRows(torch::zeros({2, 2}), counts, comm_), Error);  // 2 rows, count 1
}

}  // namespace
}  // namespace recsys::dist
