#include "models/ranking_losses.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "tests/test_util.h"

namespace recsys::models {
namespace {

using ::testing::HasSubstr;

using testing::ErrorOf;

torch::Tensor Doubles(const std::vector<double>& v, bool requires_grad = false) {
  return torch::tensor(v, torch::kFloat64).requires_grad_(requires_grad);
}

double Softplus(double x) { return std::log1p(std::exp(x)); }

// DCG@truncation of a group ranked by order (item indices, best first).
double Dcg(const std::vector<double>& gain, const std::vector<int>& order, int truncation) {
  double dcg = 0;
  for (int p = 0; p < std::min<int>(truncation, order.size()); ++p) {
    dcg += gain[order[p]] / std::log2(2.0 + p);
  }
  return dcg;
}

// LambdaRank by its definition: for each pair, swap the two items in the ranking and measure the
// change of NDCG@truncation.
double ReferenceLambdaRank(const std::vector<double>& s, const std::vector<double>& g,
                           const std::vector<int64_t>& offsets, int truncation) {
  double total = 0;
  for (size_t group = 0; group + 1 < offsets.size(); ++group) {
    const int b = offsets[group], n = offsets[group + 1] - b;
    std::vector<double> gs(g.begin() + b, g.begin() + b + n);
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return s[b + x] > s[b + y]; });
    std::vector<int> ideal = order;
    std::stable_sort(ideal.begin(), ideal.end(), [&](int x, int y) { return gs[x] > gs[y]; });
    const double ideal_dcg = Dcg(gs, ideal, truncation);
    if (ideal_dcg == 0) continue;
    const double dcg = Dcg(gs, order, truncation);
    for (int pi = 0; pi < n; ++pi) {
      for (int pj = 0; pj < n; ++pj) {
        const int i = order[pi], j = order[pj];
        if (!(gs[i] > gs[j])) continue;
        std::vector<int> swapped = order;
        std::swap(swapped[pi], swapped[pj]);
        const double weight = std::abs(Dcg(gs, swapped, truncation) - dcg) / ideal_dcg;
        total += weight * Softplus(-(s[b + i] - s[b + j]));
      }
    }
  }
  return total;
}

// ---- Pointwise
// -----------------------------------------------------------------------------------

TEST(PointwiseBceSumTest, SumsCrossEntropyWithLogits) {
  // -log sigmoid(0) = log 2; target 0.1 at logit 2: -0.1 log sigmoid(2) - 0.9 log sigmoid(-2).
  const double expected = std::log(2.0) + 0.1 * Softplus(-2.0) + 0.9 * Softplus(2.0);
  EXPECT_NEAR(PointwiseBceSum(Doubles({0.0, 2.0}), Doubles({1.0, 0.1})).item<double>(), expected,
              1e-12);
  EXPECT_THAT(ErrorOf([] {
                PointwiseBceSum(Doubles({0.0, 2.0}), Doubles({1.0}));
              }),
              HasSubstr("scores and targets must be [N] of one size"));
}

// ---- LambdaRank
// ----------------------------------------------------------------------------------

TEST(LambdaRankSumTest, HandValueOnThreeItems) {
  // Scores 0, 1, 2 rank the items 3rd, 2nd, 1st; gains 1, 0.1, 0. Discounts by rank: 1, 1/log2 3,
  // 1/2. IDCG = 1 + 0.1 / log2 3.
  const double d2 = 1.0 / std::log2(3.0);
  const double idcg = 1.0 + 0.1 * d2;
  const double expected = (0.9 * std::abs(0.5 - d2) * Softplus(1.0)     // pair (0, 1)
                           + 1.0 * std::abs(0.5 - 1.0) * Softplus(2.0)  // pair (0, 2)
                           + 0.1 * std::abs(d2 - 1.0) * Softplus(1.0))  // pair (1, 2)
                          / idcg;
  const torch::Tensor loss = LambdaRankSum(Doubles({0, 1, 2}), Doubles({1, 0.1, 0}), {0, 3});
  EXPECT_NEAR(loss.item<double>(), expected, 1e-12);
}

