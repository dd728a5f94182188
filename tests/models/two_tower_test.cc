#include "models/two_tower.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "tests/models/two_tower_test_util.h"

namespace recsys::models {
namespace {

using testing_util::SmallDataset;
using testing_util::TinyOptions;

TEST(TwoTowerTest, TowersGiveUnitVectorsOfTheConfiguredSize) {
  const data::Dataset d = SmallDataset(200, 20);
  for (int64_t dim : {64, 32}) {
    TwoTower model(TinyOptions(d).dim(dim));
    TwoTowerFeaturizer f(model->options);
    const torch::Tensor q = model->query->forward(f.Queries({"red shoes", "lamp", "usb cable"}));
    const torch::Tensor p = model->product->forward(f.Products(d, {0, 5, 199}));
    EXPECT_EQ(q.sizes(), (std::vector<int64_t>{3, dim}));
    EXPECT_EQ(p.sizes(), (std::vector<int64_t>{3, dim}));
    EXPECT_TRUE(torch::allclose(p.norm(2, 1), torch::ones({3}), 1e-5, 1e-6));
    EXPECT_TRUE(torch::allclose(q.norm(2, 1), torch::ones({3}), 1e-5, 1e-6));
  }
}

TEST(TwoTowerTest, TextWithoutFeaturesEmbedsAsAFiniteVector) {
  // An empty bag is the zero vector; the untrained residual MLP adds zero, and normalising a zero
  // vector must give zeros (cosine 0 with everything), not NaN.
  const data::Dataset d = SmallDataset(100, 10);
  TwoTower model(TinyOptions(d));
  TwoTowerFeaturizer f(model->options);
  const torch::Tensor q = model->query->forward(f.Queries({"", "!!"}));
  EXPECT_TRUE(torch::isfinite(q).all().item<bool>());
  EXPECT_EQ(q.abs().sum().item<float>(), 0.0f);
}

TEST(TwoTowerTest, EmptyBatchesGiveEmptyEmbeddings) {
  const data::Dataset d = SmallDataset(100, 10);
  TwoTower model(TinyOptions(d));
  TwoTowerFeaturizer f(model->options);
  EXPECT_EQ(model->product->forward(f.Products(d, {})).size(0), 0);
  EXPECT_EQ(model->query->forward(f.Queries({})).size(0), 0);
}

TEST(TwoTowerTest, NumericFeaturesMarkMissingValuesAndUnknownIndices) {
  data::Dataset d = SmallDataset(100, 10);
  d.products.price[0] = NAN;
  d.products.rating[0] = NAN;
  d.products.release_day[0] = data::kUnknownDay;
  d.products.brand[0] = 100000;  // outside the table: read as unknown
  d.products.price[1] = 32.0f;
  d.products.rating[1] = 4.0f;
  d.products.release_day[1] = 18000 - 365;
  TwoTowerFeaturizer f(TinyOptions(d).reference_day(18000));
  const ProductBatch b = f.Products(d, {0, 1});
  const torch::Tensor x = b.numeric;
  EXPECT_EQ(x.sizes(), (std::vector<int64_t>{2, kNumericFeatures}));
  // Missing: value 0 and indicator 1, for price, rating and age.
  EXPECT_TRUE(torch::equal(x[0], torch::tensor({0.f, 1.f, 0.f, 1.f, 0.f, 1.f})));
  EXPECT_NEAR(x[1][0].item<float>(), (std::log1p(32.0) - 3.5) / 1.5, 1e-6);
  EXPECT_NEAR(x[1][2].item<float>(), 0.5, 1e-6);
  EXPECT_NEAR(x[1][4].item<float>(), 1.0 / 5.0 * 365 / 365.25, 1e-6);
  EXPECT_EQ(x[1][1].item<float>() + x[1][3].item<float>() + x[1][5].item<float>(), 0.0f);
  EXPECT_EQ(b.brand[0].item<int64_t>(), 0);
}

TEST(TwoTowerTest, ProductEmbeddingDependsOnContentOnly) {
  // The same content under another id and row embeds identically: cold start works.
  data::Dataset d = SmallDataset(100, 10);
  d.products.id[7] = "NEVER-SEEN";
  d.products.title[7] = d.products.title[3];
  d.products.brand[7] = d.products.brand[3];
  d.products.category[7] = d.products.category[3];
  d.products.colour[7] = d.products.colour[3];
  d.products.price[7] = d.products.price[3];
  d.products.rating[7] = d.products.rating[3];
  d.products.release_day[7] = d.products.release_day[3];
  TwoTower model(TinyOptions(d));
  TwoTowerFeaturizer f(model->options);
  const torch::Tensor p = model->product->forward(f.Products(d, {3, 7}));
  EXPECT_TRUE(torch::equal(p[0], p[1]));
}

TEST(TwoTowerTest, EmbeddingTablesHaveSparseGradients) {
  const data::Dataset d = SmallDataset(100, 10);
  TwoTower model(TinyOptions(d).learn_temperature(true));
  TwoTowerFeaturizer f(model->options);
  const torch::Tensor q = model->query->forward(f.QueryRows(d, {0, 1}));
  const torch::Tensor p = model->product->forward(f.Products(d, {0, 1}));
  ((q * p).sum() * model->scale()).backward();
  auto params = model->named_parameters();
  for (const std::string& name : model->sparse_parameters()) {
    ASSERT_TRUE(params.contains(name)) << name;
    EXPECT_TRUE(params[name].grad().is_sparse()) << name;
  }
  EXPECT_FALSE(params["query.mlp.0.weight"].grad().is_sparse());
  EXPECT_TRUE(params["log_scale"].grad().defined());
}

// The rows of table's gradient that hold a non-zero value, in row order.
std::vector<int64_t> TouchedRows(const torch::Tensor& weight) {
  if (!weight.grad().defined()) return {};
  const torch::Tensor g = weight.grad().coalesce();
  const torch::Tensor nonzero = g._values().abs().sum(1) > 0;
  const torch::Tensor rows = g._indices()[0].masked_select(nonzero);
  return std::vector<int64_t>(rows.data_ptr<int64_t>(), rows.data_ptr<int64_t>() + rows.numel());
}

std::vector<int64_t> SortedUniqueIds(const torch::Tensor& ids) {
  std::vector<int64_t> v(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

TEST(TwoTowerTest, TiedTextTableIsOneParameterThatBothTowersTrain) {
  const data::Dataset d = SmallDataset(100, 10);
  TwoTower model(TinyOptions(d));  // tie_text is the default
  auto params = model->named_parameters();
  EXPECT_TRUE(params.contains("text.weight"));
  EXPECT_FALSE(params.contains("query.text.weight"));
  EXPECT_FALSE(params.contains("product.title.weight"));
  EXPECT_TRUE(model->query->text->weight.is_same(model->product->title->weight));

  TwoTowerFeaturizer f(model->options);
  const QueryBatch qb = f.Queries({"red running shoes"});
  const ProductBatch pb = f.Products(d, {4});
  // The first step's gradient reaches the table through the bags only (the MLPs' output layers
  // start at zero), so the touched rows are exactly the ids of the texts that were embedded.
  model->query->forward(qb).sum().backward();
  EXPECT_EQ(TouchedRows(model->text->weight), SortedUniqueIds(qb.ids));
  model->zero_grad();
  model->product->forward(pb).sum().backward();
  EXPECT_EQ(TouchedRows(model->text->weight), SortedUniqueIds(pb.title_ids));
  model->zero_grad();
  (model->query->forward(qb) * model->product->forward(pb)).sum().backward();
  EXPECT_EQ(TouchedRows(model->text->weight), SortedUniqueIds(torch::cat({qb.ids, pb.title_ids})));
}

TEST(TwoTowerTest, UntiedTowersHaveTheirOwnTextTables) {
  const data::Dataset d = SmallDataset(100, 10);
  TwoTower model(TinyOptions(d).tie_text(false));
  auto params = model->named_parameters();
  EXPECT_FALSE(params.contains("text.weight"));
  ASSERT_TRUE(params.contains("query.text.weight"));
  ASSERT_TRUE(params.contains("product.title.weight"));
  TwoTowerFeaturizer f(model->options);
  const QueryBatch qb = f.Queries({"red running shoes"});
  model->query->forward(qb).sum().backward();
  EXPECT_EQ(TouchedRows(params["query.text.weight"]), SortedUniqueIds(qb.ids));
  EXPECT_TRUE(TouchedRows(params["product.title.weight"]).empty());
}

TEST(TwoTowerTest, UntrainedTiedModelMatchesAQueryToTheTitleItRepeats) {
  // A query that repeats a title embeds onto that title's product (cosine 1): the shared words
  // count before any training. Two untied random tables give no such match.
  data::Dataset d = SmallDataset(100, 10);
  for (bool tie : {true, false}) {
    TwoTower model(TinyOptions(d).tie_text(tie));
    TwoTowerFeaturizer f(model->options);
    torch::NoGradGuard no_grad;
    const torch::Tensor q = model->query->forward(f.Queries({d.products.title[9]}));
    const torch::Tensor p = model->product->forward(f.Products(d, {9}));
    const double cosine = (q * p).sum().item<double>();
    if (tie) {
      EXPECT_NEAR(cosine, 1.0, 1e-5);
    } else {
      EXPECT_LT(cosine, 0.9);
    }
  }
}

TEST(TwoTowerTest, EmbeddingARangeIsBitIdenticalToEmbeddingItInsideALargerOne) {
  const data::Dataset d = SmallDataset(300, 10);
  TwoTower model(TinyOptions(d));
  TwoTowerFeaturizer f(model->options);
  const int64_t dim = model->options.dim();
  const std::vector<float> all = EmbedProductRange(model, f, d, 0, 300, 64);
  const std::vector<float> part = EmbedProductRange(model, f, d, 70, 200, 64);
  ASSERT_EQ(part.size(), static_cast<size_t>(130 * dim));
  EXPECT_TRUE(std::equal(part.begin(), part.end(), all.begin() + 70 * dim));
}

TEST(TwoTowerTest, ConfigurationRoundTripsAndHashFollowsParameters) {
  const data::Dataset d = SmallDataset(100, 10);
  const TwoTowerOptions o = TinyOptions(d).temperature(0.07).learn_temperature(true);
  EXPECT_EQ(ToConfig(TwoTowerOptionsFromConfig(ToConfig(o))), ToConfig(o));
  ModelConfig bad = ToConfig(o);
  bad["dim"] = "sixty";
  EXPECT_THROW(TwoTowerOptionsFromConfig(bad), Error);
  TwoTower model(o);
  const std::string hash = ParameterHash(*model);
  EXPECT_EQ(hash.size(), 16u);
  EXPECT_EQ(ParameterHash(*model), hash);
  torch::NoGradGuard no_grad;
  model->query->mlp->parameters()[0][0][0].add_(1.0f);
  EXPECT_NE(ParameterHash(*model), hash);
}

}  // namespace
}  // namespace recsys::models
