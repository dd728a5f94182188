#include "models/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

namespace recsys::models {
namespace {

using data::Grade;

TEST(MetricsTest, HandComputedQuery) {
  // Judged: 10 E, 11 S, 12 E, 13 I. Relevant (E): {10, 12}. Ranked: 12, 99, 11, 10, 13.
  JudgedQuery q{
      0, {10, 11, 12, 13}, {Grade::kExact, Grade::kSubstitute, Grade::kExact, Grade::kIrrelevant}};
  RankingMetrics m({1, 3, 5});
  m.Add({12, 99, 11, 10, 13}, q);
  EXPECT_EQ(m.queries(), 1);
  EXPECT_DOUBLE_EQ(m.Precision(1), 1.0);
  EXPECT_DOUBLE_EQ(m.Precision(3), 1.0 / 3);
  EXPECT_DOUBLE_EQ(m.Precision(5), 2.0 / 5);
  EXPECT_DOUBLE_EQ(m.Recall(1), 0.5);
  EXPECT_DOUBLE_EQ(m.Recall(3), 0.5);
  EXPECT_DOUBLE_EQ(m.Recall(5), 1.0);
  EXPECT_DOUBLE_EQ(m.HitRate(1), 1.0);
  // NDCG@3: DCG = 1/log2(2) + 0 + 0.1/log2(4) = 1.05; ideal = 1 + 1/log2(3) + 0.1/log2(4).
  double ideal3 = 1.0 + 1.0 / std::log2(3.0) + 0.1 / 2.0;
  EXPECT_NEAR(m.Ndcg(3), 1.05 / ideal3, 1e-12);
  EXPECT_THROW(m.Recall(10), Error);
  EXPECT_THROW(m.Add({12, 12}, q), Error);
}

TEST(MetricsTest, GainsFromTheCommandLine) {
  // The same query with S worth as much as E: DCG@3 = 1 + 0 + 1/log2(4) = 1.5; ideal = 1 +
  // 1/log2(3) + 1/log2(4).
  JudgedQuery q{
      0, {10, 11, 12, 13}, {Grade::kExact, Grade::kSubstitute, Grade::kExact, Grade::kIrrelevant}};
  const GradeGains gains = ParseGradeGains(" s = 1, E=1 ");
  EXPECT_DOUBLE_EQ(gains(Grade::kComplement), 0.01);  // left out: the default
  RankingMetrics m({3}, Grade::kExact, gains);
  m.Add({12, 99, 11, 10, 13}, q);
  EXPECT_NEAR(m.Ndcg(3), 1.5 / (1.0 + 1.0 / std::log2(3.0) + 0.5), 1e-12);
  EXPECT_DOUBLE_EQ(GradeGain(Grade::kSubstitute), GradeGains()(Grade::kSubstitute));
  for (const auto& [text, fragment] :
       std::vector<std::pair<std::string, std::string>>{{"X=1", "unknown grade 'X'"},
                                                        {"E=1,E=2", "grade E given twice"},
                                                        {"E=-1", "'-1' is not a gain >= 0"},
                                                        {"E=high", "'high' is not a gain"},
                                                        {"E1", "is not GRADE=GAIN"},
                                                        {"", "empty"}}) {
    try {
      ParseGradeGains(text);
      ADD_FAILURE() << text << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  }
}

TEST(MetricsTest, AveragesOverQueriesAndSkipsQueriesWithoutRelevantProducts) {
  RankingMetrics m({2});
  m.Add({1, 2}, JudgedQuery{0, {1}, {Grade::kExact}});                    // recall 1
  m.Add({5, 6}, JudgedQuery{1, {1, 7}, {Grade::kExact, Grade::kExact}});  // recall 0
  m.Add({1, 2}, JudgedQuery{2, {1}, {Grade::kSubstitute}});               // skipped
  EXPECT_EQ(m.queries(), 2);
  EXPECT_DOUBLE_EQ(m.Recall(2), 0.5);
  EXPECT_DOUBLE_EQ(m.HitRate(2), 0.5);
  EXPECT_DOUBLE_EQ(m.Precision(2), 0.25);
  // With substitutes counted relevant, the third query counts too.
  RankingMetrics lenient({2}, Grade::kSubstitute);
  lenient.Add({1, 2}, JudgedQuery{2, {1}, {Grade::kSubstitute}});
  EXPECT_EQ(lenient.queries(), 1);
  EXPECT_DOUBLE_EQ(lenient.Recall(2), 1.0);
}

TEST(MetricsTest, JudgedQueriesGroupsPairsOfOneSplit) {
  data::Dataset d;
  d.queries.id = {"a", "b", "c"};
  d.queries.text = {"a", "b", "c"};
  d.queries.split = {data::Split::kTest, data::Split::kTrain, data::Split::kTest};
  d.pairs.query = {0, 0, 1, 2};
  d.pairs.product = {5, 6, 5, 7};
  d.pairs.grade = {Grade::kExact, Grade::kIrrelevant, Grade::kExact, Grade::kSubstitute};
  auto test = JudgedQueries(d, data::Split::kTest);
  ASSERT_EQ(test.size(), 2u);
  EXPECT_EQ(test[0].query, 0);
  EXPECT_EQ(test[0].products, (std::vector<int32_t>{5, 6}));
  EXPECT_EQ(test[1].query, 2);
  EXPECT_EQ(test[1].grades, (std::vector<Grade>{Grade::kSubstitute}));
}

TEST(MetricsTest, AucCountsOrderedPairsAndTies) {
  EXPECT_DOUBLE_EQ(Auc({0.9f, 0.8f, 0.1f, 0.2f}, {1, 1, 0, 0}), 1.0);
  EXPECT_DOUBLE_EQ(Auc({0.1f, 0.2f, 0.9f, 0.8f}, {1, 1, 0, 0}), 0.0);
  // Positives 0.5 and 0.3; negatives 0.5 and 0.1: pairs (0.5,0.5) tie=0.5, (0.5,0.1)=1,
  // (0.3,0.5)=0, (0.3,0.1)=1 -> 2.5 / 4.
  EXPECT_DOUBLE_EQ(Auc({0.5f, 0.3f, 0.5f, 0.1f}, {1, 1, 0, 0}), 0.625);
  EXPECT_DOUBLE_EQ(Auc({0.5f, 0.3f}, {1, 1}), 0.5);
  EXPECT_THROW(Auc({0.5f}, {1, 0}), Error);
}

}  // namespace
}  // namespace recsys::models
