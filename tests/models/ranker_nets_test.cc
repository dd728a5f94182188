#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "models/checkpoint.h"
#include "models/ranker_net.h"
#include "tests/test_util.h"

namespace recsys::models {
namespace {

using ::testing::HasSubstr;
constexpr int64_t F = kNumSparseFields, D = kNumDenseFeatures;

using testing::ErrorOf;

// Random rows: bags of 0-3 ids in [0, buckets) (row 0's first field and the last row's last field
// empty), dense features normal(0, 1).
RankingFeatures RandomFeatures(int64_t rows, int64_t buckets, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> id(0, buckets - 1);
  std::uniform_int_distribution<int> length(0, 3);
  std::normal_distribution<float> normal;
  RankingFeatures f;
  f.rows = rows;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t field = 0; field < F; ++field) {
      f.offsets.push_back(static_cast<int64_t>(f.ids.size()));
      const bool empty = (r == 0 && field == 0) || (r == rows - 1 && field == F - 1);
      const int n = empty ? 0 : std::max(1, length(rng));
      for (int i = 0; i < n; ++i) f.ids.push_back(id(rng));
    }
    for (int64_t j = 0; j < D; ++j) f.dense.push_back(normal(rng));
  }
  return f;
}

void Randomise(torch::nn::Module& model, double std) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters()) p.normal_(0, std);
}

// The bag (row, field) of f.
std::vector<int64_t> BagOf(const RankingFeatures& f, int64_t row, int64_t field) {
  const int64_t b = row * F + field;
  const int64_t end = b + 1 < f.rows * F ? f.offsets[b + 1] : static_cast<int64_t>(f.ids.size());
  return std::vector<int64_t>(f.ids.begin() + f.offsets[b], f.ids.begin() + end);
}

// The FM score of row by its definition: the sum over pairs of features of <e_i, e_j>.
double NaiveFm(FmImpl& m, const RankingFeatures& f, int64_t row) {
  const torch::Tensor E = m.embedding.detach(), W = m.first_order.detach();
  const torch::Tensor V = m.dense_factors.detach(), L = m.dense_linear.detach();
  const int64_t k = m.options.factors();
  std::vector<std::vector<double>> e;
  double score = m.bias.item<double>();
  for (int64_t field = 0; field < F; ++field) {
    const std::vector<int64_t> bag = BagOf(f, row, field);
    std::vector<double> mean(k, 0.0);
    double w = 0;
    for (int64_t id : bag) {
      for (int64_t c = 0; c < k; ++c) mean[c] += E[id][c].item<double>() / bag.size();
      w += W[id][0].item<double>() / bag.size();
    }
    e.push_back(mean);
    score += w;
  }
  for (int64_t j = 0; j < D; ++j) {
    const double x = f.dense[row * D + j];
    std::vector<double> v(k);
    for (int64_t c = 0; c < k; ++c) v[c] = x * V[j][c].item<double>();
    e.push_back(v);
    score += x * L[j].item<double>();
  }
  for (size_t i = 0; i < e.size(); ++i) {
    for (size_t j = i + 1; j < e.size(); ++j) {
      for (int64_t c = 0; c < k; ++c) score += e[i][c] * e[j][c];
    }
  }
  return score;
}

// ---- Input
// ---------------------------------------------------------------------------------------

