#include "serve/candidate_fusion.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>

#include "core/error.h"

namespace recsys::serve {
namespace {

constexpr float kPad = -std::numeric_limits<float>::infinity();

// One query's list of k entries (ids -1 past the real ones), as the routers return it.
shards::SearchResult List(std::vector<int64_t> ids, std::vector<float> scores) {
  shards::SearchResult r;
  r.nq = 1;
  r.k = static_cast<int64_t>(ids.size());
  r.ids = std::move(ids);
  r.scores = std::move(scores);
  return r;
}

std::vector<int64_t> Products(const std::vector<Candidate>& c) {
  std::vector<int64_t> out;
  for (const Candidate& x : c) out.push_back(x.product);
  return out;
}

TEST(CandidateFusionTest, HybridIsTheUnionOfBothListsWithEachSourcesRankAndScore) {
  const shards::SearchResult dense = List({7, 3, 9, -1}, {0.9f, 0.8f, 0.5f, kPad});
  const shards::SearchResult lexical = List({3, 11, 4}, {12.0f, 6.0f, 3.0f});
  FusionOptions rrf;
  rrf.fusion = Fusion::kReciprocalRank;
  rrf.lexical_weight = 1;
  const std::vector<Candidate> c = FuseCandidates(&dense, &lexical, 0, rrf);
  // Every product of both lists, once.
  const std::vector<int64_t> got = Products(c);
  EXPECT_EQ(std::set<int64_t>(got.begin(), got.end()), (std::set<int64_t>{3, 4, 7, 9, 11}));
  EXPECT_EQ(got.size(), 5u);
  // RRF with k = 60: product 3 is 2nd dense and 1st lexical.
  ASSERT_EQ(c[0].product, 3);
  EXPECT_DOUBLE_EQ(c[0].score, 1.0 / 62 + 1.0 / 61);
  EXPECT_EQ(c[0].dense_rank, 2);
  EXPECT_EQ(c[0].lexical_rank, 1);
  EXPECT_FLOAT_EQ(c[0].dense_score, 0.8f);
  EXPECT_FLOAT_EQ(c[0].lexical_score, 12.0f);
  // Then the two first-placed singles (7 dense 1st, 11 lexical 2nd), 9 and 4 (both 3rd: ties by
  // product row).
  EXPECT_EQ(got, (std::vector<int64_t>{3, 7, 11, 4, 9}));
  EXPECT_EQ(c[1].lexical_rank, 0);
  EXPECT_EQ(c[2].dense_rank, 0);
}

TEST(CandidateFusionTest, ScoreFusionNormalisesEachListToZeroOne) {
  const shards::SearchResult dense = List({1, 2, 3}, {0.9f, 0.7f, 0.5f});
  const shards::SearchResult lexical = List({3, 4}, {10.0f, 2.0f});
  FusionOptions o;
  o.fusion = Fusion::kScore;
  o.lexical_weight = 1;
  const std::vector<Candidate> c = FuseCandidates(&dense, &lexical, 0, o);
  // 3: dense (0.5 - 0.5) / 0.4 = 0, lexical 1 -> 1; 1: 1; 2: 0.5; 4: 0. Ties by product row.
  ASSERT_EQ(Products(c), (std::vector<int64_t>{1, 3, 2, 4}));
  EXPECT_NEAR(c[0].score, 1.0, 1e-6);
  EXPECT_NEAR(c[1].score, 1.0, 1e-6);
  EXPECT_NEAR(c[2].score, 0.5, 1e-6);
  EXPECT_NEAR(c[3].score, 0.0, 1e-6);
  // At half weight the lexical list's best counts 0.5: 1, then 2 and 3 (0.5 each, by row), 4.
  o.lexical_weight = 0.5;
  const std::vector<Candidate> half = FuseCandidates(&dense, &lexical, 0, o);
  ASSERT_EQ(Products(half), (std::vector<int64_t>{1, 2, 3, 4}));
  EXPECT_NEAR(half[2].score, 0.5, 1e-6);
}

TEST(CandidateFusionTest, OneSourceKeepsItsOrderAndScores) {
  const shards::SearchResult lexical = List({5, 2, -1}, {4.0f, 4.0f, kPad});
  const std::vector<Candidate> c = FuseCandidates(nullptr, &lexical, 0, {});
  ASSERT_EQ(Products(c), (std::vector<int64_t>{2, 5}));  // equal scores: smaller row first
  EXPECT_DOUBLE_EQ(c[0].score, 4.0);
  EXPECT_EQ(c[0].lexical_rank, 2);
  EXPECT_TRUE(FuseCandidates(nullptr, nullptr, 0, {}).empty());
  const shards::SearchResult empty = List({-1, -1}, {kPad, kPad});
  EXPECT_TRUE(FuseCandidates(&empty, &empty, 0, {}).empty());
}

TEST(CandidateFusionTest, BadArgumentsAreRefused) {
  const shards::SearchResult dense = List({1}, {0.5f});
  EXPECT_THROW(FuseCandidates(&dense, nullptr, 1, {}), Error);
  FusionOptions o;
  o.rrf_k = 0;
  EXPECT_THROW(FuseCandidates(&dense, nullptr, 0, o), Error);
  o.rrf_k = 60;
  o.lexical_weight = -1;
  EXPECT_THROW(FuseCandidates(&dense, nullptr, 0, o), Error);
  EXPECT_THROW(ParseRecallMode("fuzzy"), Error);
  EXPECT_THROW(ParseFusion("max"), Error);
  EXPECT_EQ(ParseRecallMode("hybrid"), RecallMode::kHybrid);
  EXPECT_EQ(ParseFusion("score"), Fusion::kScore);
}

}  // namespace
}  // namespace recsys::serve
