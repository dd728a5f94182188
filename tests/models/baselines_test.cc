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