TEST(ToRankerInputTest, CopiesARowRangeWithOffsetsFromZero) {
  const RankingFeatures f = RandomFeatures(4, 50, 1);
  const RankerInput in = ToRankerInput(f, 1, 3);
  ASSERT_EQ(in.offsets.numel(), 2 * F);
  EXPECT_EQ(in.offsets[0].item<int64_t>(), 0);
  ASSERT_EQ(in.dense.sizes(), (std::vector<int64_t>{2, D}));
  for (int64_t r = 0; r < 2; ++r) {
    for (int64_t field = 0; field < F; ++field) {
      const int64_t b = r * F + field;
      const int64_t start = in.offsets[b].item<int64_t>();
      const int64_t end = b + 1 < 2 * F ? in.offsets[b + 1].item<int64_t>() : in.ids.numel();
      std::vector<int64_t> got;
      for (int64_t i = start; i < end; ++i) got.push_back(in.ids[i].item<int64_t>());
      EXPECT_EQ(got, BagOf(f, r + 1, field)) << "row " << r << " field " << field;
    }
    for (int64_t j = 0; j < D; ++j)
      EXPECT_EQ(in.dense[r][j].item<float>(), f.dense[(r + 1) * D + j]);
  }
  // The last row (its last bag empty) and an empty range.
  EXPECT_EQ(ToRankerInput(f, 3, 4).ids.numel(),
            static_cast<int64_t>(f.ids.size()) - f.offsets[3 * F]);
  const RankerInput none = ToRankerInput(f, 2, 2);
  EXPECT_EQ(none.offsets.numel(), 0);
  EXPECT_EQ(none.ids.numel(), 0);
  EXPECT_EQ(none.dense.sizes(), (std::vector<int64_t>{0, D}));
  EXPECT_THAT(ErrorOf([&] { ToRankerInput(f, 2, 5); }), HasSubstr("rows [2, 5) of 4"));
  RankingFeatures bad = f;
  bad.dense.pop_back();
  EXPECT_THAT(ErrorOf([&] { ToRankerInput(bad, 0, 1); }), HasSubstr("dense values"));
}

// ---- FM
// ------------------------------------------------------------------------------------------

TEST(FmTest, ForwardEqualsTheSumOverPairsOfFeatures) {
  torch::manual_seed(3);
  Fm model(FmOptions().num_buckets(40).factors(5));
  model->to(torch::kFloat64);
  Randomise(*model, 0.5);
  const RankingFeatures f = RandomFeatures(6, 40, 7);
  const torch::Tensor scores = model->forward(ToRankerInput(f, 0, f.rows));
  ASSERT_EQ(scores.sizes(), (std::vector<int64_t>{f.rows}));
  for (int64_t r = 0; r < f.rows; ++r) {
    EXPECT_NEAR(scores[r].item<double>(), NaiveFm(*model, f, r), 1e-10) << "row " << r;
  }
}

TEST(FmTest, StartsWithSmallFactorsAndZeroLinearTerms) {
  Fm model(FmOptions().num_buckets(1000));
  EXPECT_NEAR(model->embedding.std().item<double>(), 0.01, 0.001);
  EXPECT_EQ(model->first_order.abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(model->dense_linear.abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(model->bias.item<float>(), 0.0f);
  EXPECT_EQ(model->sparse_parameters(), (std::vector<std::string>{"embedding", "first_order"}));
}

TEST(FmTest, RejectsBadOptions) {
  EXPECT_THAT(ErrorOf([] { FmImpl m(FmOptions().factors(0)); }),
              HasSubstr("factors must be >= 1, got 0"));
  EXPECT_THAT(ErrorOf([] { FmImpl m(FmOptions().num_buckets(-3)); }),
              HasSubstr("num_buckets must be >= 1, got -3"));
}

// ---- DCN
// -----------------------------------------------------------------------------------------

TEST(CrossLayerTest, MatrixFormMatchesAHandComputedExample) {
  CrossLayer layer(2, CrossKind::kMatrix);
  {
    torch::NoGradGuard no_grad;
    layer->weight.copy_(torch::tensor({{1.0f, 0.0f}, {2.0f, 1.0f}}));
    layer->bias.copy_(torch::tensor({0.5f, -0.5f}));
  }
  // W x + b = [3 + 0.5, 6 - 1 - 0.5] = [3.5, 4.5]; x0 * that = [3.5, 9]; + x = [6.5, 8].
  const torch::Tensor x0 = torch::tensor({{1.0f, 2.0f}});
  const torch::Tensor x = torch::tensor({{3.0f, -1.0f}});
  EXPECT_TRUE(torch::equal(layer->forward(x0, x), torch::tensor({{6.5f, 8.0f}})));
}

TEST(CrossLayerTest, VectorFormMatchesAHandComputedExample) {
  CrossLayer layer(2, CrossKind::kVector);
  {
    torch::NoGradGuard no_grad;
    layer->weight.copy_(torch::tensor({1.0f, 2.0f}));
    layer->bias.copy_(torch::tensor({0.5f, -0.5f}));
  }
  // Row 0: x . w = 3 - 2 = 1; x0 * 1 + b + x = [1, 2] + [0.5, -0.5] + [3, -1] = [4.5, 0.5].
  // Row 1: x . w = 1 + 4 = 5; [5, -5] + [0.5, -0.5] + [1, 2] = [6.5, -3.5].
  const torch::Tensor x0 = torch::tensor({{1.0f, 2.0f}, {1.0f, -1.0f}});
  const torch::Tensor x = torch::tensor({{3.0f, -1.0f}, {1.0f, 2.0f}});
  EXPECT_TRUE(torch::equal(layer->forward(x0, x), torch::tensor({{4.5f, 0.5f}, {6.5f, -3.5f}})));
}

TEST(DcnTest, StackedAndParallelGiveOneLogitPerRow) {
  const RankingFeatures f = RandomFeatures(5, 100, 2);
  const RankerInput in = ToRankerInput(f, 0, f.rows);
  const int64_t width = F * 4 + D;
  struct Case {
    std::string structure, deep;
    int64_t head_in;
  };
  for (const Case& c : {Case{"stacked", "8,3", 3}, Case{"parallel", "8,3", width + 3},
                        Case{"stacked", "", width}, Case{"parallel", "", width}}) {
    Dcn model(DcnOptions().num_buckets(100).embedding_dim(4).deep(c.deep).structure(c.structure));
    EXPECT_EQ(model->input_width(), width);
    EXPECT_EQ(model->head->weight.size(1), c.head_in) << c.structure << " deep=" << c.deep;
    const torch::Tensor out = model->forward(in);
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{f.rows})) << c.structure << " deep=" << c.deep;
    EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
  }
}

