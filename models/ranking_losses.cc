#include "models/ranking_losses.h"

#include <algorithm>

#include "core/error.h"

namespace recsys::models {
namespace {

void CheckGroups(const torch::Tensor& scores, const torch::Tensor& gains,
                 const std::vector<int64_t>& group_offsets, const char* loss) {
  RECSYS_CHECK(scores.dim() == 1 && gains.dim() == 1 && scores.numel() == gains.numel(),
               loss << ": scores and gains must be [N] of one size, got " << scores.sizes()
                    << " and " << gains.sizes());
  const int64_t n = scores.numel();
  RECSYS_CHECK(!group_offsets.empty() && group_offsets.front() == 0 && group_offsets.back() == n,
               loss << ": group offsets must run from 0 to the " << n << " scores, got "
                    << group_offsets.size() << " offsets"
                    << (group_offsets.empty() ? std::string()
                                              : " from " + std::to_string(group_offsets.front()) +
                                                    " to " + std::to_string(group_offsets.back())));
  for (size_t g = 0; g + 1 < group_offsets.size(); ++g) {
    RECSYS_CHECK(group_offsets[g] <= group_offsets[g + 1],
                 loss << ": group offsets decrease at group " << g << " (" << group_offsets[g]
                      << " then " << group_offsets[g + 1] << ")");
  }
}

// Zero, connected to scores.
torch::Tensor ZeroLike(const torch::Tensor& scores) { return (scores * 0).sum(); }

// [n, n]: entry (i, j) is log(1 + exp(-(s_i - s_j))).
torch::Tensor PairLogistic(const torch::Tensor& s) {
  return torch::softplus(s.unsqueeze(0) - s.unsqueeze(1));
}

// [n, n]: entry (i, j) is whether gain_i > gain_j.
torch::Tensor PairMask(const torch::Tensor& g) { return g.unsqueeze(1) > g.unsqueeze(0); }

// 1 / log2(1 + rank) for rank <= truncation, 0 beyond; rank 1-based, in the dtype of like.
torch::Tensor Discount(const torch::Tensor& rank, int truncation, const torch::Tensor& like) {
  const torch::Tensor r = rank.to(like.scalar_type());
  return torch::where(rank <= truncation, 1.0 / torch::log2(1 + r), torch::zeros_like(r));
}

}  // namespace

torch::Tensor PointwiseBceSum(const torch::Tensor& scores, const torch::Tensor& targets) {
  RECSYS_CHECK(scores.dim() == 1 && targets.sizes() == scores.sizes(),
               "PointwiseBceSum: scores and targets must be [N] of one size, got "
                   << scores.sizes() << " and " << targets.sizes());
  return torch::binary_cross_entropy_with_logits(scores, targets.to(scores.options()), {}, {},
                                                 at::Reduction::Sum);
}

torch::Tensor LambdaRankSum(const torch::Tensor& scores, const torch::Tensor& gains,
                            const std::vector<int64_t>& group_offsets, int truncation) {
  CheckGroups(scores, gains, group_offsets, "LambdaRankSum");
  RECSYS_CHECK(truncation >= 1, "LambdaRankSum: truncation must be >= 1, got " << truncation);
  torch::Tensor total = ZeroLike(scores);
  for (size_t group = 0; group + 1 < group_offsets.size(); ++group) {
    const int64_t begin = group_offsets[group], n = group_offsets[group + 1] - begin;
    if (n < 2) continue;
    const torch::Tensor s = scores.narrow(0, begin, n);
    const torch::Tensor g = gains.narrow(0, begin, n).to(s.options()).detach();
    if (!(g.max() > g.min()).item<bool>()) continue;
    // Ranks in the current order (1 = highest score).
    const torch::Tensor order =
        std::get<1>(torch::sort(s.detach(), /*stable=*/true, /*dim=*/0, /*descending=*/true));
    torch::Tensor rank = torch::empty_like(order);
    rank.scatter_(0, order, torch::arange(1, n + 1, order.options()));
    const torch::Tensor discount = Discount(rank, truncation, s);
    // The ideal DCG@truncation: the gains in descending order.
    const int64_t top = std::min<int64_t>(n, truncation);
    const torch::Tensor ideal = std::get<0>(torch::sort(g, /*dim=*/0, /*descending=*/true));
    const torch::Tensor ideal_dcg =
        (ideal.narrow(0, 0, top) *
         Discount(torch::arange(1, top + 1, order.options()), truncation, s))
            .sum();
    if (!(ideal_dcg > 0).item<bool>()) continue;  // only with negative gains
    const torch::Tensor weight = (g.unsqueeze(1) - g.unsqueeze(0)).abs() *
                                 (discount.unsqueeze(1) - discount.unsqueeze(0)).abs() / ideal_dcg *
                                 PairMask(g);
    total = total + (weight * PairLogistic(s)).sum();
  }
  return total;
}

torch::Tensor PairwiseLogisticSum(const torch::Tensor& scores, const torch::Tensor& gains,
                                  const std::vector<int64_t>& group_offsets) {
  CheckGroups(scores, gains, group_offsets, "PairwiseLogisticSum");
  torch::Tensor total = ZeroLike(scores);
  for (size_t group = 0; group + 1 < group_offsets.size(); ++group) {
    const int64_t begin = group_offsets[group], n = group_offsets[group + 1] - begin;
    if (n < 2) continue;
    const torch::Tensor s = scores.narrow(0, begin, n);
    const torch::Tensor mask = PairMask(gains.narrow(0, begin, n).to(s.options()).detach());
    const int64_t pairs = mask.sum().item<int64_t>();
    if (pairs == 0) continue;
    total = total + (PairLogistic(s) * mask).sum() / static_cast<double>(pairs);
  }
  return total;
}

}  // namespace recsys::models
