#include "models/ranker.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <numeric>

#include "core/error.h"
#include "core/hdf5_file.h"
#include "core/log.h"
#include "core/numeric_checks.h"
#include "models/checkpoint.h"
#include "models/ranker_net.h"
#include "models/ranker_objective.h"
#include "models/training_loop.h"

namespace recsys::models {
namespace {

namespace fs = std::filesystem;

constexpr int kValidNdcgAt = 10;

const std::vector<std::string>& Models() {
  static const std::vector<std::string> models = {"fm", "dcn", "xgboost"};
  return models;
}

class NetRanker : public Ranker {
 public:
  NetRanker(std::string name, std::shared_ptr<RankerNetImpl> net, double train_seconds)
      : name_(std::move(name)), net_(std::move(net)), train_seconds_(train_seconds) {
    net_->eval();
    num_buckets_ = std::stoll(net_->config().at("num_buckets"));
  }
  const std::string& name() const override { return name_; }
  std::vector<float> Score(const RankingFeatures& features) const override {
    return ScoreFeatures(*net_, features);
  }
  double train_seconds() const override { return train_seconds_; }
  int64_t num_buckets() const override { return num_buckets_; }

 private:
  std::string name_;
  std::shared_ptr<RankerNetImpl> net_;
  double train_seconds_;
  int64_t num_buckets_ = 0;
};

class BoostedRanker : public Ranker {
 public:
  BoostedRanker(std::string name, XgboostRanker model, double train_seconds)
      : name_(std::move(name)), model_(std::move(model)), train_seconds_(train_seconds) {}
  const std::string& name() const override { return name_; }
  std::vector<float> Score(const RankingFeatures& features) const override {
    return model_.Score(features.dense.data(), features.rows);
  }
  double train_seconds() const override { return train_seconds_; }
  int64_t num_buckets() const override { return 0; }

