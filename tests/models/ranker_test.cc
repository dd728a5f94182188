#include "models/ranker.h"

#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <filesystem>

#include "core/error.h"
#include "core/stable_hash.h"
#include "dist/mpi_communicator.h"
#include "models/ranker_objective.h"
#include "models/training_loop.h"
#include "tests/models/two_tower_test_util.h"
#include "tests/test_util.h"

namespace recsys::models {
namespace {

namespace fs = std::filesystem;

const data::Dataset& Dataset() {
  static const data::Dataset d = testing_util::SmallDataset(600, 400, 7);
  return d;
}

// Each query of the split: its judged products and 10 random ones, in a made-up candidate order,
// with made-up recall scores that favour the judged products a little.
RankingSet MakeSet(data::Split split) {
  const data::Dataset& d = Dataset();
  const RankingFeatureBuilder builder(d, {1 << 12});
  RankingSet set;
  for (const JudgedQuery& q : JudgedQueries(d, split)) {
    std::vector<CandidateSignals> signals;
    std::vector<int64_t> products(q.products.begin(), q.products.end());
    for (int k = 0; k < 10; ++k) {
      const auto p = static_cast<int64_t>(HashCombine(q.query, k) % d.products.size());
      if (std::find(products.begin(), products.end(), p) == products.end()) products.push_back(p);
    }
    std::sort(products.begin(), products.end());  // the candidate order mixes grades
    for (size_t i = 0; i < products.size(); ++i) {
      const auto judged = std::find(q.products.begin(), q.products.end(), products[i]);
      const data::Grade grade = judged == q.products.end() ? data::Grade::kIrrelevant
                                                           : q.grades[judged - q.products.begin()];
      signals.push_back({products[i], static_cast<int32_t>(i + 1), 0.1f * static_cast<float>(grade),
                         2.0f, static_cast<int32_t>(i + 1), static_cast<int32_t>(i + 1)});
      set.products.push_back(static_cast<int32_t>(products[i]));
      set.grades.push_back(grade);
    }
    builder.Append(d.queries.text[q.query], q.query, signals, &set.features);
    set.group_offsets.push_back(set.features.rows);
    set.queries.push_back(q.query);
  }
  return set;
}

class RankerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    train_ = new RankingSet(MakeSet(data::Split::kTrain));
    valid_ = new RankingSet(MakeSet(data::Split::kValid));
  }
  static void TearDownTestSuite() {
    delete train_;
    delete valid_;
  }
  void SetUp() override {
    dir_ = testing::SharedTempDir(world_, "recsys_ranker_test");
    world_.Barrier();
  }
  void TearDown() override {
    world_.Barrier();
    if (world_.rank() == 0) fs::remove_all(dir_);
  }

  RankerTrainOptions Options(const std::string& name) const {
    RankerTrainOptions o = ParseRankerName(name, RankerTrainOptions());
    o.epochs = 2;
    o.batch_queries = 16;
    o.warmup_steps = 2;
    o.deep = "32";
    o.xgboost.rounds = 20;
    o.xgboost.min_child_weight = 0.01;
    return o;
  }

  static RankingSet* train_;
  static RankingSet* valid_;
  dist::MpiCommunicator world_{MPI_COMM_WORLD};
  dist::MpiCommunicator self_{MPI_COMM_SELF};
  std::string dir_;
};
RankingSet* RankerTest::train_ = nullptr;
RankingSet* RankerTest::valid_ = nullptr;

// N ranks == 1 rank for the neural rankers, through the shared loop: the same global batches give
// the same parameters. In float64, as for the towers: Adam's first steps turn a gradient's
// rounding noise into a full step, so float32 runs differ by more than rounding.
TEST_F(RankerTest, FmAndDcnTrainedOnNRanksEqualOneRank) {
  auto train = [&](const std::string& name, dist::Communicator& comm, const std::string& folder) {
    torch::manual_seed(3);
    std::shared_ptr<RankerNetImpl> net;
    if (name == "fm") {
      net = std::make_shared<FmImpl>(FmOptions().num_buckets(1 << 12).factors(8));
    } else {
      net = std::make_shared<DcnImpl>(
          DcnOptions().num_buckets(1 << 12).embedding_dim(8).cross_layers(2).deep("32"));
    }
    net->to(torch::kFloat64);
    RankerObjective objective(*net, {}, *train_, *valid_, Dataset());
    TrainingLoopOptions loop;
    loop.name = name;
    loop.checkpoint = folder + "/" + name + ".h5";
    loop.model = {name, net->config()};
    loop.epochs = 2;
    loop.batch_size = 16;
    loop.trainer.learning_rate = 0.01;
    loop.trainer.warmup_steps = 2;
    RunTrainingLoop(*net, net->sparse_parameters(), objective, loop, MakeGradientPath("cpu", comm),
                    comm);
    return net;
  };
  for (const std::string name : {"fm", "dcn"}) {
    const auto many = train(name, world_, dir_ + "/many");
    const auto one = train(name, self_, dir_ + "/one_" + std::to_string(world_.rank()));
    testing_util::ExpectModulesClose(*many, *one, 1e-5, 1e-9);
    torch::manual_seed(3);
    const FmImpl initial(FmOptions().num_buckets(1 << 12).factors(8));
    if (name == "fm") {
      EXPECT_FALSE(torch::allclose(
          initial.dense_factors,
          std::static_pointer_cast<FmImpl>(many)->dense_factors.to(torch::kFloat32)));
    }
  }
}

