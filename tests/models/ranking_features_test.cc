#include "models/ranking_features.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"

namespace recsys::models {
namespace {

// Two products and two queries, every feature known by hand.
data::Dataset HandDataset() {
  data::Dataset d;
  d.brands = {"", "Acme Audio"};
  d.colours = {"", "red"};
  d.categories = {"", "Electronics > Audio"};
  d.products.id = {"P0", "P1"};
  d.products.title = {"Acme wireless headphones, red", "USB cable"};
  d.products.brand = {1, 0};
  d.products.colour = {1, 0};
  d.products.category = {1, 0};
  d.products.price = {99.0f, NAN};
  d.products.rating = {4.0f, NAN};
  d.products.release_day = {1000, data::kUnknownDay};
  d.queries.id = {"q0", "q1"};
  d.queries.text = {"red acme audio headphones", "usb cable"};
  d.queries.split = {data::Split::kTrain, data::Split::kTest};
  // q0 judged P0 Exact with a click; q1 judged P0 Exact too.
  d.pairs.query = {0, 1};
  d.pairs.product = {0, 0};
  d.pairs.grade = {data::Grade::kExact, data::Grade::kExact};
  d.pairs.click = {1, 0};
  d.pairs.position = {-1, -1};
  d.Validate();
  return d;
}

float Dense(const RankingFeatures& f, int64_t row, int feature) {
  return f.dense[row * kNumDenseFeatures + feature];
}

TEST(RankingFeaturesTest, DenseFeaturesMatchHandValues) {
  const data::Dataset d = HandDataset();
  const RankingFeatureBuilder builder(d, {1 << 10});
  RankingFeatures f;
  // P0 from both lists, P1 from the lexical list only.
  builder.Append("red acme audio headphones", -1,
                 {{0, 1, 0.8f, 12.0f, 1, 2}, {1, 2, 0.0f, 5.0f, 0, 1}}, &f);
  ASSERT_EQ(f.rows, 2);
  EXPECT_EQ(f.num_buckets, 1 << 10);
  EXPECT_FLOAT_EQ(Dense(f, 0, 0), 0.8f);  // rating 4 / 5
  EXPECT_EQ(Dense(f, 0, 1), 0.0f);
  EXPECT_FLOAT_EQ(Dense(f, 0, 2), 0.0f);  // the newest product: age 0
  EXPECT_EQ(Dense(f, 0, 3), 0.0f);
  // Train-split popularity: q0's click and Exact judgement (q1 is a test query).
  EXPECT_FLOAT_EQ(Dense(f, 0, 4), std::log1p(2.0f));
  EXPECT_FLOAT_EQ(Dense(f, 0, 5), 0.8f);
  EXPECT_EQ(Dense(f, 0, 6), 1.0f);
  EXPECT_FLOAT_EQ(Dense(f, 0, 7), 1.2f);  // BM25 / 10
  EXPECT_EQ(Dense(f, 0, 8), 1.0f);
  EXPECT_FLOAT_EQ(Dense(f, 0, 9), 3.0f / 4.0f);  // red, acme, headphones of 4 query words
  EXPECT_EQ(Dense(f, 0, 10), 1.0f);              // "acme audio": both words in the query
  EXPECT_EQ(Dense(f, 0, 11), 1.0f);              // "red"
  EXPECT_FLOAT_EQ(Dense(f, 0, 12), std::log1p(1.0f));
  EXPECT_FLOAT_EQ(Dense(f, 0, 13), 1.0f);  // the list's largest BM25
  EXPECT_FLOAT_EQ(Dense(f, 0, 14), 0.0f);  // the list's largest cosine
  // P1: unknown rating and age, not in the dense list, no brand or colour.
  EXPECT_EQ(Dense(f, 1, 0), 0.0f);
  EXPECT_EQ(Dense(f, 1, 1), 1.0f);
  EXPECT_EQ(Dense(f, 1, 3), 1.0f);
  EXPECT_EQ(Dense(f, 1, 4), 0.0f);
  EXPECT_EQ(Dense(f, 1, 5), 0.0f);
  EXPECT_EQ(Dense(f, 1, 6), 0.0f);
  EXPECT_FLOAT_EQ(Dense(f, 1, 7), 0.5f);
  EXPECT_EQ(Dense(f, 1, 9), 0.0f);
  EXPECT_EQ(Dense(f, 1, 10), 0.0f);
  EXPECT_EQ(Dense(f, 1, 11), 0.0f);
  EXPECT_FLOAT_EQ(Dense(f, 1, 12), std::log1p(2.0f));
  EXPECT_FLOAT_EQ(Dense(f, 1, 13), 5.0f / 12.0f);
  EXPECT_FLOAT_EQ(Dense(f, 1, 14), 0.0f);  // outside the dense list: the smallest cosine, 0.8
}

TEST(RankingFeaturesTest, ATrainQuerysOwnJudgementsAreLeftOutOfPopularity) {
  const data::Dataset d = HandDataset();
  const RankingFeatureBuilder builder(d);
  RankingFeatures own, other, text;
  builder.Append(d.queries.text[0], 0, {{0, 1, 0, 0, 0, 0}}, &own);
  builder.Append(d.queries.text[1], 1, {{0, 1, 0, 0, 0, 0}}, &other);
  builder.Append(d.queries.text[1], -1, {{0, 1, 0, 0, 0, 0}}, &text);
  EXPECT_EQ(Dense(own, 0, 4), 0.0f);  // q0's click and judgement were all there was
  EXPECT_FLOAT_EQ(Dense(other, 0, 4), std::log1p(2.0f));
  // A test query's row gives what its text alone gives: the query path has no row.
  EXPECT_EQ(other.dense, text.dense);
  EXPECT_EQ(other.ids, text.ids);
  EXPECT_EQ(other.offsets, text.offsets);
}

TEST(RankingFeaturesTest, SparseFieldsAreBagsOfHashedIdsPerField) {
  const data::Dataset d = HandDataset();
  const RankingFeatureBuilder builder(d, {1 << 12});
  RankingFeatures f;
  builder.Append("usb cable", -1, {{1, 1, 0, 0, 0, 0}, {0, 2, 0, 0, 0, 0}}, &f);
  ASSERT_EQ(f.offsets.size(), 2u * kNumSparseFields);
  // Row 0: two query words, then one id per product field; row 1 the same.
  const std::vector<int64_t> offsets = {0, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13};
  EXPECT_EQ(f.offsets, offsets);
  EXPECT_EQ(f.ids.size(), 14u);
  for (int64_t id : f.ids) EXPECT_TRUE(id >= 0 && id < (1 << 12)) << id;
  EXPECT_EQ(f.ids[0], f.ids[7]);  // the same query words on both rows
  EXPECT_NE(f.ids[2], f.ids[9]);  // different products
  // The brand "" of P1 and the colour "" of P1 are different fields: different ids.
  EXPECT_NE(f.ids[3], f.ids[5]);

  const RankingFeatures second = SelectRows(f, 1, 2);
  EXPECT_EQ(second.rows, 1);
  EXPECT_EQ(second.offsets, (std::vector<int64_t>{0, 2, 3, 4, 5, 6}));
  EXPECT_EQ(second.ids, std::vector<int64_t>(f.ids.begin() + 7, f.ids.end()));
  EXPECT_EQ(second.dense, std::vector<float>(f.dense.begin() + kNumDenseFeatures, f.dense.end()));
  EXPECT_THROW(SelectRows(f, 1, 3), Error);
}

TEST(RankingFeaturesTest, RejectsCandidatesOutsideTheCatalogue) {
  const data::Dataset d = HandDataset();
  const RankingFeatureBuilder builder(d);
  RankingFeatures f;
  try {
    builder.Append("x", -1, {{2, 1, 0, 0, 0, 0}}, &f);
    ADD_FAILURE() << "product 2 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("candidate product 2 outside the catalogue of 2"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(builder.Append("x", 5, {}, &f), Error);
  EXPECT_THROW(RankingFeatureBuilder(d, {0}), Error);
}

}  // namespace
}  // namespace recsys::models
