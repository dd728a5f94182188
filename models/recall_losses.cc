#include "models/recall_losses.h"

#include <limits>

namespace recsys::models {
namespace {

// log_softmax over the columns not excluded; excluded columns get -inf (and so weight 0).
torch::Tensor MaskedLogSoftmax(const torch::Tensor& logits, const torch::Tensor& excluded) {
  const double neg_inf = -std::numeric_limits<double>::infinity();
  return torch::log_softmax(logits.masked_fill(excluded, neg_inf), 1);
}

}  // namespace

torch::Tensor SoftmaxLoss(const torch::Tensor& logits, const torch::Tensor& target,
                          const torch::Tensor& excluded) {
  TORCH_CHECK(logits.dim() == 2 && target.dim() == 1 && target.size(0) == logits.size(0) &&
                  excluded.sizes() == logits.sizes(),
              "SoftmaxLoss: logits ", logits.sizes(), ", target ", target.sizes(), ", excluded ",
              excluded.sizes());
  return -MaskedLogSoftmax(logits, excluded).gather(1, target.unsqueeze(1)).squeeze(1);
}

torch::Tensor BinaryCrossEntropy(const torch::Tensor& logits, const torch::Tensor& targets) {
  TORCH_CHECK(logits.sizes() == targets.sizes(), "BinaryCrossEntropy: logits ", logits.sizes(),
              ", targets ", targets.sizes());
  return torch::binary_cross_entropy_with_logits(logits, targets, {}, {}, at::Reduction::None);
}

torch::Tensor HingeLoss(const torch::Tensor& positive, const torch::Tensor& negatives,
                        const torch::Tensor& excluded, double margin) {
  TORCH_CHECK(positive.dim() == 1 && negatives.dim() == 2 &&
                  negatives.size(0) == positive.size(0) && excluded.sizes() == negatives.sizes(),
              "HingeLoss: positive ", positive.sizes(), ", negatives ", negatives.sizes(),
              ", excluded ", excluded.sizes());
  const torch::Tensor kept = excluded.logical_not().to(negatives.dtype());
  const torch::Tensor hinge = torch::relu(margin - positive.unsqueeze(1) + negatives) * kept;
  return hinge.sum(1) / kept.sum(1).clamp_min(1.0);
}

torch::Tensor ListNetLoss(const torch::Tensor& logits, const torch::Tensor& gains,
                          const torch::Tensor& excluded) {
  TORCH_CHECK(
      logits.dim() == 2 && gains.sizes() == logits.sizes() && excluded.sizes() == logits.sizes(),
      "ListNetLoss: logits ", logits.sizes(), ", gains ", gains.sizes(), ", excluded ",
      excluded.sizes());
  const torch::Tensor kept_gains = gains.masked_fill(excluded, 0.0);
  const torch::Tensor target = kept_gains / kept_gains.sum(1, /*keepdim=*/true);
  // Excluded columns have target 0; zero their -inf log-probabilities so 0 * -inf is not NaN.
  const torch::Tensor log_p = MaskedLogSoftmax(logits, excluded).masked_fill(excluded, 0.0);
  return -(target * log_p).sum(1);
}

}  // namespace recsys::models