 private:
  std::string name_;
  XgboostRanker model_;
  double train_seconds_;
};

// A query's judged products, for NDCG over the full catalogue.
std::vector<JudgedQuery> JudgementsOf(const RankingSet& set, const data::Dataset& dataset) {
  std::vector<JudgedQuery> by_row = JudgedQueriesByRow(dataset);
  std::vector<JudgedQuery> out;
  out.reserve(set.groups());
  for (int32_t q : set.queries) out.push_back(std::move(by_row[q]));
  return out;
}

std::shared_ptr<RankerNetImpl> MakeNet(const RankerTrainOptions& o, int64_t num_buckets) {
  if (o.model == "fm") {
    return std::make_shared<FmImpl>(FmOptions().num_buckets(num_buckets).factors(o.factors));
  }
  return std::make_shared<DcnImpl>(DcnOptions()
                                       .num_buckets(num_buckets)
                                       .embedding_dim(o.embedding_dim)
                                       .cross_layers(o.cross_layers)
                                       .cross(o.cross)
                                       .deep(o.deep)
                                       .structure(o.structure));
}

RankingGroups GroupsOf(const RankingSet& set, bool positive_only, const GradeGains& gains) {
  RankingGroups out;
  out.group_offsets = {0};
  for (int64_t g = 0; g < set.groups(); ++g) {
    const int64_t begin = set.group_offsets[g], end = set.group_offsets[g + 1];
    bool positive = false;
    for (int64_t r = begin; r < end; ++r) positive = positive || gains(set.grades[r]) > 0;
    if (begin == end || (positive_only && !positive)) continue;
    out.dense.insert(out.dense.end(), set.features.dense.begin() + begin * kNumDenseFeatures,
                     set.features.dense.begin() + end * kNumDenseFeatures);
    for (int64_t r = begin; r < end; ++r) out.labels.push_back(static_cast<float>(set.grades[r]));
    out.group_offsets.push_back(static_cast<int64_t>(out.labels.size()));
  }
  return out;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Rank 0: the XGBoost baseline, trained, validated on the same NDCG@10 and written.
RankerTrainReport TrainBoosted(const RankerTrainOptions& o, const std::string& name,
                               const std::string& checkpoint, const RankingSet& train,
                               const RankingSet& valid, const data::Dataset& dataset) {
  RankerTrainReport report;
  report.name = name;
  report.checkpoint = checkpoint;
  const auto start = std::chrono::steady_clock::now();
  XgboostRanker model = XgboostRanker::Train(GroupsOf(train, true, o.gains),
                                             GroupsOf(valid, false, o.gains), o.xgboost);
  report.train_seconds = SecondsSince(start);
  report.steps = model.rounds_trained();
  report.best_valid_ndcg = RankedNdcg(valid, model.Score(valid.features.dense.data(), valid.rows()),
                                      dataset, kValidNdcgAt, o.relevant_from, o.gains);
  fs::create_directories(fs::path(checkpoint).parent_path());
  H5Writer out(checkpoint);
  CheckpointInfo info;
  info.model = "xgboost";
  info.step = report.steps;
  WriteCheckpointInfo(out, info, torch::kFloat32);
  const std::string json = model.ToJson();
  out.Write("xgboost/model", std::vector<uint8_t>(json.begin(), json.end()));
  out.SetAttribute("/", "ranker_name", name);
  out.SetAttribute("/", "train_seconds", report.train_seconds);
  out.SetAttribute("/", "best_valid_metric", report.best_valid_ndcg);
  out.Commit();
  RECSYS_INFO(name << ": " << report.steps << " rounds (best " << model.best_iteration() + 1
                   << "), valid ndcg@10 " << report.best_valid_ndcg << ", " << report.train_seconds
                   << " s; " << checkpoint);
  return report;
}

}  // namespace

std::string RankerName(const RankerTrainOptions& o) {
  if (o.model != "dcn") return o.model + (o.model == "fm" && o.loss == "bce" ? "-bce" : "");
  std::string name = "dcn-" + std::to_string(o.cross_layers);
  if (o.cross != "matrix") name += "-" + o.cross;
  if (o.structure != "parallel") name += "-" + o.structure;
  if (o.loss == "bce") name += "-bce";
  return name;
}

RankerTrainOptions ParseRankerName(const std::string& name, const RankerTrainOptions& base) {
  RankerTrainOptions o = base;
  std::vector<std::string> parts;
  for (size_t begin = 0; begin <= name.size();) {
    const size_t end = std::min(name.find('-', begin), name.size());
    parts.push_back(name.substr(begin, end - begin));
    begin = end + 1;
  }
  auto bad = [&]() -> RankerTrainOptions {
    RECSYS_THROW("unknown ranker '" << name
                                    << "' (fm, fm-bce, xgboost, dcn or dcn-<cross layers>, "
                                       "optionally followed by -vector, -stacked, -bce)");
  };
  o.model = parts[0];
  o.loss = "lambdarank";
  if (o.model == "xgboost") return parts.size() == 1 ? o : bad();
  size_t i = 1;
  if (o.model == "dcn" && i < parts.size() && !parts[i].empty() &&
      parts[i].find_first_not_of("0123456789") == std::string::npos) {
    o.cross_layers = std::stoll(parts[i++]);
  } else if (o.model != "fm" && o.model != "dcn") {
    return bad();
  }
  o.cross = "matrix";
  o.structure = "parallel";
  for (; i < parts.size(); ++i) {
    if (parts[i] == "bce") {
      o.loss = "bce";
    } else if (o.model == "dcn" && parts[i] == "vector") {
      o.cross = "vector";
    } else if (o.model == "dcn" && parts[i] == "stacked") {
      o.structure = "stacked";
    } else {
      return bad();
    }
  }
  return o;
}

std::string RankerCheckpointPath(const std::string& run, const std::string& name) {
  return (fs::path(run) / "checkpoints" / ("ranker_" + name + ".h5")).string();
}

void CheckRankerTrainOptions(const RankerTrainOptions& o) {
  RECSYS_CHECK(std::find(Models().begin(), Models().end(), o.model) != Models().end(),
               "unknown ranker '" << o.model << "' (choose fm, dcn, xgboost)");
  RECSYS_CHECK(o.loss == "bce" || o.loss == "lambdarank",
               "unknown ranking loss '" << o.loss << "' (choose bce, lambdarank)");
  CheckCount("--rank-epochs", o.epochs, 1);
  CheckCount("--rank-batch-queries", o.batch_queries, 1);
  CheckCount("--rank-patience", o.patience, 0);
  CheckCount("--factors", o.factors, 1);
  CheckCount("--embedding-dim", o.embedding_dim, 1);
  CheckCount("--cross-layers", o.cross_layers, 0, 1000);
  CheckPositive("--rank-lr", o.learning_rate);
  CheckNonNegative("rank clip norm", o.clip_norm);
  ParseCrossKind(o.cross);
  ParseHiddenSizes(o.deep);
  RECSYS_CHECK(o.structure == "stacked" || o.structure == "parallel",
               "unknown DCN structure '" << o.structure << "' (choose stacked, parallel)");
}

std::vector<float> CandidateOrderScores(const RankingSet& set) {
  std::vector<float> scores(set.rows());
  for (int64_t g = 0; g < set.groups(); ++g) {
    for (int64_t r = set.group_offsets[g]; r < set.group_offsets[g + 1]; ++r) {
      scores[r] = -static_cast<float>(r - set.group_offsets[g]);
    }
  }
  return scores;
}

double RankedNdcg(const RankingSet& set, const std::vector<float>& scores,
                  const data::Dataset& dataset, int k, data::Grade relevant_from,
                  const GradeGains& gains) {
  const std::vector<std::vector<int32_t>> ranked = RankGroups(set, scores);
  const std::vector<JudgedQuery> judged = JudgementsOf(set, dataset);
  RankingMetrics metrics({k}, relevant_from, gains);
  for (int64_t g = 0; g < set.groups(); ++g) metrics.Add(ranked[g], judged[g]);
  return metrics.queries() > 0 ? metrics.Ndcg(k) : 0.0;
}

std::vector<std::vector<int32_t>> RankGroups(const RankingSet& set,
                                             const std::vector<float>& scores) {
  RECSYS_CHECK(static_cast<int64_t>(scores.size()) == set.rows(),
               scores.size() << " scores for " << set.rows() << " rows");
  std::vector<std::vector<int32_t>> out(set.groups());
  std::vector<int64_t> order;
  for (int64_t g = 0; g < set.groups(); ++g) {
    const int64_t begin = set.group_offsets[g], end = set.group_offsets[g + 1];
    order.resize(end - begin);
    std::iota(order.begin(), order.end(), begin);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });
    for (int64_t r : order) out[g].push_back(set.products[r]);
  }
  return out;
}

