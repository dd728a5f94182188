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

TEST_F(DataParallelTest, SparseRowsAreSummedOverTheUnionOfTouchedRows) {
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
  const std::vector<torch::Tensor> sums = AllReduceSparseRows(local, tables, comm_);
  ASSERT_EQ(sums.size(), 3u);
  for (const torch::Tensor& sum : sums) ASSERT_TRUE(sum.is_sparse() && sum.is_coalesced());
  torch::Tensor expected = torch::zeros({world_ + 2, 2});
  const int contributors = world_ == 1 ? 1 : world_ - 1;
  for (int r = 0; r < contributors; ++r) {
    expected[r] += 2.0 * (r + 1);
    expected[r + 1] += r + 1.0;
  }
  EXPECT_TRUE(torch::equal(sums[0].to_dense(), expected)) << sums[0].to_dense();
  EXPECT_EQ(sums[0]._indices().size(1), contributors + 1);  // only touched rows travel
  torch::Tensor expected1 = torch::zeros({5, 3}, torch::kFloat64);
  expected1[4] = 0.5;
  EXPECT_TRUE(torch::equal(sums[1].to_dense(), expected1));
  EXPECT_EQ(sums[2]._nnz(), 0);
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