TEST(DcnTest, ParallelConcatenatesCrossAndDeepOutputsOfX0) {
  // With no cross layers the cross output is x0 itself; the head then sees [x0, deep(x0)].
  torch::manual_seed(5);
  Dcn model(DcnOptions().num_buckets(30).embedding_dim(2).cross_layers(0).deep("4").structure(
      "parallel"));
  const RankingFeatures f = RandomFeatures(3, 30, 4);
  const RankerInput in = ToRankerInput(f, 0, f.rows);
  torch::NoGradGuard no_grad;
  const torch::Tensor bags =
      std::get<0>(torch::embedding_bag(model->embedding, in.ids, in.offsets, false, /*mean=*/1));
  const torch::Tensor x0 = torch::cat({bags.view({f.rows, -1}), in.dense}, 1);
  const torch::Tensor expected =
      model->head->forward(torch::cat({x0, model->deep->forward(x0)}, 1)).squeeze(1);
  EXPECT_TRUE(torch::allclose(model->forward(in), expected, 1e-6, 1e-7));
}

TEST(DcnTest, AnyNumberOfCrossLayersOfEitherKindRuns) {
  const RankingFeatures f = RandomFeatures(4, 100, 3);
  const RankerInput in = ToRankerInput(f, 0, f.rows);
  for (const std::string kind : {"matrix", "vector"}) {
    for (int64_t layers : {0, 2, 4, 6}) {
      Dcn model(DcnOptions().num_buckets(100).embedding_dim(4).cross_layers(layers).cross(kind));
      EXPECT_EQ(static_cast<int64_t>(model->cross.size()), layers);
      int64_t cross_params = 0;
      for (const auto& p : model->named_parameters()) {
        cross_params += p.key().rfind("cross.", 0) == 0;
      }
      EXPECT_EQ(cross_params, 2 * layers) << kind << " " << layers;
      if (layers > 0) {
        EXPECT_EQ(model->named_parameters()["cross.0.weight"].dim(), kind == "matrix" ? 2 : 1);
      }
      const torch::Tensor out = model->forward(in);
      EXPECT_EQ(out.sizes(), (std::vector<int64_t>{f.rows}));
      EXPECT_TRUE(torch::isfinite(out).all().item<bool>()) << kind << " " << layers;
    }
  }
}

