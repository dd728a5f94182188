#include "models/embedding_bag.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace recsys::models {
namespace {

// Texts with repeated ids, an id shared by several texts, and an empty text.
struct Bags {
  torch::Tensor ids = torch::tensor({5, 2, 5, 7, 2, 0, 9, 9, 9}, torch::kInt64);
  torch::Tensor offsets = torch::tensor({0, 3, 5, 5}, torch::kInt64);  // text 2 is empty
};

TEST(EmbeddingBagMeanTest, EqualsTorchEmbeddingBagForwardAndGradient) {
  torch::manual_seed(4);
  const Bags b;
  torch::nn::EmbeddingBag reference(
      torch::nn::EmbeddingBagOptions(10, 3).mode(torch::kMean).sparse(true));
  reference->to(torch::kFloat64);
  const torch::Tensor weight = reference->weight.detach().clone().requires_grad_();
  const torch::Tensor upstream = torch::randn({4, 3}, torch::kFloat64);

  const torch::Tensor mine = EmbeddingBagMean(weight, b.ids, b.offsets);
  const torch::Tensor theirs = reference->forward(b.ids, b.offsets);
  EXPECT_TRUE(torch::allclose(mine, theirs, 1e-12, 1e-12)) << mine << theirs;
  EXPECT_TRUE(torch::all(mine[2] == 0).item<bool>());  // the empty text

  (mine * upstream).sum().backward();
  (theirs * upstream).sum().backward();
  const torch::Tensor grad = weight.grad();
  ASSERT_TRUE(grad.is_sparse());
  // One row per distinct id, in id order: coalesced (autograd's accumulation into .grad drops the
  // flag, not the order).
  EXPECT_TRUE(
      torch::equal(grad._indices().reshape({-1}), torch::tensor({0, 2, 5, 7, 9}, torch::kInt64)));
  EXPECT_TRUE(torch::allclose(grad.to_dense(), reference->weight.grad().to_dense(), 1e-12, 1e-12));
  // Id 5 occurs twice in text 0 (length 3): 2/3 of text 0's gradient.
  EXPECT_TRUE(torch::allclose(grad.to_dense()[5], upstream[0] * (2.0 / 3.0), 1e-12, 1e-12));
}

TEST(EmbeddingBagMeanTest, NoTextsAndBadInputs) {
  const torch::Tensor weight = torch::zeros({4, 2}, torch::kFloat32).requires_grad_();
  const torch::Tensor ids = torch::tensor({1, 3}, torch::kInt64);
  EXPECT_THROW(EmbeddingBagMean(weight, ids.to(torch::kInt32), torch::tensor({0})), Error);
  const torch::Tensor out = EmbeddingBagMean(weight, ids, torch::tensor({0}, torch::kInt64));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{1, 2}));
  // An id outside the table is refused by the forward pass (torch) or the backward (here).
  EXPECT_ANY_THROW({
    EmbeddingBagMean(weight, torch::tensor({1, 4}, torch::kInt64),
                     torch::tensor({0}, torch::kInt64))
        .sum()
        .backward();
  });
}

}  // namespace
}  // namespace recsys::models
