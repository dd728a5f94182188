#include "models/baselines.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.h"

namespace recsys::models {
namespace {

using data::Grade;
using data::Split;

// A valid dataset of products and queries with the given texts; every query in the test
// split, no pairs.
data::Dataset TextDataset(const std::vector<std::string>& titles,
                          const std::vector<std::string>& queries) {
  data::Dataset d;
  for (size_t i = 0; i < titles.size(); ++i) {
    d.products.id.push_back("p" + std::to_string(i));
    d.products.title.push_back(titles[i]);
    d.products.brand.push_back(0);
    d.products.colour.push_back(0);
    d.products.category.push_back(0);
    d.products.price.push_back(NAN);
    d.products.rating.push_back(NAN);
    d.products.release_day.push_back(data::kUnknownDay);
  }
  for (size_t i = 0; i < queries.size(); ++i) {
    d.queries.id.push_back("q" + std::to_string(i));
    d.queries.text.push_back(queries[i]);
    d.queries.split.push_back(Split::kTest);
  }
  return d;
}

// One term's BM25 contribution, written out from the textbook formula (k1 = 1.2, b = 0.75).
double Term(double tf, double length, double mean_length, double df, double n) {
  const double idf = std::log(1 + (n - df + 0.5) / (df + 0.5));
  return idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / mean_length));
}

std::vector<int32_t> Products(const std::vector<ScoredProduct>& scored) {
  std::vector<int32_t> out;
  for (const ScoredProduct& s : scored) out.push_back(s.product);
  return out;
}

class Bm25Test : public ::testing::Test {
 protected:
  // Words per title: 2, 3, 1, 3, 0, 1 (mean 10/6). Document frequencies: apple 3, banana 2,
  // red / green / pie / juice 1.
  data::Dataset dataset_ =
      TextDataset({"Red apple", "green apple pie", "banana", "apple, APPLE juice", "", "banana"},
                  {"apple", "red apple apple", "kiwi", "banana"});
  Bm25Retriever bm25_{dataset_};
  const double mean_ = 10.0 / 6;
};

TEST_F(Bm25Test, ScoresMatchAHandComputation) {
  std::vector<ScoredProduct> top = bm25_.Search("apple", 10);
  // Title 3 says apple twice; title 0 is shorter than title 1.
  ASSERT_EQ(Products(top), (std::vector<int32_t>{3, 0, 1}));
  EXPECT_NEAR(top[0].score, Term(2, 3, mean_, 3, 6), 1e-6);
  EXPECT_NEAR(top[1].score, Term(1, 2, mean_, 3, 6), 1e-6);
  EXPECT_NEAR(top[2].score, Term(1, 3, mean_, 3, 6), 1e-6);

  // A repeated query word counts once; case and punctuation do not matter.
  top = bm25_.Search("RED apple apple!", 10);
  ASSERT_EQ(Products(top), (std::vector<int32_t>{0, 3, 1}));
  EXPECT_NEAR(top[0].score, Term(1, 2, mean_, 1, 6) + Term(1, 2, mean_, 3, 6), 1e-6);
}

TEST_F(Bm25Test, CutsAtKBreaksTiesByRowAndReturnsOnlyMatches) {
  EXPECT_EQ(Products(bm25_.Search("apple", 2)), (std::vector<int32_t>{3, 0}));
  // Titles 2 and 5 are the same: equal scores, lower row first.
  std::vector<ScoredProduct> tie = bm25_.Search("banana", 10);
  ASSERT_EQ(Products(tie), (std::vector<int32_t>{2, 5}));
  EXPECT_EQ(tie[0].score, tie[1].score);
  EXPECT_TRUE(bm25_.Search("kiwi", 10).empty());
  EXPECT_TRUE(bm25_.Search("", 10).empty());
  EXPECT_THROW(bm25_.Search("apple", 0), Error);
}

