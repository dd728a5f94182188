#include "shards/cluster_balance.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace recsys::shards {
namespace {

TEST(ClusterBalanceTest, LargestFirstOntoTheLeastLoadedRank) {
  // Sorted: 9 (c1), 7 (c3), 5 (c0), 5 (c4), 2 (c2), 0 (c5).
  const std::vector<int64_t> sizes = {5, 9, 2, 7, 5, 0};
  const std::vector<int32_t> owners = BalanceClusters(sizes, 2);
  // 9 -> r0; 7 -> r1; 5 (c0) -> r1 (7 < 9); 5 (c4) -> r0 (9 < 12); 2 -> r1 (12 < 14);
  // 0 -> r0 (14 = 14, the smaller rank).
  EXPECT_EQ(owners, (std::vector<int32_t>{1, 0, 1, 1, 0, 0}));
  const std::vector<int64_t> loads = RankLoads(sizes, owners, 2);
  EXPECT_EQ(loads, (std::vector<int64_t>{14, 14}));
  EXPECT_DOUBLE_EQ(Imbalance(loads), 1.0);
}

TEST(ClusterBalanceTest, MoreRanksThanClustersLeavesRanksWithNothing) {
  const std::vector<int64_t> sizes = {4, 10};
  const std::vector<int32_t> owners = BalanceClusters(sizes, 4);
  EXPECT_EQ(owners, (std::vector<int32_t>{1, 0}));
  const std::vector<int64_t> loads = RankLoads(sizes, owners, 4);
  EXPECT_EQ(loads, (std::vector<int64_t>{10, 4, 0, 0}));
  EXPECT_DOUBLE_EQ(Imbalance(loads), 10.0 * 4 / 14);
}

TEST(ClusterBalanceTest, EmptyIndexIsBalanced) {
  // Empty clusters add no load: they all land on the least loaded rank, rank 0.
  const std::vector<int64_t> sizes = {0, 0, 0};
  const std::vector<int32_t> owners = BalanceClusters(sizes, 2);
  EXPECT_EQ(owners, (std::vector<int32_t>{0, 0, 0}));
  EXPECT_DOUBLE_EQ(Imbalance(RankLoads(sizes, owners, 2)), 1.0);
}

}  // namespace
}  // namespace recsys::shards
