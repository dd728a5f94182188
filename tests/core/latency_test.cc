#include "core/latency.h"

#include <gtest/gtest.h>

namespace recsys {
namespace {

TEST(LatencyTest, NearestRankPercentiles) {
  std::vector<double> ms;
  for (int i = 100; i >= 1; --i) ms.push_back(i);  // 1 .. 100, reversed
  const LatencySummary s = SummarizeLatencies(ms);
  EXPECT_EQ(s.samples, 100u);
  EXPECT_DOUBLE_EQ(s.p50, 50);
  EXPECT_DOUBLE_EQ(s.p99, 99);
  EXPECT_DOUBLE_EQ(s.max, 100);
  EXPECT_DOUBLE_EQ(s.mean, 50.5);
  EXPECT_DOUBLE_EQ(SummarizeLatencies({7}).p99, 7);
  EXPECT_DOUBLE_EQ(SummarizeLatencies({1, 2, 3}).p50, 2);
  EXPECT_EQ(SummarizeLatencies({}).samples, 0u);
}

}  // namespace
}  // namespace recsys
