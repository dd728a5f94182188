#include "models/xgboost_ranker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "tests/test_util.h"

namespace recsys::models {
namespace {

using testing::ErrorOf;
using testing::Mentions;

constexpr int kSignal = 3;  // the one feature the grade depends on

// A uniform float in [0, 1) from the generator's bits (the same on every standard library, unlike
// std::uniform_real_distribution).
float Uniform(std::mt19937& rng) { return static_cast<float>(rng() >> 8) / 16777216.0f; }

// The grade of a row: the quarter of [0, 1) that feature kSignal falls in (0 I .. 3 E).
float GradeOf(float signal) { return std::floor(4 * signal); }

// groups queries of rows_per_group rows each; every feature is noise except kSignal, whose
// quarter is the label.
RankingGroups MakeGroups(int groups, int rows_per_group, uint32_t seed) {
  std::mt19937 rng(seed);
  RankingGroups g;
  g.group_offsets.push_back(0);
  for (int q = 0; q < groups; ++q) {
    for (int r = 0; r < rows_per_group; ++r) {
      for (int f = 0; f < kNumDenseFeatures; ++f) g.dense.push_back(Uniform(rng));
      g.labels.push_back(GradeOf(g.dense[g.dense.size() - kNumDenseFeatures + kSignal]));
    }
    g.group_offsets.push_back(g.group_offsets.back() + rows_per_group);
  }
  return g;
}

// Row indices sorted by decreasing score.
std::vector<int> OrderOf(const std::vector<float>& scores) {
  std::vector<int> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return scores[a] > scores[b]; });
  return order;
}

XgboostRankerOptions SmallOptions() {
  XgboostRankerOptions options;
  options.rounds = 40;
  options.max_depth = 3;
  options.eta = 0.3;
  return options;
}

class XgboostRankerTest : public testing::TempDirTest {};

TEST_F(XgboostRankerTest, OrdersAHeldOutQueryByTheSignalFeature) {
  const RankingGroups train = MakeGroups(20, 10, 7);
  const XgboostRanker ranker = XgboostRanker::Train(train, RankingGroups{}, SmallOptions());
  EXPECT_EQ(ranker.rounds_trained(), 40);
  EXPECT_EQ(ranker.best_iteration(), 39);  // no valid set: every tree

  // One candidate per grade, at the middle of its quarter, in a shuffled order; the other
  // features are noise.
  const float signals[] = {0.375f, 0.875f, 0.125f, 0.625f};
  std::mt19937 rng(99);
  std::vector<float> held_out;
  for (float signal : signals) {
    for (int f = 0; f < kNumDenseFeatures; ++f) held_out.push_back(Uniform(rng));
    held_out[held_out.size() - kNumDenseFeatures + kSignal] = signal;
  }
  const std::vector<float> scores = ranker.Score(held_out.data(), 4);
  ASSERT_EQ(scores.size(), 4u);
  EXPECT_EQ(OrderOf(scores), (std::vector<int>{1, 3, 0, 2}));
}

TEST_F(XgboostRankerTest, EarlyStoppingScoresWithTheBestIterationOnly) {
  const RankingGroups train = MakeGroups(20, 10, 7);
  const RankingGroups valid = MakeGroups(5, 10, 8);
  XgboostRankerOptions options = SmallOptions();
  options.rounds = 300;
  options.early_stopping_rounds = 5;
  const XgboostRanker stopped = XgboostRanker::Train(train, valid, options);
  ASSERT_LT(stopped.rounds_trained(), 300);
  EXPECT_EQ(stopped.rounds_trained(), stopped.best_iteration() + 1 + 5);

  // hist trees do not depend on the valid set, so a model trained for exactly best + 1 rounds
  // has the same first trees: its scores are what the stopped model must give, and the trees
  // after the best must change them.
  XgboostRankerOptions exact = options;
  exact.rounds = stopped.best_iteration() + 1;
  const XgboostRanker truncated = XgboostRanker::Train(train, RankingGroups{}, exact);
  exact.rounds = stopped.rounds_trained();
  const XgboostRanker full = XgboostRanker::Train(train, RankingGroups{}, exact);
  const int64_t rows = static_cast<int64_t>(valid.labels.size());
  const std::vector<float> scores = stopped.Score(valid.dense.data(), rows);
  EXPECT_EQ(scores, truncated.Score(valid.dense.data(), rows));
  EXPECT_NE(scores, full.Score(valid.dense.data(), rows));
}

// XGBoost 1.7 ignores parameter names it does not know without a word (2.0's
// lambdarank_num_pair_per_sample among them): pairs_per_row must reach it as num_pairsample.
TEST_F(XgboostRankerTest, PairsPerRowReachesXgboost) {
  const RankingGroups train = MakeGroups(20, 10, 7);
  XgboostRankerOptions options = SmallOptions();
  const XgboostRanker one = XgboostRanker::Train(train, RankingGroups{}, options);
  options.pairs_per_row = 4;
  const XgboostRanker four = XgboostRanker::Train(train, RankingGroups{}, options);
  const int64_t rows = static_cast<int64_t>(train.labels.size());
  EXPECT_NE(one.Score(train.dense.data(), rows), four.Score(train.dense.data(), rows));
}

