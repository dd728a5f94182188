#include "serve/rerank.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "tests/test_util.h"

namespace recsys::serve {
namespace {

using data::Grade;
using data::kUnknownDay;
using testing::ErrorOf;
using testing::Mentions;

constexpr int32_t kToday = 20000;

// A catalogue of products with the given categories and release days (no other field is read).
data::Dataset Catalogue(const std::vector<int32_t>& categories,
                        const std::vector<int32_t>& release_days) {
  data::Dataset dataset;
  dataset.categories = {"", "A", "B", "C"};
  for (size_t i = 0; i < categories.size(); ++i) {
    dataset.products.id.push_back("p" + std::to_string(i));
    dataset.products.category.push_back(categories[i]);
    dataset.products.release_day.push_back(release_days[i]);
  }
  return dataset;
}

std::vector<int64_t> Iota(int64_t n) {
  std::vector<int64_t> out(n);
  std::iota(out.begin(), out.end(), int64_t{0});
  return out;
}

RerankOptions Weights(double diversity, double freshness) {
  RerankOptions options;
  options.diversity = diversity;
  options.freshness = freshness;
  return options;
}

TEST(RerankTest, ZeroWeightsGiveTheRankersOrder) {
  std::mt19937 rng(7);
  const int32_t products = 50;
  std::uniform_int_distribution<int32_t> category(0, 3), product(0, products - 1);
  std::vector<int32_t> categories, days;
  for (int32_t p = 0; p < products; ++p) {
    categories.push_back(category(rng));
    days.push_back(kToday - 10 * p);
  }
  const data::Dataset dataset = Catalogue(categories, days);
  // Unknown categories and release days: diversity and freshness add the same to every
  // candidate, so the greedy path must keep the ranker's order too (ties by score, not rounding).
  const data::Dataset flat =
      Catalogue(std::vector<int32_t>(products, 0), std::vector<int32_t>(products, kUnknownDay));
  for (int trial = 0; trial < 20; ++trial) {
    const int64_t n = 1 + trial * 3;
    models::RankingSet set;
    set.features.rows = n;
    set.queries = {0};
    set.group_offsets = {0, n};
    std::vector<float> scores;
    // Few distinct values (ties) mixed with magnitudes far apart.
    std::uniform_int_distribution<int> level(0, 4);
    for (int64_t i = 0; i < n; ++i) {
      set.products.push_back(product(rng));
      const int l = level(rng);
      scores.push_back(l == 4 ? 1e30f : l == 3 ? 1e-30f : static_cast<float>(l));
    }
    std::vector<int32_t> expected = models::RankGroups(set, scores)[0];
    for (double relevance : {1.0, 0.5, 0.0}) {
      for (int64_t depth : {int64_t{1}, int64_t{10}, n}) {
        RerankOptions options;
        options.relevance = relevance;
        options.depth = depth;
        std::vector<int32_t> ranked;
        for (int64_t i : Reranker(dataset, options).Order(set.products, scores)) {
          ranked.push_back(set.products[i]);
        }
        EXPECT_EQ(ranked, expected) << "n=" << n << " relevance=" << relevance;
      }
    }
    RerankOptions greedy = Weights(0.3, 0.2);
    greedy.depth = n;
    std::vector<int32_t> ranked;
    for (int64_t i : Reranker(flat, greedy).Order(set.products, scores)) {
      ranked.push_back(set.products[i]);
    }
    EXPECT_EQ(ranked, expected) << "n=" << n << " greedy";
  }
}

TEST(RerankTest, UnknownCategoriesAreNotRedundant) {
  // Category 0 is like nothing, itself included: diversity has nothing to push down.
  const data::Dataset dataset = Catalogue({0, 0, 0, 0}, {kToday, kToday, kToday, kToday});
  const std::vector<float> scores = {0.2f, 0.9f, 0.2f, 0.5f};
  EXPECT_EQ(Reranker(dataset, Weights(0.7, 0)).Order({0, 1, 2, 3}, scores),
            (std::vector<int64_t>{1, 3, 0, 2}));
}

TEST(RerankTest, DiversityMovesAnotherCategoryUp) {
  const data::Dataset dataset = Catalogue({1, 1, 2, 1}, {kToday, kToday, kToday, kToday});
  const std::vector<int32_t> products = {0, 1, 2, 3};
  const std::vector<float> scores = {1.0f, 0.9f, 0.8f, 0.0f};
  EXPECT_EQ(Reranker(dataset, Weights(0, 0)).Order(products, scores), Iota(4));
  // After product 0 (A): product 1 (A) is worth 0.9 - 0.5, product 2 (B) 0.8.
  EXPECT_EQ(Reranker(dataset, Weights(0.5, 0)).Order(products, scores),
            (std::vector<int64_t>{0, 2, 1, 3}));
  // A small penalty is not enough.
  EXPECT_EQ(Reranker(dataset, Weights(0.05, 0)).Order(products, scores), Iota(4));
  // Depth 1: only the first position is chosen greedily; the rest keep the ranker's order.
  RerankOptions shallow = Weights(0.5, 0);
  shallow.depth = 1;
  EXPECT_EQ(Reranker(dataset, shallow).Order(products, scores), Iota(4));
}

TEST(RerankTest, FreshnessMovesTheNewestUp) {
  // Product 4 (not in the list) is the catalogue's newest, the reference of every age.
  const data::Dataset dataset =
      Catalogue({1, 1, 1, 1, 1}, {kToday - 3650, kUnknownDay, kToday - 3650, kToday - 1, kToday});
  Reranker fresh(dataset, Weights(0, 2));
  EXPECT_EQ(fresh.reference_day(), kToday);
  const std::vector<int32_t> products = {0, 1, 2, 3};
  const std::vector<float> scores = {1.0f, 0.9f, 0.8f, 0.7f};
  EXPECT_EQ(Reranker(dataset, Weights(0, 0)).Order(products, scores), Iota(4));
  // Product 3 is worth 0 + 2 * 2^(-1/365); product 0 is 1 + 2 * 2^-10.
  EXPECT_EQ(fresh.Order(products, scores), (std::vector<int64_t>{3, 0, 1, 2}));
  // An unknown release day is not fresh: with equal scores the ten-year-old product wins.
  EXPECT_EQ(fresh.Order({1, 2}, {0.5f, 0.5f}), (std::vector<int64_t>{1, 0}));
  // The half-life sets the scale: with 0.1 days, a day-old product is hardly fresh (2^-10).
  RerankOptions short_life = Weights(0, 2);
  short_life.half_life_days = 0.1;
  EXPECT_EQ(Reranker(dataset, short_life).Order(products, scores), Iota(4));
}

TEST(RerankTest, EmbeddingDiversityUsesTheCosine) {
  // One category for all: category diversity changes nothing, embedding diversity does.
  const data::Dataset dataset = Catalogue({1, 1, 1, 1}, {kToday, kToday, kToday, kToday});
  const std::vector<float> vectors = {
      1.0f,  0.0f,  // 0
      2.0f,  0.2f,  // 1: nearly 0 (not normalised: cosine 0.995)
      0.0f,  1.0f,  // 2: orthogonal to 0
      -1.0f, 0.0f   // 3: opposite to 0
  };
  const std::vector<int32_t> products = {0, 1, 2, 3};
  const std::vector<float> scores = {1.0f, 0.9f, 0.8f, 0.0f};
  EXPECT_EQ(Reranker(dataset, Weights(0.5, 0), &vectors, 2).Order(products, scores), Iota(4));
  RerankOptions by_embedding = Weights(0.5, 0);
  by_embedding.diversity_by = Diversity::kEmbedding;
  const Reranker reranker(dataset, by_embedding, &vectors, 2);
  // After 0: 1 is worth 0.9 - 0.5 * 0.995, 2 is 0.8, 3 is 0 + 0.5. After 0 and 2: 1 is worth
  // 0.9 - 0.5 * 0.995 = 0.40 and 3 is 0 - 0.5 * max(-1, 0) = 0.
  EXPECT_EQ(reranker.Order(products, scores), (std::vector<int64_t>{0, 2, 1, 3}));

  const ListMeasures orthogonal = reranker.Measure({0, 2}, 10);
  EXPECT_DOUBLE_EQ(orthogonal.ild_embedding, 1.0);
  EXPECT_DOUBLE_EQ(orthogonal.ild_category, 0.0);
  EXPECT_DOUBLE_EQ(reranker.Measure({0, 3}, 10).ild_embedding, 2.0);
  // Pairs (0,2) 1, (0,3) 2, (2,3) 1.
  EXPECT_DOUBLE_EQ(reranker.Measure({0, 2, 3, 1}, 3).ild_embedding, 4.0 / 3);
}

TEST(RerankTest, Measures) {
  const data::Dataset dataset =
      Catalogue({1, 1, 1, 2, 0, 0}, {kToday, kToday - 100, kUnknownDay, kToday - 50, 1, 2});
  const Reranker reranker(dataset, RerankOptions());
  const ListMeasures same = reranker.Measure({0, 1, 2}, 10);
  EXPECT_DOUBLE_EQ(same.ild_category, 0.0);
  EXPECT_TRUE(std::isnan(same.ild_embedding));
  EXPECT_DOUBLE_EQ(same.mean_age_days, 50.0);  // the unknown day left out
  // Pairs (0,1) 0, (0,3) 1, (1,3) 1: only the top 3 count.
  EXPECT_DOUBLE_EQ(reranker.Measure({0, 1, 3, 2}, 3).ild_category, 2.0 / 3);
  // Two unknown categories are different.
  EXPECT_DOUBLE_EQ(reranker.Measure({4, 5}, 10).ild_category, 1.0);
  const ListMeasures single = reranker.Measure({2}, 10);
  EXPECT_TRUE(std::isnan(single.ild_category));
  EXPECT_TRUE(std::isnan(single.mean_age_days));
}

TEST(RerankTest, BadInputsAreRejected) {
  const data::Dataset dataset = Catalogue({1, 2}, {kToday, kToday});
  auto message = [&](RerankOptions options, const std::vector<float>* vectors = nullptr,
                     int64_t dim = 0) {
    return ErrorOf([&] { (void)Reranker(dataset, options, vectors, dim); });
  };
  RerankOptions o;
  o.diversity = -0.5;
  EXPECT_TRUE(Mentions(message(o), {"diversity weight", ">= 0", "-0.5"}));
  o = RerankOptions();
  o.freshness = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(Mentions(message(o), {"freshness weight", "finite"}));
  o = RerankOptions();
  o.relevance = -1;
  EXPECT_TRUE(Mentions(message(o), {"relevance weight"}));
  o = RerankOptions();
  o.depth = 0;
  EXPECT_TRUE(Mentions(message(o), {"depth must be at least 1, got 0"}));
  o = RerankOptions();
  o.half_life_days = 0;
  EXPECT_TRUE(Mentions(message(o), {"half-life must be a positive number of days, got 0"}));
  o = RerankOptions();
  o.diversity_by = Diversity::kEmbedding;
  EXPECT_TRUE(Mentions(message(o), {"embedding diversity needs the product embeddings"}));
  const std::vector<float> three = {1, 2, 3};
  EXPECT_TRUE(Mentions(message(o, &three, 2), {"3 values, not 2 products x 2"}));
  EXPECT_TRUE(Mentions(message(o, &three, 0), {"dimension must be at least 1"}));
  EXPECT_TRUE(Mentions(message(RerankOptions(), &three, 2), {"3 values"}));
  EXPECT_EQ(message(RerankOptions()), "");

  EXPECT_TRUE(Mentions(ErrorOf([] { ParseDiversity("mmr"); }), {"'mmr'", "category", "embedding"}));
  EXPECT_EQ(ParseDiversity("category"), Diversity::kCategory);
  EXPECT_EQ(ParseDiversity("embedding"), Diversity::kEmbedding);

  const Reranker reranker(dataset, Weights(0.5, 0));
  EXPECT_TRUE(Mentions(ErrorOf([&] { reranker.Order({0, 1}, {1.0f}); }), {"2 products but 1"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] {
                         reranker.Order({0, 2}, {1.0f, 0.0f});
                       }),
                       {"product row 2", "of 2"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] {
                         reranker.Order({0, 1}, {1.0f, std::numeric_limits<float>::infinity()});
                       }),
                       {"position 1", "not a finite number"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { reranker.Measure({0, 1}, 0); }), {"k >= 1"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { reranker.Measure({-1}, 3); }), {"product row -1"}));
}

