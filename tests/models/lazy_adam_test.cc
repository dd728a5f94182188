#include "models/lazy_adam.h"

#include <gtest/gtest.h>

namespace recsys::models {
namespace {

TEST(LazyAdamTest, DenseStepsMatchTorchAdam) {
  torch::manual_seed(1);
  torch::Tensor ours = torch::randn({4, 3}, torch::kFloat64).requires_grad_();
  torch::Tensor theirs = ours.detach().clone().requires_grad_();
  LazyAdam adam({{"w", ours}}, LazyAdamOptions{});
  torch::optim::Adam reference({theirs}, torch::optim::AdamOptions(0.01));
  for (int step = 0; step < 5; ++step) {
    const torch::Tensor grad = torch::randn({4, 3}, torch::kFloat64);
    ours.mutable_grad() = grad.clone();
    theirs.mutable_grad() = grad.clone();
    adam.Step(0.01);
    reference.step();
  }
  EXPECT_TRUE(torch::allclose(ours, theirs, 1e-12, 1e-14));
  EXPECT_EQ(adam.steps(), 5);
}

TEST(LazyAdamTest, SparseStepUpdatesTouchedRowsOnlyAsDenseAdamWould) {
  torch::manual_seed(2);
  torch::Tensor table = torch::randn({5, 3}, torch::kFloat64).requires_grad_();
  const torch::Tensor before = table.detach().clone();
  // A dense copy of rows 1 and 3, updated by dense Adam with the same gradients.
  torch::Tensor rows = before.index_select(0, torch::tensor({1, 3})).clone().requires_grad_();
  LazyAdam sparse({{"table", table}}, LazyAdamOptions{});
  LazyAdam dense({{"rows", rows}}, LazyAdamOptions{});
  const torch::Tensor values = torch::randn({2, 3}, torch::kFloat64);
  table.mutable_grad() =
      torch::sparse_coo_tensor(torch::tensor({{3, 1}}), values.flip(0), {5, 3}).coalesce();
  rows.mutable_grad() = values.clone();
  sparse.Step(0.1);
  dense.Step(0.1);
  for (int64_t r : {0, 2, 4}) EXPECT_TRUE(torch::equal(table[r], before[r])) << "row " << r;
  EXPECT_TRUE(torch::allclose(table[1], rows[0], 1e-12, 1e-14));
  EXPECT_TRUE(torch::allclose(table[3], rows[1], 1e-12, 1e-14));
  // A step that touches no row changes nothing but still counts for bias correction.
  table.mutable_grad() = torch::sparse_coo_tensor(torch::zeros({1, 0}, torch::kInt64),
                                                  torch::zeros({0, 3}, torch::kFloat64), {5, 3})
                             .coalesce();
  const torch::Tensor after = table.detach().clone();
  sparse.Step(0.1);
  EXPECT_TRUE(torch::equal(table.detach(), after));
  EXPECT_EQ(sparse.steps(), 2);
}

TEST(LazyAdamTest, WritesUpdatedRowsWhereAsked) {
  torch::manual_seed(3);
  torch::Tensor table = torch::randn({6, 4}).requires_grad_();
  table.mutable_grad() =
      torch::sparse_coo_tensor(torch::tensor({{4, 1}}), torch::randn({2, 4}), table.sizes())
          .coalesce();
  LazyAdam adam({{"table", table}}, LazyAdamOptions{});
  torch::Tensor out = torch::full({2, 4}, -7.0f);
  adam.Step(0.1, {{"table", out}});
  // Coalesced rows come in row order: 1, then 4.
  EXPECT_TRUE(torch::equal(out[0], table.detach()[1]));
  EXPECT_TRUE(torch::equal(out[1], table.detach()[4]));
  EXPECT_THROW(adam.Step(0.1, {{"table", torch::zeros({3, 4})}}), c10::Error);  // wrong rows
}

TEST(LazyAdamTest, RefusesUncoalescedSparseGradients) {
  torch::Tensor table = torch::zeros({3, 2}).requires_grad_();
  LazyAdam adam({{"table", table}}, LazyAdamOptions{});
  table.mutable_grad() =
      torch::sparse_coo_tensor(torch::tensor({{1, 1}}), torch::ones({2, 2}), {3, 2});
  EXPECT_THROW(adam.Step(0.1), c10::Error);
}

}  // namespace
}  // namespace recsys::models
