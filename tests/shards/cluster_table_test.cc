#include "shards/cluster_table.h"

#include <gtest/gtest.h>

namespace recsys::shards {
namespace {

std::vector<std::pair<int64_t, int64_t>> Runs(const std::vector<TableRun>& runs) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const TableRun& r : runs) out.emplace_back(r.first, r.count);
  return out;
}

TEST(ClusterTableTest, OwnedRunsAreConsecutiveOwnedEntriesCappedInRows) {
  // A file holding clusters 1, 2, 4, 5, 7 of 10, 20, 5, 5, 40 rows.
  ClusterTable t{{1, 2, 4, 5, 7}, {0, 10, 30, 35, 40, 80}, {0, 0, 0, 0, 0}};
  const std::vector<int32_t> owners = {0, 0, 0, 1, 0, 0, 1, 0};  // per cluster 0..7
  EXPECT_EQ(Runs(OwnedRuns(t, owners, 0, 1000)),
            (std::vector<std::pair<int64_t, int64_t>>{{0, 5}}));
  // At most 30 rows a run: [1, 2] = 30 rows, [4, 5] = 10, [7] = 40 alone (larger than the cap).
  EXPECT_EQ(Runs(OwnedRuns(t, owners, 0, 30)),
            (std::vector<std::pair<int64_t, int64_t>>{{0, 2}, {2, 2}, {4, 1}}));
  EXPECT_TRUE(OwnedRuns(t, owners, 1, 1000).empty());  // rank 1 owns 3 and 6: not in this file
}

TEST(ClusterTableTest, FilesToReadHoldOwnedClustersAndEveryFileOnce) {
  const std::vector<int32_t> cluster_shard = {0, 0, 1, 2, 2};
  const std::vector<int32_t> owners = {1, 0, 0, 1, 1};
  // Rank 0 of 2: files 0 and 2 by number, file 0 and 1 for its clusters 1 and 2.
  EXPECT_EQ(ShardFilesToRead(3, cluster_shard, owners, 0, 2), (std::set<int64_t>{0, 1, 2}));
  EXPECT_EQ(ShardFilesToRead(3, cluster_shard, owners, 1, 2), (std::set<int64_t>{0, 1, 2}));
  // A third rank owning nothing still checks file 2.
  EXPECT_EQ(ShardFilesToRead(3, cluster_shard, owners, 2, 3), (std::set<int64_t>{2}));
}

}  // namespace
}  // namespace recsys::shards