// Every ranker kind learns the made-up signal (the dense score rises with the grade) well above
// the candidate order, and loads back from its checkpoint.
TEST_F(RankerTest, EveryKindBeatsTheCandidateOrderAndLoadsBack) {
  std::vector<float> order(valid_->rows());
  for (int64_t r = 0; r < valid_->rows(); ++r) order[r] = -static_cast<float>(r);
  RankingMetrics base({10});
  const auto base_ranked = RankGroups(*valid_, order);
  const std::vector<JudgedQuery> judged = JudgedQueries(Dataset(), data::Split::kValid);
  for (size_t g = 0; g < judged.size(); ++g) base.Add(base_ranked[g], judged[g]);
  for (const std::string name : {"fm", "fm-bce", "dcn-2-vector-stacked", "xgboost"}) {
    RankerTrainOptions o = Options(name);
    o.epochs = 4;
    const RankerTrainReport report =
        TrainRanker(o, dir_ + "/kinds", *train_, *valid_, Dataset(), world_);
    const auto ranker = LoadRanker(report.checkpoint);
    EXPECT_EQ(ranker->name(), name);
    EXPECT_GT(ranker->train_seconds(), 0);
    RankingMetrics metrics({10});
    const auto ranked = RankGroups(*valid_, ranker->Score(valid_->features));
    for (size_t g = 0; g < judged.size(); ++g) metrics.Add(ranked[g], judged[g]);
    EXPECT_GT(metrics.Ndcg(10), base.Ndcg(10) + 0.1) << name;
    EXPECT_NEAR(metrics.Ndcg(10), report.best_valid_ndcg, 1e-5) << name;
  }
}

TEST(RankerNamesTest, NamesRoundTripAndBadNamesAreRefused) {
  const RankerTrainOptions base;
  for (const std::string name :
       {"fm", "fm-bce", "xgboost", "dcn-2", "dcn-6-vector", "dcn-4-stacked-bce"}) {
    EXPECT_EQ(RankerName(ParseRankerName(name, base)), name);
  }
  EXPECT_EQ(ParseRankerName("dcn", base).cross_layers, base.cross_layers);
  EXPECT_EQ(ParseRankerName("dcn-4", base).cross_layers, 4);
  for (const std::string bad : {"gbdt", "fm-vector", "xgboost-2", "dcn-x", ""}) {
    try {
      ParseRankerName(bad, base);
      ADD_FAILURE() << "'" << bad << "' accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("unknown ranker '" + bad + "'"), std::string::npos)
          << e.what();
    }
  }
}

TEST(LoadRankerTest, NamesTheFileItCannotRead) {
  try {
    LoadRanker("/nonexistent/ranker_fm.h5");
    ADD_FAILURE() << "a missing checkpoint loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ranker_fm.h5"), std::string::npos)
        << e.what();
  }
}

TEST(RankGroupsTest, OrdersEachGroupByScoreWithTiesInCandidateOrder) {
  RankingSet set;
  set.products = {10, 11, 12, 20, 21};
  set.group_offsets = {0, 3, 5};
  set.queries = {0, 1};
  set.features.rows = 5;
  const auto ranked = RankGroups(set, {0.5f, 0.9f, 0.5f, 1.0f, 2.0f});
  EXPECT_EQ(ranked[0], (std::vector<int32_t>{11, 10, 12}));
  EXPECT_EQ(ranked[1], (std::vector<int32_t>{21, 20}));
  EXPECT_THROW(RankGroups(set, {1.0f}), Error);
}

}  // namespace
}  // namespace recsys::models