TEST_F(XgboostRankerTest, SaveThenLoadGivesIdenticalScores) {
  const RankingGroups train = MakeGroups(20, 10, 7);
  const RankingGroups valid = MakeGroups(5, 10, 8);
  XgboostRankerOptions options = SmallOptions();
  options.rounds = 300;
  options.early_stopping_rounds = 5;
  const XgboostRanker ranker = XgboostRanker::Train(train, valid, options);
  const std::string path = Path("ranker.json");
  ranker.Save(path);
  // Only the model is left: the temporary file was renamed into place.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_),
                          std::filesystem::directory_iterator()),
            1);
  std::ifstream in(path);
  EXPECT_EQ(in.get(), '{');  // XGBoost's JSON model format

  const XgboostRanker loaded = XgboostRanker::Load(path);
  EXPECT_EQ(loaded.best_iteration(), ranker.best_iteration());
  EXPECT_EQ(loaded.rounds_trained(), ranker.rounds_trained());
  const int64_t rows = static_cast<int64_t>(valid.labels.size());
  EXPECT_EQ(loaded.Score(valid.dense.data(), rows), ranker.Score(valid.dense.data(), rows));
}

TEST_F(XgboostRankerTest, ScoreFromManyThreadsMatchesOneThread) {
  const XgboostRanker ranker =
      XgboostRanker::Train(MakeGroups(20, 10, 7), RankingGroups{}, SmallOptions());
  const RankingGroups data = MakeGroups(10, 10, 9);
  const int64_t rows = static_cast<int64_t>(data.labels.size());
  const std::vector<float> expected = ranker.Score(data.dense.data(), rows);
  std::vector<std::vector<float>> got(4);
  std::vector<std::thread> threads;
  for (auto& out : got) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) out = ranker.Score(data.dense.data(), rows);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& out : got) EXPECT_EQ(out, expected);
}

TEST_F(XgboostRankerTest, LoadErrorsNameTheFile) {
  const std::string missing = Path("missing.json");
  EXPECT_TRUE(Mentions(ErrorOf([&] { XgboostRanker::Load(missing); }),
                       {missing, "cannot open the XGBoost model"}));
  const std::string text = Write("text.json", "not a model at all\n");
  EXPECT_TRUE(
      Mentions(ErrorOf([&] { XgboostRanker::Load(text); }), {text, "not an XGBoost JSON model"}));
  const std::string empty = Write("empty.json", "");
  EXPECT_TRUE(Mentions(ErrorOf([&] { XgboostRanker::Load(empty); }), {empty}));
  // JSON-looking garbage reaches XGBoost, whose message is passed on with the call's name.
  const std::string broken = Write("broken.json", "{\"learner\": [1, 2");
  EXPECT_TRUE(Mentions(ErrorOf([&] { XgboostRanker::Load(broken); }),
                       {broken, "XGBoosterLoadModelFromBuffer failed"}));
}

TEST_F(XgboostRankerTest, BadInputsAreRejectedWithClearMessages) {
  const RankingGroups good = MakeGroups(3, 4, 1);
  const XgboostRankerOptions options = SmallOptions();
  const auto train_error = [&](const RankingGroups& train) {
    return ErrorOf([&] { XgboostRanker::Train(train, RankingGroups{}, options); });
  };

  RankingGroups g = good;
  g.group_offsets.back() = 11;
  EXPECT_TRUE(
      Mentions(train_error(g), {"train: group_offsets end at 11, not at the row count 12"}));
  g = good;
  g.labels.pop_back();
  EXPECT_TRUE(Mentions(train_error(g), {"train: 11 labels for 12 rows"}));
  g = good;
  g.dense.pop_back();
  EXPECT_TRUE(Mentions(train_error(g),
                       {"train: dense has " + std::to_string(12 * kNumDenseFeatures - 1) +
                        " floats, not a multiple of the " + std::to_string(kNumDenseFeatures)}));
  g = good;
  g.group_offsets = {0, 4, 4, 12};
  EXPECT_TRUE(Mentions(train_error(g), {"train: query 1 is empty"}));
  g = good;
  g.group_offsets.front() = 1;
  EXPECT_TRUE(Mentions(train_error(g), {"train: group_offsets must start at 0"}));
  g = good;
  g.group_offsets = {0};
  EXPECT_TRUE(Mentions(train_error(g), {"train: group_offsets needs at least 2 entries"}));
  g = good;
  g.labels[5] = -1;
  EXPECT_TRUE(Mentions(train_error(g), {"train: label of row 5 is -1"}));
  g = good;
  g.labels[2] = 1.5f;
  EXPECT_TRUE(Mentions(train_error(g), {"train: label of row 2 is 1.5"}));
  g = good;
  g.dense[2 * kNumDenseFeatures + 4] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(Mentions(train_error(g), {"train: feature 4 of row 2 is nan"}));

  // The valid set is checked the same way and named as such.
  RankingGroups valid = good;
  valid.labels.push_back(0);
  EXPECT_TRUE(Mentions(ErrorOf([&] { XgboostRanker::Train(good, valid, options); }),
                       {"valid: 13 labels for 12 rows"}));

  XgboostRankerOptions bad = options;
  bad.subsample = 0;
  EXPECT_TRUE(Mentions(ErrorOf([&] { XgboostRanker::Train(good, RankingGroups{}, bad); }),
                       {"subsample must be in (0, 1], got 0"}));
  bad = options;
  bad.rounds = 0;
  EXPECT_TRUE(Mentions(ErrorOf([&] { XgboostRanker::Train(good, RankingGroups{}, bad); }),
                       {"rounds must be in [1, 2^31), got 0"}));

  const XgboostRanker ranker = XgboostRanker::Train(good, RankingGroups{}, options);
  EXPECT_TRUE(ranker.Score(nullptr, 0).empty());
  EXPECT_TRUE(Mentions(ErrorOf([&] { ranker.Score(nullptr, 2); }), {"dense is null for 2 rows"}));
  std::vector<float> row(kNumDenseFeatures, std::numeric_limits<float>::infinity());
  EXPECT_TRUE(Mentions(ErrorOf([&] { ranker.Score(row.data(), 1); }),
                       {"XgboostRanker::Score: feature 0 of row 0 is inf"}));
}

}  // namespace
}  // namespace recsys::models
