#pragma once
// Losses of the neural rankers (models/ranker_net.h), as SUMS over this rank's examples or
// groups: the caller divides by the global batch size (see models/data_parallel_trainer.h).
//
// Inputs are flat over rows, grouped by query: group g (one query's candidate list) is rows
// [group_offsets[g], group_offsets[g + 1]). scores [N] are logits; gains [N] are graded gains
// (models/metrics.h's GradeGains: E 1, S 0.1, C 0.01, I 0), >= 0. A pair (i, j) of a group is
// every i, j with gain_i > gain_j; ties are not pairs.
//
// All functions are not collective, run on the scores' device and dtype, and return a scalar that
// is connected to scores (zero gradient where nothing contributes), so that backward runs on a
// rank whose slice contributes nothing.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace recsys::models {

// Sum over rows of binary cross-entropy with logits: -t log sigmoid(s) - (1 - t) log(1 -
// sigmoid(s)). scores, targets: [N], targets in [0, 1].
torch::Tensor PointwiseBceSum(const torch::Tensor& scores, const torch::Tensor& targets);

// LambdaRank: sum over groups and their pairs of |dNDCG@truncation(i, j)| * log(1 + exp(-(s_i -
// s_j))). dNDCG is the change of the group's NDCG@truncation when i and j swap places in the
// current ranking (by descending score, detached; ties broken by row order): with linear gains and
// discount(rank) = 1 / log2(1 + rank) for rank <= truncation and 0 beyond,
//   |dNDCG| = |gain_i - gain_j| * |discount(rank_i) - discount(rank_j)| / IDCG@truncation,
// so a pair with both items below the truncation has weight 0 (LambdaMART's truncation). A group
// without a gain difference contributes 0. Memory: [n, n] per group (n = group size).
// group_offsets: size G + 1, from 0 to N, non-decreasing; truncation >= 1.
torch::Tensor LambdaRankSum(const torch::Tensor& scores, const torch::Tensor& gains,
                            const std::vector<int64_t>& group_offsets, int truncation = 10);

// RankNet: sum over groups of the MEAN over the group's pairs of log(1 + exp(-(s_i - s_j))), so
// each group with at least one pair weighs 1 whatever its size; a group without pairs
// contributes 0. Arguments as LambdaRankSum's.
torch::Tensor PairwiseLogisticSum(const torch::Tensor& scores, const torch::Tensor& gains,
                                  const std::vector<int64_t>& group_offsets);

}  // namespace recsys::models
