#include "shards/top_k.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "core/error.h"

namespace recsys::shards {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

TEST(TopKTest, KeepsTheBestOrderedByScoreThenSmallerId) {
  // Scores with many ties; any push order gives the same answer.
  std::vector<float> scores = {3, 1, 3, 2, 5, 3, 5, 0, 2, 3};
  std::vector<int64_t> ids(scores.size());
  std::iota(ids.begin(), ids.end(), 100);
  std::vector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    std::shuffle(order.begin(), order.end(), rng);
    TopK top(5);
    for (int64_t i : order) top.Push(scores[i], ids[i]);
    std::vector<int64_t> got_ids(5);
    std::vector<float> got_scores(5);
    top.Extract(got_ids.data(), got_scores.data());
    EXPECT_EQ(got_ids, (std::vector<int64_t>{104, 106, 100, 102, 105}));
    EXPECT_EQ(got_scores, (std::vector<float>{5, 5, 3, 3, 3}));
  }
}

TEST(TopKTest, PadsWhenFewerThanKAndIsReusableAfterExtract) {
  TopK top(4);
  top.Push(1.5f, 7);
  top.Push(2.5f, 3);
  std::vector<int64_t> ids(4);
  std::vector<float> scores(4);
  top.Extract(ids.data(), scores.data());
  EXPECT_EQ(ids, (std::vector<int64_t>{3, 7, -1, -1}));
  EXPECT_EQ(scores, (std::vector<float>{2.5f, 1.5f, kNegInf, kNegInf}));
  EXPECT_EQ(top.size(), 0);
  top.Push(0.5f, 1);
  top.Extract(ids.data(), scores.data());
  EXPECT_EQ(ids, (std::vector<int64_t>{1, -1, -1, -1}));
}

TEST(TopKTest, PushBlockEqualsPushingOneByOne) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> value(0, 20);  // many ties
  for (int64_t k : {1, 3, 10, 64}) {
    std::vector<float> scores(500);
    std::vector<int64_t> ids(500);
    for (size_t i = 0; i < scores.size(); ++i) {
      scores[i] = static_cast<float>(value(rng));
      ids[i] = static_cast<int64_t>((i * 7919) % 500);  // distinct, not sorted
    }
    TopK one(k), block(k);
    for (size_t i = 0; i < scores.size(); ++i) one.Push(scores[i], ids[i]);
    block.PushBlock(scores.data(), ids.data(), 200);
    block.PushBlock(scores.data() + 200, ids.data() + 200, 300);
    std::vector<int64_t> a(k), b(k);
    std::vector<float> sa(k), sb(k);
    one.Extract(a.data(), sa.data());
    block.Extract(b.data(), sb.data());
    EXPECT_EQ(a, b) << "k=" << k;
    EXPECT_EQ(sa, sb) << "k=" << k;
  }
}

TEST(TopKTest, RefusesKBelowOne) { EXPECT_THROW(TopK(0), Error); }

}  // namespace
}  // namespace recsys::shards