TEST(DcnTest, RejectsBadOptionsNamingTheValue) {
  auto error = [](const DcnOptions& o) { return ErrorOf([&] { DcnImpl m(o); }); };
  EXPECT_THAT(error(DcnOptions().cross("diagonal")),
              HasSubstr("unknown cross layer \"diagonal\" (matrix, vector)"));
  EXPECT_THAT(error(DcnOptions().structure("serial")),
              HasSubstr("unknown structure \"serial\" (stacked, parallel)"));
  EXPECT_THAT(error(DcnOptions().cross_layers(-1)), HasSubstr("cross_layers must be >= 0, got -1"));
  EXPECT_THAT(error(DcnOptions().embedding_dim(0)), HasSubstr("embedding_dim must be >= 1, got 0"));
  EXPECT_THAT(error(DcnOptions().deep("256,x")), HasSubstr("\"x\" is not an integer >= 1"));
  EXPECT_THAT(error(DcnOptions().deep("256,0")), HasSubstr("\"0\" is not an integer >= 1"));
  EXPECT_THAT(error(DcnOptions().deep("256,,8")), HasSubstr("\"\" is not an integer >= 1"));
  EXPECT_THAT(error(DcnOptions().deep("256,")), HasSubstr("end with a comma"));
}

TEST(DcnTest, ParsesHiddenSizes) {
  EXPECT_EQ(ParseHiddenSizes("256,128"), (std::vector<int64_t>{256, 128}));
  EXPECT_EQ(ParseHiddenSizes("64"), (std::vector<int64_t>{64}));
  EXPECT_TRUE(ParseHiddenSizes("").empty());
}

// ---- Both
// ----------------------------------------------------------------------------------------

TEST(RankerNetTest, EmptyBatchGivesNoScoresAndBackwardRuns) {
  const RankingFeatures f = RandomFeatures(3, 50, 5);
  const RankerInput none = ToRankerInput(f, 1, 1);
  std::vector<std::shared_ptr<RankerNetImpl>> models = {
      std::make_shared<FmImpl>(FmOptions().num_buckets(50)),
      std::make_shared<DcnImpl>(DcnOptions().num_buckets(50).deep("8"))};
  for (auto& model : models) {
    const torch::Tensor out = model->forward(none);
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{0}));
    out.sum().backward();
  }
}

TEST(RankerNetTest, TablesGetSparseGradientsEqualToFiniteDifferences) {
  torch::manual_seed(11);
  const int64_t buckets = 7;
  std::vector<std::shared_ptr<RankerNetImpl>> models = {
      std::make_shared<FmImpl>(FmOptions().num_buckets(buckets).factors(3)),
      std::make_shared<DcnImpl>(
          DcnOptions().num_buckets(buckets).embedding_dim(2).cross_layers(1).deep("3")),
      std::make_shared<DcnImpl>(DcnOptions()
                                    .num_buckets(buckets)
                                    .embedding_dim(2)
                                    .cross_layers(2)
                                    .cross("vector")
                                    .deep("3")
                                    .structure("parallel"))};
  const RankingFeatures f = RandomFeatures(3, buckets, 9);
  const RankerInput in = ToRankerInput(f, 0, f.rows);
  const std::set<int64_t> touched(f.ids.begin(), f.ids.end());
  const torch::Tensor coefficients = torch::randn({f.rows}, torch::kFloat64);
  for (auto& model : models) {
    model->to(torch::kFloat64);
    Randomise(*model, 0.5);
    auto loss = [&] { return (model->forward(in) * coefficients).sum(); };
    model->zero_grad();
    loss().backward();
    auto params = model->named_parameters();
    const ModelConfig config = model->config();
    for (const std::string& name : model->sparse_parameters()) {
      SCOPED_TRACE(config.at("model") + " " + name);
      ASSERT_TRUE(params.contains(name));
      torch::Tensor table = params[name];
      const torch::Tensor grad = table.grad();
      ASSERT_TRUE(grad.is_sparse());
      // One row per distinct id, in id order (accumulation into .grad drops the coalesced flag,
      // not the order; see embedding_bag_test.cc).
      const torch::Tensor rows = grad._indices().reshape({-1}).contiguous();
      EXPECT_EQ(
          std::vector<int64_t>(rows.data_ptr<int64_t>(), rows.data_ptr<int64_t>() + rows.numel()),
          std::vector<int64_t>(touched.begin(), touched.end()));
      const torch::Tensor dense_grad = grad.to_dense();
      torch::NoGradGuard no_grad;
      const double eps = 1e-6;
      for (int64_t r = 0; r < table.size(0); ++r) {
        for (int64_t c = 0; c < table.size(1); ++c) {
          const double saved = table[r][c].item<double>();
          table[r][c] = saved + eps;
          const double up = loss().item<double>();
          table[r][c] = saved - eps;
          const double down = loss().item<double>();
          table[r][c] = saved;
          EXPECT_NEAR(dense_grad[r][c].item<double>(), (up - down) / (2 * eps), 1e-7)
              << "row " << r << " col " << c;
        }
      }
    }
    for (const auto& p : params) {
      const auto sparse = model->sparse_parameters();
      if (std::find(sparse.begin(), sparse.end(), p.key()) == sparse.end()) {
        EXPECT_FALSE(p.value().grad().is_sparse()) << p.key();
      }
    }
  }
}