TEST_F(Bm25Test, RetrieveAnswersQueryRowsWithTheirTexts) {
  auto lists = bm25_.Retrieve({3, 0, 2, 1}, 2);
  ASSERT_EQ(lists.size(), 4u);
  EXPECT_EQ(lists[0], (std::vector<int32_t>{2, 5}));
  EXPECT_EQ(lists[1], (std::vector<int32_t>{3, 0}));
  EXPECT_TRUE(lists[2].empty());
  EXPECT_EQ(lists[3], (std::vector<int32_t>{0, 3}));
  EXPECT_EQ(bm25_.name(), "bm25");
  EXPECT_THROW(bm25_.Retrieve({4}, 2), Error);
  EXPECT_THROW(Bm25Retriever(dataset_, 1.2, 1.5), Error);
}

TEST(PopularityRetrieverTest, CountsTrainPairsOnly) {
  data::Dataset d = TextDataset({"a", "b", "c", "d", "e", "f"}, {"q", "q", "q", "q", "q"});
  d.queries.split = {Split::kTrain, Split::kTrain, Split::kTest, Split::kTest, Split::kValid};
  // Product 0 is clicked most, but only by test queries; product 5 only by a valid query.
  // Train: 3 has a click and an Exact grade, 1 a click only, 2 an Exact grade only.
  d.pairs.query = {0, 0, 1, 2, 3, 4};
  d.pairs.product = {1, 3, 2, 0, 0, 5};
  d.pairs.grade = {Grade::kSubstitute, Grade::kExact, Grade::kExact,
                   Grade::kExact,      Grade::kExact, Grade::kExact};
  d.pairs.click = {1, 1, 0, 1, 1, 1};
  d.pairs.position = {0, 1, 0, 0, 0, 0};
  d.Validate();
  PopularityRetriever popularity(d);
  EXPECT_EQ(popularity.ranking(), (std::vector<int32_t>{3, 1, 2, 0, 4, 5}));
  auto lists = popularity.Retrieve({2, 0}, 3);
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[0], (std::vector<int32_t>{3, 1, 2}));
  EXPECT_EQ(lists[1], lists[0]);
  EXPECT_EQ(popularity.Retrieve({0}, 100)[0].size(), 6u);
}

TEST(RandomRetrieverTest, DeterministicPerQueryDistinctAndSeeded) {
  RandomRetriever random(1000, 7);
  auto forward = random.Retrieve({0, 1, 2}, 50);
  auto backward = random.Retrieve({2, 1, 0}, 50);
  EXPECT_EQ(forward[0], backward[2]);
  EXPECT_EQ(forward[2], backward[0]);
  EXPECT_EQ(random.Retrieve({1}, 50)[0], forward[1]);
  EXPECT_NE(forward[0], forward[1]);
  for (const auto& list : forward) {
    ASSERT_EQ(list.size(), 50u);
    EXPECT_EQ(std::set<int32_t>(list.begin(), list.end()).size(), 50u);
    for (int32_t p : list) EXPECT_TRUE(p >= 0 && p < 1000);
  }
  EXPECT_NE(RandomRetriever(1000, 8).Retrieve({0}, 50)[0], forward[0]);
  // k beyond the catalogue: a permutation of it.
  std::vector<int32_t> all = RandomRetriever(5, 1).Retrieve({3}, 10)[0];
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<int32_t>{0, 1, 2, 3, 4}));
  EXPECT_THROW(RandomRetriever(0, 1), Error);
}

TEST(RandomRetrieverTest, FirstPlaceIsRoughlyUniform) {
  RandomRetriever random(10, 3);
  std::vector<int32_t> rows(5000);
  for (int32_t i = 0; i < 5000; ++i) rows[i] = i;
  std::vector<int> count(10, 0);
  for (const auto& list : random.Retrieve(rows, 3)) ++count[list[0]];
  // Expected 500 each; the standard deviation is about 21.
  for (int c : count) EXPECT_NEAR(c, 500, 110);
}

}  // namespace
}  // namespace recsys::models
