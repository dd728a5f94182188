#include "dist/distributed_sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace recsys::dist {
namespace {

TEST(SliceOfTest, CutsContiguousNearlyEqualSlices) {
  EXPECT_EQ(SliceOf(10, 0, 4).begin, 0);
  EXPECT_EQ(SliceOf(10, 0, 4).end, 3);
  EXPECT_EQ(SliceOf(10, 1, 4).end, 6);
  EXPECT_EQ(SliceOf(10, 2, 4).end, 8);
  EXPECT_EQ(SliceOf(10, 3, 4).end, 10);
  EXPECT_EQ(SliceOf(2, 3, 4).size(), 0);
  EXPECT_THROW(SliceOf(5, 4, 4), Error);
}

TEST(DistributedSamplerTest, EpochsArePermutationsShuffledBySeedAndEpoch) {
  DistributedSampler a(1000, 64, 0, 1, 7);
  std::vector<int64_t> e0 = a.EpochOrder(0);
  std::vector<int64_t> e1 = a.EpochOrder(1);
  EXPECT_NE(e0, e1);
  std::vector<int64_t> sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> identity(1000);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(sorted, identity);
  DistributedSampler b(1000, 64, 0, 1, 7);
  EXPECT_EQ(b.EpochOrder(0), e0);  // same seed, same order
  DistributedSampler c(1000, 64, 0, 1, 8);
  EXPECT_NE(c.EpochOrder(0), e0);
}

TEST(DistributedSamplerTest, RanksSplitTheSameGlobalBatchWhateverTheirNumber) {
  const int64_t n = 103, batch = 20;
  DistributedSampler one(n, batch, 0, 1, 3);
  EXPECT_EQ(one.steps_per_epoch(), 6);
  EXPECT_EQ(one.GlobalBatchSize(5), 3);  // the last step is smaller
  for (int world : {2, 3, 4, 7}) {
    for (int64_t step = 0; step < one.steps_per_epoch(); ++step) {
      std::vector<int64_t> joined;
      for (int rank = 0; rank < world; ++rank) {
        DistributedSampler s(n, batch, rank, world, 3);
        EXPECT_EQ(s.GlobalBatch(2, step), one.GlobalBatch(2, step));
        std::vector<int64_t> local = s.LocalBatch(2, step);
        joined.insert(joined.end(), local.begin(), local.end());
      }
      EXPECT_EQ(joined, one.GlobalBatch(2, step)) << "world " << world << " step " << step;
    }
  }
}

TEST(DistributedSamplerTest, RejectsBadArguments) {
  EXPECT_THROW(DistributedSampler(10, 0, 0, 1, 1), Error);
  EXPECT_THROW(DistributedSampler(10, 4, 2, 2, 1), Error);
  DistributedSampler s(10, 4, 0, 1, 1);
  EXPECT_THROW(s.GlobalBatchSize(3), Error);
}

}  // namespace
}  // namespace recsys::dist