class RankerCheckpointTest : public recsys::testing::TempDirTest {};

TEST_F(RankerCheckpointTest, ConfigRebuildsTheModelAndCheckpointsRoundTrip) {
  const RankingFeatures f = RandomFeatures(5, 64, 6);
  const RankerInput in = ToRankerInput(f, 0, f.rows);
  const std::vector<ModelConfig> configs = {
      FmImpl(FmOptions().num_buckets(64).factors(4)).config(),
      DcnImpl(DcnOptions().num_buckets(64).embedding_dim(3).deep("5,4")).config(),
      DcnImpl(DcnOptions()
                  .num_buckets(64)
                  .embedding_dim(3)
                  .cross_layers(4)
                  .cross("vector")
                  .deep("")
                  .structure("parallel"))
          .config()};
  for (const ModelConfig& config : configs) {
    SCOPED_TRACE(config.at("model"));
    torch::manual_seed(1);
    std::shared_ptr<RankerNetImpl> a = MakeRankerNet(config);
    EXPECT_EQ(a->config(), config);
    Randomise(*a, 0.3);
    const std::string path = Path(config.at("model") + ".h5");
    {
      H5Writer out(path);
      WriteCheckpointInfo(out, {config.at("model"), a->config(), 5, 1}, torch::kFloat32);
      WriteModule(out, *a);
      out.Commit();
    }
    H5Reader reader(path);
    const CheckpointInfo info = ReadCheckpointInfo(reader);
    torch::manual_seed(2);
    std::shared_ptr<RankerNetImpl> b = MakeRankerNet(info.config);
    EXPECT_EQ(b->config(), config);
    EXPECT_FALSE(torch::equal(a->forward(in), b->forward(in)));
    ReadModule(reader, *b);
    EXPECT_TRUE(torch::equal(a->forward(in), b->forward(in)));
  }
}

TEST(MakeRankerNetTest, NamesAMissingOrMalformedKey) {
  ModelConfig dcn = DcnImpl(DcnOptions().num_buckets(64)).config();
  EXPECT_EQ(dcn.at("model"), "dcn");
  EXPECT_THAT(ErrorOf([] { MakeRankerNet({}); }), HasSubstr("ranker configuration has no model"));
  EXPECT_THAT(ErrorOf([] {
                MakeRankerNet({{"model", "gbdt"}});
              }),
              HasSubstr("unknown model \"gbdt\" (fm, dcn)"));
  ModelConfig fm = FmImpl(FmOptions().num_buckets(64)).config();
  fm.erase("factors");
  EXPECT_THAT(ErrorOf([&] { MakeRankerNet(fm); }), HasSubstr("has no factors"));
  ModelConfig malformed = dcn;
  malformed["cross_layers"] = "two";
  EXPECT_THAT(ErrorOf([&] { MakeRankerNet(malformed); }),
              HasSubstr("cross_layers=two is not an integer"));
  malformed = dcn;
  malformed["embedding_dim"] = "16x";
  EXPECT_THAT(ErrorOf([&] { MakeRankerNet(malformed); }),
              HasSubstr("embedding_dim=16x is not an integer"));
  malformed = dcn;
  malformed["cross"] = "diag";
  EXPECT_THAT(ErrorOf([&] { MakeRankerNet(malformed); }), HasSubstr("\"diag\""));
}

}  // namespace
}  // namespace recsys::models