TEST(LambdaRankSumTest, MatchesSwappingThePairOnRandomGroups) {
  std::mt19937 rng(4);
  std::normal_distribution<double> normal;
  const std::vector<double> grades = {0, 0.01, 0.1, 1};
  std::uniform_int_distribution<int> grade(0, 3);
  const std::vector<int64_t> sizes = {1, 2, 5, 30, 7, 0, 40};
  std::vector<int64_t> offsets = {0};
  std::vector<double> s, g;
  for (size_t k = 0; k < sizes.size(); ++k) {
    for (int64_t i = 0; i < sizes[k]; ++i) {
      s.push_back(normal(rng));
      g.push_back(k == 4 ? 0.0 : grades[grade(rng)]);  // group 4: no relevant item
    }
    offsets.push_back(static_cast<int64_t>(s.size()));
  }
  for (int truncation : {1, 3, 10, 100}) {
    EXPECT_NEAR(LambdaRankSum(Doubles(s), Doubles(g), offsets, truncation).item<double>(),
                ReferenceLambdaRank(s, g, offsets, truncation), 1e-9)
        << "truncation " << truncation;
  }
  // Float32 scores give the same to float precision.
  EXPECT_NEAR(LambdaRankSum(Doubles(s).to(torch::kFloat32), Doubles(g).to(torch::kFloat32), offsets)
                  .item<double>(),
              ReferenceLambdaRank(s, g, offsets, 10), 1e-4);
}

TEST(LambdaRankSumTest, ZeroWithoutGainDifference) {
  for (double gain : {0.0, 0.1, 1.0}) {
    const torch::Tensor s = Doubles({0.3, -1, 2, 0}, true);
    const torch::Tensor loss = LambdaRankSum(s, Doubles({gain, gain, gain, gain}), {0, 2, 4});
    EXPECT_EQ(loss.item<double>(), 0.0);
    loss.backward();
    ASSERT_TRUE(s.grad().defined());
    EXPECT_EQ(s.grad().abs().sum().item<double>(), 0.0);
  }
}

TEST(LambdaRankSumTest, PairsBelowTheTruncationHaveNoWeight) {
  // Ranks 1-4 in row order; gains 1, 1, 0.1, 0. With truncation 2 the pair (2, 3), ranks 3 and 4,
  // has weight 0; every other pair has one item in the top 2.
  const std::vector<double> scores = {4, 3, 2, 1}, gains = {1, 1, 0.1, 0};
  const double d2 = 1.0 / std::log2(3.0);
  auto term = [&](int i, int j, double di, double dj, double idcg) {
    return (gains[i] - gains[j]) * std::abs(di - dj) / idcg * Softplus(scores[j] - scores[i]);
  };
  const double idcg2 = 1.0 + d2;
  const double truncated = term(0, 2, 1, 0, idcg2) + term(0, 3, 1, 0, idcg2) +
                           term(1, 2, d2, 0, idcg2) + term(1, 3, d2, 0, idcg2);
  EXPECT_NEAR(LambdaRankSum(Doubles(scores), Doubles(gains), {0, 4}, 2).item<double>(), truncated,
              1e-12);
  // Without truncation the tail pair counts.
  const double d3 = 0.5, d4 = 1.0 / std::log2(5.0);
  const double idcg = 1.0 + d2 + 0.1 * d3;
  const double full = term(0, 2, 1, d3, idcg) + term(0, 3, 1, d4, idcg) + term(1, 2, d2, d3, idcg) +
                      term(1, 3, d2, d4, idcg) + term(2, 3, d3, d4, idcg);
  EXPECT_NEAR(LambdaRankSum(Doubles(scores), Doubles(gains), {0, 4}, 10).item<double>(), full,
              1e-12);
  // Truncation 1 with the top item the only relevant one: everything pairs with rank 1.
  EXPECT_GT(LambdaRankSum(Doubles(scores), Doubles({1, 0, 0, 0}), {0, 4}, 1).item<double>(), 0);
  // The best-ranked item is irrelevant and truncation 1: the relevant items below still pair
  // with it.
  EXPECT_GT(LambdaRankSum(Doubles(scores), Doubles({0, 1, 1, 1}), {0, 4}, 1).item<double>(), 0);
}

TEST(LambdaRankSumTest, RaisingARelevantScoreLowersTheLoss) {
  const std::vector<double> base = {0.5, 1.5, -0.2, 0.9, 0.1};
  const std::vector<double> gains = {1, 0, 0.1, 0, 0.01};
  const torch::Tensor s = Doubles(base, true);
  const torch::Tensor loss = LambdaRankSum(s, Doubles(gains), {0, 5});
  loss.backward();
  EXPECT_LT(s.grad()[0].item<double>(), 0);  // the Exact item: only ever the better of a pair
  EXPECT_GT(s.grad()[1].item<double>(), 0);  // Irrelevant items: only ever the worse
  EXPECT_GT(s.grad()[3].item<double>(), 0);
  std::vector<double> raised = base;
  raised[0] += 0.05;  // stays ranked 3rd
  EXPECT_LT(LambdaRankSum(Doubles(raised), Doubles(gains), {0, 5}).item<double>(),
            loss.item<double>());
}