std::unique_ptr<Ranker> LoadRanker(const std::string& checkpoint, int threads) {
  H5Reader in(checkpoint);
  const CheckpointInfo info = ReadCheckpointInfo(in);
  RECSYS_CHECK(in.HasAttribute("/", "ranker_name"),
               checkpoint << " is a " << info.model << " checkpoint, not a ranker's");
  const std::string name = in.StringAttribute("/", "ranker_name");
  const double seconds = in.DoubleAttribute("/", "train_seconds");
  if (info.model == "xgboost") {
    const std::vector<uint8_t> json = in.Read<uint8_t>("xgboost/model");
    return std::make_unique<BoostedRanker>(
        name, XgboostRanker::FromJson(std::string(json.begin(), json.end()), threads, checkpoint),
        seconds);
  }
  RECSYS_CHECK(info.model == "fm" || info.model == "dcn",
               checkpoint << " holds a '" << info.model << "' model, not a ranker");
  std::shared_ptr<RankerNetImpl> net = MakeRankerNet(info.config);
  ReadModule(in, *net);
  return std::make_unique<NetRanker>(name, std::move(net), seconds);
}

RankerTrainReport TrainRanker(const RankerTrainOptions& o, const std::string& run,
                              const RankingSet& train, const RankingSet& valid,
                              const data::Dataset& dataset, dist::Communicator& comm) {
  CheckRankerTrainOptions(o);
  const std::string name = RankerName(o);
  const std::string checkpoint = RankerCheckpointPath(run, name);
  if (o.model == "xgboost") {
    RankerTrainReport report;
    if (comm.rank() == 0) report = TrainBoosted(o, name, checkpoint, train, valid, dataset);
    std::vector<double> numbers = {report.train_seconds, report.best_valid_ndcg,
                                   static_cast<double>(report.steps)};
    dist::Broadcast(comm, numbers, 0);
    report = {name, checkpoint, 0, static_cast<int64_t>(numbers[2]), numbers[1], numbers[0]};
    return report;
  }

  GradientPath gradients = MakeGradientPath(o.device, comm);
  torch::manual_seed(o.seed);
  RECSYS_CHECK(train.features.num_buckets >= 1, name << ": the training features have no id space");
  std::shared_ptr<RankerNetImpl> net = MakeNet(o, train.features.num_buckets);
  net->to(gradients.device);
  RankerObjective objective(
      *net,
      {o.loss == "bce" ? RankerLoss::kBce : RankerLoss::kLambdaRank, o.gains, o.relevant_from},
      train, valid, dataset);
  RECSYS_CHECK(objective.num_examples() > 0,
               name << ": no train query has a relevant candidate to learn from");
  TrainingLoopOptions loop;
  loop.name = "ranker_" + name;
  loop.checkpoint = checkpoint;
  loop.model = {o.model, net->config()};
  loop.model.config["loss"] = o.loss;
  loop.metric_name = "ndcg@10";
  loop.epochs = o.epochs;
  loop.batch_size = o.batch_queries;
  loop.patience = o.patience;
  loop.max_steps = o.max_steps;
  loop.resume = o.resume;
  loop.resume_changed_config = o.resume_changed_config;
  loop.training = {{"relevant_from", std::string(1, data::GradeLetter(o.relevant_from))}};
  loop.seed = o.seed;
  loop.trainer.learning_rate = o.learning_rate;
  loop.trainer.warmup_steps = o.warmup_steps;
  loop.trainer.clip_norm = o.clip_norm;
  loop.curve = (fs::path(run) / "results" / "curves" / ("ranker_" + name + ".csv")).string();
  loop.attributes = {{"ranker_name", name}};
  const TrainingLoopReport done =
      RunTrainingLoop(*net, net->sparse_parameters(), objective, loop, gradients, comm);
  RankerTrainReport report;
  report.name = name;
  report.checkpoint = checkpoint;
  report.epochs = done.epochs;
  report.steps = done.steps;
  report.best_valid_ndcg = done.best_valid_metric;
  report.train_seconds = done.train_seconds;
  return report;
}

}  // namespace recsys::models
