#include "models/recall_losses.h"

#include <gtest/gtest.h>

#include <cmath>

namespace recsys::models {
namespace {

torch::Tensor D(std::vector<double> v, int64_t rows, int64_t cols) {
  return torch::tensor(v, torch::kFloat64).view({rows, cols});
}
torch::Tensor B(std::vector<int> v, int64_t rows, int64_t cols) {
  return torch::tensor(v, torch::kInt32).view({rows, cols}).to(torch::kBool);
}

TEST(RecallLossesTest, SoftmaxMatchesHandValues) {
  // Row 0: -log(e^1 / (e^1 + e^2 + e^0)) = log(e + e^2 + 1) - 1 = 1.4076059644.
  // Row 1: column 1 excluded: -log(e^1 / (e^1 + e^0)) = log(1 + 1/e) = 0.3132616875.
  torch::Tensor logits = D({1, 2, 0, 1, 2, 0}, 2, 3).requires_grad_();
  torch::Tensor loss =
      SoftmaxLoss(logits, torch::tensor({0, 0}, torch::kInt64), B({0, 0, 0, 0, 1, 0}, 2, 3));
  EXPECT_NEAR(loss[0].item<double>(), 1.4076059644443801, 1e-12);
  EXPECT_NEAR(loss[1].item<double>(), 0.31326168751822286, 1e-12);
  loss.sum().backward();
  // d/dl of row 1 at the excluded column is 0; the gradient is finite everywhere.
  EXPECT_EQ(logits.grad()[1][1].item<double>(), 0.0);
  EXPECT_TRUE(torch::isfinite(logits.grad()).all().item<bool>());
}

TEST(RecallLossesTest, BinaryCrossEntropyMatchesHandValues) {
  // logit 0, target 1: log 2. logit 2, target 0.1: -(0.1 log s + 0.9 log(1 - s)), s = 1/(1+e^-2).
  torch::Tensor loss = BinaryCrossEntropy(torch::tensor({0.0, 2.0}, torch::kFloat64),
                                          torch::tensor({1.0, 0.1}, torch::kFloat64));
  EXPECT_NEAR(loss[0].item<double>(), std::log(2.0), 1e-12);
  EXPECT_NEAR(loss[1].item<double>(), 1.9269280110429716, 1e-12);
}

TEST(RecallLossesTest, HingeMatchesHandValues) {
  // positive 0.5, margin 0.2: negative 0.4 -> 0.1, 0.1 -> 0, 0.9 excluded: mean 0.05.
  // Row 1: every column excluded -> 0.
  torch::Tensor loss =
      HingeLoss(torch::tensor({0.5, 0.5}, torch::kFloat64), D({0.4, 0.1, 0.9, 0.4, 0.1, 0.9}, 2, 3),
                B({0, 0, 1, 1, 1, 1}, 2, 3), 0.2);
  EXPECT_NEAR(loss[0].item<double>(), 0.05, 1e-12);
  EXPECT_EQ(loss[1].item<double>(), 0.0);
}

TEST(RecallLossesTest, ListNetMatchesHandValues) {
  // Gains (1, 0.1) -> target (1/1.1, 0.1/1.1); log-softmax of (1, 0) over the two kept columns
  // is (-log(1 + 1/e), -log(e + 1)): loss = (1/1.1) log(1 + 1/e) + (0.1/1.1) log(e + 1).
  torch::Tensor logits = D({1, 0, 5}, 1, 3).requires_grad_();
  torch::Tensor loss = ListNetLoss(logits, D({1, 0.1, 0}, 1, 3), B({0, 0, 1}, 1, 3));
  EXPECT_NEAR(loss[0].item<double>(), 0.40417077842731375, 1e-12);
  loss.sum().backward();
  EXPECT_TRUE(torch::isfinite(logits.grad()).all().item<bool>());
  EXPECT_EQ(logits.grad()[0][2].item<double>(), 0.0);
}

TEST(RecallLossesTest, RejectsMismatchedShapes) {
  EXPECT_THROW(
      HingeLoss(torch::zeros({2}), torch::zeros({3, 2}), torch::zeros({3, 2}, torch::kBool), 0.1),
      c10::Error);
  EXPECT_THROW(
      ListNetLoss(torch::zeros({2, 2}), torch::zeros({2, 3}), torch::zeros({2, 2}, torch::kBool)),
      c10::Error);
}

}  // namespace
}  // namespace recsys::models