TEST(LambdaRankSumTest, GroupsAddUpAndEmptyInputGivesZero) {
  const torch::Tensor s = Doubles({0.2, 0.1, 3, -1, 0.5});
  const torch::Tensor g = Doubles({0, 1, 0.1, 1, 0});
  const double both = LambdaRankSum(s, g, {0, 2, 5}).item<double>();
  const double first = LambdaRankSum(s.narrow(0, 0, 2), g.narrow(0, 0, 2), {0, 2}).item<double>();
  const double second = LambdaRankSum(s.narrow(0, 2, 3), g.narrow(0, 2, 3), {0, 3}).item<double>();
  EXPECT_NEAR(both, first + second, 1e-12);
  const torch::Tensor none = torch::zeros({0}, torch::kFloat64).requires_grad_(true);
  const torch::Tensor zero = LambdaRankSum(none, torch::zeros({0}, torch::kFloat64), {0});
  EXPECT_EQ(zero.item<double>(), 0.0);
  EXPECT_TRUE(zero.requires_grad());
}

TEST(LambdaRankSumTest, RejectsBadGroupsAndTruncation) {
  const torch::Tensor s = Doubles({1, 2, 3}), g = Doubles({1, 0, 0});
  EXPECT_THAT(
      ErrorOf([&] {
        LambdaRankSum(s, g, {0, 2});
      }),
      HasSubstr("group offsets must run from 0 to the 3 scores, got 2 offsets from 0 to 2"));
  EXPECT_THAT(ErrorOf([&] { LambdaRankSum(s, g, {}); }), HasSubstr("got 0 offsets"));
  EXPECT_THAT(ErrorOf([&] {
                LambdaRankSum(s, g, {0, 2, 1, 3});
              }),
              HasSubstr("group offsets decrease at group 1 (2 then 1)"));
  EXPECT_THAT(ErrorOf([&] {
                LambdaRankSum(s, Doubles({1, 0}), {0, 3});
              }),
              HasSubstr("scores and gains must be [N] of one size"));
  EXPECT_THAT(ErrorOf([&] {
                LambdaRankSum(s, g, {0, 3}, 0);
              }),
              HasSubstr("truncation must be >= 1, got 0"));
}

// ---- RankNet
// -------------------------------------------------------------------------------------

TEST(PairwiseLogisticSumTest, HandValueIsTheMeanOverEachGroupsPairs) {
  // Group 0: the three pairs of the LambdaRank example, weight 1 each. Group 1: two pairs (each
  // gain 0.1 over the 0) and a tie that is not a pair. Group 2: a tie, no pair.
  const torch::Tensor s = Doubles({0, 1, 2, 0.5, -0.5, 1, 7, 8});
  const torch::Tensor g = Doubles({1, 0.1, 0, 0, 0.1, 0.1, 0.01, 0.01});
  const double expected = (Softplus(1) + Softplus(2) + Softplus(1)) / 3 +
                          (Softplus(-(-0.5 - 0.5)) + Softplus(-(1 - 0.5))) / 2;
  EXPECT_NEAR(PairwiseLogisticSum(s, g, {0, 3, 6, 8}).item<double>(), expected, 1e-12);
}

TEST(PairwiseLogisticSumTest, ZeroWithoutPairsAndRaisingARelevantScoreLowersTheLoss) {
  const torch::Tensor tied = Doubles({1, 2, 3}, true);
  const torch::Tensor zero = PairwiseLogisticSum(tied, Doubles({0.1, 0.1, 0.1}), {0, 3});
  EXPECT_EQ(zero.item<double>(), 0.0);
  zero.backward();
  EXPECT_EQ(tied.grad().abs().sum().item<double>(), 0.0);

  const torch::Tensor s = Doubles({0.5, 1.5, -0.2}, true);
  const torch::Tensor loss = PairwiseLogisticSum(s, Doubles({1, 0, 0.1}), {0, 3});
  loss.backward();
  EXPECT_LT(s.grad()[0].item<double>(), 0);
  EXPECT_GT(s.grad()[1].item<double>(), 0);
  EXPECT_LT(
      PairwiseLogisticSum(Doubles({0.6, 1.5, -0.2}), Doubles({1, 0, 0.1}), {0, 3}).item<double>(),
      loss.item<double>());
  EXPECT_THAT(ErrorOf([&] {
                PairwiseLogisticSum(s, Doubles({1, 0, 0}), {0, 1});
              }),
              HasSubstr("PairwiseLogisticSum: group offsets must run from 0 to the 3 scores"));
}

}  // namespace
}  // namespace recsys::models