// Three queries: 0 and 1 with relevant judged products, 2 without (not measured).
struct TinySet {
  data::Dataset dataset = Catalogue({1, 1, 1, 2, 3, 1}, {kToday, kToday - 1000, kUnknownDay,
                                                         kToday - 365, kToday, kToday - 2000});
  models::RankingSet set;
  std::vector<float> scores;
  std::vector<models::JudgedQuery> judged;

  TinySet() {
    // Query 0: three products of category A. Query 1: A, B, C.
    set.products = {0, 1, 2, 5, 3, 4, 0, 3};
    scores = {0.3f, 0.2f, 0.1f, 0.9f, 0.5f, 0.1f, 1.0f, 0.0f};
    set.grades.assign(set.products.size(), Grade::kIrrelevant);
    set.group_offsets = {0, 3, 6, 8};
    set.queries = {0, 1, 2};
    set.features.rows = static_cast<int64_t>(set.products.size());
    judged.resize(3);
    judged[0] = {0, {1, 0}, {Grade::kExact, Grade::kIrrelevant}};
    judged[1] = {1, {4, 3}, {Grade::kExact, Grade::kSubstitute}};
    judged[2] = {2, {0}, {Grade::kIrrelevant}};
  }
};

TEST(RerankTest, TableOfWeights) {
  const TinySet t;
  const std::vector<std::pair<double, double>> weights = {{0, 0}, {0, 5}};
  const std::vector<RerankRow> rows =
      RerankTable(t.set, t.scores, t.dataset, t.judged, weights, RerankOptions());
  ASSERT_EQ(rows.size(), 2u);

  // The first row is the ranker's order.
  models::RankingMetrics metrics({10});
  const std::vector<std::vector<int32_t>> ranked = models::RankGroups(t.set, t.scores);
  for (int64_t g = 0; g < t.set.groups(); ++g) metrics.Add(ranked[g], t.judged[t.set.queries[g]]);
  EXPECT_EQ(rows[0].queries, 2);
  EXPECT_DOUBLE_EQ(rows[0].ndcg10, metrics.Ndcg(10));
  EXPECT_DOUBLE_EQ(rows[0].relevance, 1);
  EXPECT_DOUBLE_EQ(rows[0].diversity, 0);
  EXPECT_DOUBLE_EQ(rows[0].freshness, 0);
  // Query 0 is all one category (ILD 0), query 1 all different (1).
  EXPECT_DOUBLE_EQ(rows[0].ild_category, 0.5);
  EXPECT_TRUE(std::isnan(rows[0].ild_embedding));
  // Query 0: ages 0 and 1000 (one unknown); query 1: 2000, 365, 0.
  EXPECT_NEAR(rows[0].mean_age_days, (500.0 + 2365.0 / 3) / 2, 1e-9);

  // Freshness 5 puts query 1's new exact product first, then the substitute: ideal. Query 0 keeps
  // its order (1 / log2(3)).
  EXPECT_DOUBLE_EQ(rows[1].freshness, 5);
  EXPECT_EQ(rows[1].queries, 2);
  EXPECT_NEAR(rows[1].ndcg10, (1 / std::log2(3.0) + 1) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(rows[1].ild_category, 0.5);  // the same products in the top 10

  // With embeddings: query 0 all alike, query 1's pairs 1, 1, 0.
  const std::vector<float> vectors = {1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0};
  RerankOptions by_embedding;
  by_embedding.diversity_by = Diversity::kEmbedding;
  const std::vector<RerankRow> embedded =
      RerankTable(t.set, t.scores, t.dataset, t.judged, {{0, 0}}, by_embedding, &vectors, 2);
  EXPECT_NEAR(embedded[0].ild_embedding, (0.0 + 2.0 / 3) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(embedded[0].ndcg10, rows[0].ndcg10);

  const std::string table = FormatRerankTable(rows);
  EXPECT_TRUE(Mentions(table, {"| relevance | diversity | freshness | queries | NDCG@10 |",
                               "| 1 | 0 | 5 | 2 |", "| - |"}));

  EXPECT_TRUE(Mentions(
      ErrorOf([&] { RerankTable(t.set, {1.0f}, t.dataset, t.judged, weights, RerankOptions()); }),
      {"1 scores for 8 candidate rows"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] {
                         RerankTable(t.set, t.scores, t.dataset, {t.judged[0]}, weights,
                                     RerankOptions());
                       }),
                       {"query row 1 has no judgements"}));
  EXPECT_TRUE(
      Mentions(ErrorOf([&] {
                 RerankTable(t.set, t.scores, t.dataset, t.judged, {{-1, 0}}, RerankOptions());
               }),
               {"diversity weight"}));
}

}  // namespace
}  // namespace recsys::serve
