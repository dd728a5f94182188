#pragma once
// The learning-to-rank baseline: XGBoost's LambdaMART (objective rank:ndcg) on the dense ranking
// features (models/ranking_features.h, kNumDenseFeatures floats a row). The sparse fields are not
// used. No LibTorch and no XGBoost headers here: the C API stays inside xgboost_ranker.cc.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/ranking_features.h"

namespace recsys::models {

struct XgboostRankerOptions {
  int64_t rounds = 300;  // boosting rounds at most (one tree each)
  int max_depth = 6;
  double eta = 0.1;  // learning rate
  // Least hessian sum in a leaf. rank:ndcg's hessians are small (they scale with each pair's
  // NDCG change), so 1 takes several rows a leaf: on a few hundred rows trees stop splitting
  // after a few rounds; lower it for small data.
  double min_child_weight = 1;
  double subsample = 1.0;  // share of rows sampled per tree, in (0, 1]
  double colsample = 1.0;  // share of features sampled per tree (colsample_bytree), in (0, 1]
  // The k of the validation metric ndcg@k that early stopping watches. XGBoost 1.7's rank:ndcg
  // objective itself has no truncation: it weighs each sampled pair by the change in full-list
  // NDCG.
  int ndcg_truncation = 10;
  // Pairs sampled per row and round (1.7's num_pairsample; 2.0 renamed it
  // lambdarank_num_pair_per_sample, a name 1.7 silently ignores).
  int pairs_per_row = 1;
  // Stop when ndcg@k on the valid set has not improved for this many rounds; 0 = never. Ignored
  // when there is no valid set.
  int early_stopping_rounds = 30;
  int threads = 1;  // XGBoost's nthread, for training and for Score
  // Row and column sampling; at most INT64_MAX. Pair sampling does not use it: 1.7 seeds that
  // from the round number, so training with subsample = colsample = 1 is the same for any seed.
  uint64_t seed = 1;
};

// Queries with graded candidates. Row r's features are dense[r * kNumDenseFeatures, +
// kNumDenseFeatures), all finite; labels[r] is its grade (0 Irrelevant, 1 Complement, 2
// Substitute, 3 Exact, or any non-negative integer: higher is more relevant). Query g's rows are
// [group_offsets[g], group_offsets[g + 1]): group_offsets starts at 0, increases strictly (no
// empty query) and ends at the row count.
struct RankingGroups {
  std::vector<float> dense;            // size rows * kNumDenseFeatures
  std::vector<float> labels;           // size rows
  std::vector<int64_t> group_offsets;  // size queries + 1
};

namespace detail {
// Frees an XGBoost BoosterHandle (defined in the .cc, so that this header needs no XGBoost).
struct BoosterFree {
  void operator()(void* booster) const;
};
}  // namespace detail

// A trained LambdaMART model. Move-only; owns its XGBoost booster.
// Thread-compatible: Score may run on many threads at once (XGBoost's in-place prediction is
// lock-free); nothing else may run concurrently with it.
class XgboostRanker {
 public:
  // Trains up to options.rounds trees on train. When valid has rows, ndcg@ndcg_truncation on it
  // is evaluated every round, the best round is kept (best_iteration) and training stops after
  // early_stopping_rounds rounds without improvement. Logs progress about every 50 rounds.
  // Throws recsys::Error on bad inputs (sizes, offsets, labels, non-finite features) or options.
  static XgboostRanker Train(const RankingGroups& train, const RankingGroups& valid,
                             const XgboostRankerOptions& options);

  // Reads a model written by Save (XGBoost's JSON model format, readable by any XGBoost >= 1.7
  // binding; the best iteration travels as the attribute "best_iteration", as in Python).
  // threads: XGBoost's nthread for Score. Throws recsys::Error naming the file.
  static XgboostRanker Load(const std::string& path, int threads = 1);

  // Writes the model as JSON, atomically: a temporary file next to path, then a rename.
  void Save(const std::string& path) const;

  // The model as Save writes it, and back (what ranker checkpoints store). source names the
  // text's origin in error messages.
  std::string ToJson() const;
  static XgboostRanker FromJson(const std::string& json, int threads, const std::string& source);

  // One score per row, higher = more relevant: dense has rows * kNumDenseFeatures finite floats.
  // Uses the trees up to and including best_iteration() only.
  std::vector<float> Score(const float* dense, int64_t rows) const;

  // The 0-based round whose trees Score stops at: the best on the valid set, or the last one.
  int64_t best_iteration() const { return best_iteration_; }
  // Rounds trained (trees in the model, including those after best_iteration).
  int64_t rounds_trained() const { return rounds_trained_; }

  XgboostRanker(XgboostRanker&&) = default;
  XgboostRanker& operator=(XgboostRanker&&) = default;
  XgboostRanker(const XgboostRanker&) = delete;
  XgboostRanker& operator=(const XgboostRanker&) = delete;
  ~XgboostRanker() = default;

 private:
  XgboostRanker(std::unique_ptr<void, detail::BoosterFree> booster, int64_t best_iteration,
                int64_t rounds_trained);

  std::unique_ptr<void, detail::BoosterFree> booster_;
  int64_t best_iteration_ = -1;
  int64_t rounds_trained_ = 0;
};

}  // namespace recsys::models
