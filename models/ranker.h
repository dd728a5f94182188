#pragma once
// The ranking stage's models behind one interface: FM and DCN (models/ranker_net.h) and the
// XGBoost LambdaMART baseline (models/xgboost_ranker.h) all score rows of ranking features
// (models/ranking_features.h), and all are trained by TrainRanker and stored as HDF5 checkpoints
// that LoadRanker reads. No LibTorch here.
//
// A ranker checkpoint (RUN/checkpoints/ranker_<name>.h5) holds @model ("fm", "dcn", "xgboost"),
// @ranker_name, @train_seconds, and either the training loop's state (FM, DCN:
// models/training_loop.h) or the XGBoost model as JSON bytes (dataset "xgboost/model").

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "dist/communicator.h"
#include "models/metrics.h"
#include "models/ranking_features.h"
#include "models/xgboost_ranker.h"

namespace recsys::models {

// Candidate lists of many queries with their features and judgements: what rankers are trained
// and evaluated on. Group g (one query's candidates, in candidate order) is rows
// [group_offsets[g], group_offsets[g + 1]).
struct RankingSet {
  RankingFeatures features;
  std::vector<int32_t> products;             // per row: product row
  std::vector<data::Grade> grades;           // per row: the judged grade; kIrrelevant unjudged
  std::vector<int64_t> group_offsets = {0};  // size groups() + 1
  std::vector<int32_t> queries;              // per group: query row

  int64_t groups() const { return static_cast<int64_t>(queries.size()); }
  int64_t rows() const { return features.rows; }
};

class Ranker {
 public:
  virtual ~Ranker() = default;
  // "fm", "dcn-4", "xgboost": the checkpoint's @ranker_name.
  virtual const std::string& name() const = 0;
  // One score per row of features, higher = more relevant. Not collective.
  virtual std::vector<float> Score(const RankingFeatures& features) const = 0;
  // Seconds its training took (the checkpoint's @train_seconds).
  virtual double train_seconds() const = 0;
  // The sparse id space the ranker was trained on (RankingFeatureOptions::num_buckets); 0 when
  // it uses the dense features only.
  virtual int64_t num_buckets() const = 0;
};

// Reads a ranker checkpoint of any kind. Not collective. threads: XGBoost's prediction threads
// (the neural rankers use torch's, set by main()). Throws recsys::Error naming the file.
std::unique_ptr<Ranker> LoadRanker(const std::string& checkpoint, int threads = 1);

struct RankerTrainOptions {
  std::string model = "dcn";        // fm | dcn | xgboost
  std::string loss = "lambdarank";  // fm, dcn: bce | lambdarank
  // FM and DCN (the shared training loop)
  int64_t epochs = 10;
  int64_t batch_queries = 32;  // GLOBAL queries (candidate lists) per step
  int64_t patience = 1;        // epochs without a better valid NDCG@10 before stopping; 0 = never
  int64_t max_steps = 0;       // 0 = no limit
  bool resume = false;         // continue from the ranker's last checkpoint
  bool resume_changed_config = false;  // resume even when the training configuration changed
  double learning_rate = 0.002;
  int64_t warmup_steps = 50;
  double clip_norm = 1.0;
  int64_t factors = 16;                             // FM factor width
  int64_t embedding_dim = 16;                       // DCN field embedding width
  int64_t cross_layers = 2;                         // DCN
  std::string cross = "matrix";                     // DCN: matrix (DCN-v2) | vector (DCN)
  std::string deep = "256,128";                     // DCN MLP hidden sizes
  std::string structure = "parallel";               // DCN: parallel | stacked
  XgboostRankerOptions xgboost;                     // the baseline's options
  data::Grade relevant_from = data::Grade::kExact;  // validation metrics' relevance
  GradeGains gains;                                 // graded gains: BCE targets, LambdaRank, NDCG
  uint64_t seed = 1;
  std::string device = "cpu";  // cpu | cuda
};

// "fm", "dcn-<cross layers>" (plus "-vector" / "-stacked" / "-bce" where those differ from the
// defaults), "xgboost": the ranker's name, and its checkpoint RUN/checkpoints/ranker_<name>.h5.
std::string RankerName(const RankerTrainOptions& options);
// The inverse: options with base's settings but the model, cross layers, cross kind, structure
// and loss a name says ("dcn" alone keeps base's cross layers). Throws naming the text.
RankerTrainOptions ParseRankerName(const std::string& name, const RankerTrainOptions& base);
std::string RankerCheckpointPath(const std::string& run, const std::string& name);

struct RankerTrainReport {
  std::string name, checkpoint;
  int64_t epochs = 0, steps = 0;
  double best_valid_ndcg = 0;  // NDCG@10 of the best epoch (XGBoost: of the best round)
  double train_seconds = 0;
};

// Throws recsys::Error naming the first option out of range. Not collective.
void CheckRankerTrainOptions(const RankerTrainOptions& options);

// COLLECTIVE over comm. Trains one ranker on train's groups (those with at least one candidate of
// positive gain), selecting on valid's NDCG@10 over the full catalogue (dataset's judgements of
// the valid queries), and writes RUN/checkpoints/ranker_<name>.h5 (rank 0) and its training curve
// RUN/results/curves/ranker_<name>.csv. FM and DCN train data-parallel with the shared loop;
// XGBoost trains on rank 0 alone while the other ranks wait. train and valid must be the same on
// every rank. Returns the same report on every rank.
RankerTrainReport TrainRanker(const RankerTrainOptions& options, const std::string& run,
                              const RankingSet& train, const RankingSet& valid,
                              const data::Dataset& dataset, dist::Communicator& comm);

// Scores that keep each list's candidate order: -(position in the list). Pure.
std::vector<float> CandidateOrderScores(const RankingSet& set);

// NDCG@k over the full catalogue (dataset's judgements of each query; a relevant product missing
// from the list counts as missed) of set's lists ranked by scores, one per row; queries without
// a relevant judged product are skipped. Not collective.
double RankedNdcg(const RankingSet& set, const std::vector<float>& scores,
                  const data::Dataset& dataset, int k, data::Grade relevant_from,
                  const GradeGains& gains);

// Each query of set ranked by scores (one per row): its group's product rows, best first, ties by
// candidate order. Not collective.
std::vector<std::vector<int32_t>> RankGroups(const RankingSet& set,
                                             const std::vector<float>& scores);

}  // namespace recsys::models
