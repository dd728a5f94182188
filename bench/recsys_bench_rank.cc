// recsys_bench_rank: how long the ranking stage takes per query on ONE thread, for each ranker.
//   recsys_bench_rank [--candidates 1000] [--queries 300] [--products 50000]
// A generated catalogue; per query, C candidates: random product rows with made-up recall
// signals, each in one list at least, as after fusion: a random half in the dense list; the
// others, and half of the dense ones, in the lexical list. Each query is timed through every
// step in turn, so that all rows see the same machine (the cores are shared with other work):
//   features  models::RankingFeatureBuilder::Append of the C rows (into a reused buffer)
//   DCN, FM   models::ScoreFeatures (what serving calls) in eval mode, freshly initialised
//             (the speed does not depend on the weights); DCN at its defaults (2 cross layers)
//             and with 4 and 6
//   XGBoost   XgboostRanker::Score of the C rows' dense features, trained first on random grades
//             of builder features so that its trees are full-sized and split where real
//             features lie
// Prints p50, p99 and mean ms per query and candidates/s for each, and features + DCN together.
// Speed is not asserted anywhere: compare rows of one run. On a loaded machine (the header
// prints the load average) read p50: the mean and p99 hold the time the process was preempted.

#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/latency.h"
#include "data/catalog_generator.h"
#include "data/dataset.h"
#include "launch/main_util.h"
#include "models/ranker_net.h"
#include "models/ranking_features.h"
#include "models/xgboost_ranker.h"

namespace po = boost::program_options;

namespace recsys::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct RankBenchOptions {
  int64_t candidates = 1000;  // C, scored per query
  int64_t queries = 300;      // Q, timed
  int64_t warmup = 10;        // untimed queries first
  int64_t products = 50000;   // catalogue size
  int64_t xgb_rounds = 100;   // XGBoost trees
  int xgb_depth = 6;
  int64_t xgb_train_queries = 200;  // groups of C rows each (at most 100 rows) to train on
  uint64_t seed = 1;
};

double Milliseconds(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// One row of the table: per-query times in ms.
struct Row {
  std::string name;
  std::vector<double> ms;
};

// p50, p99 and mean ms; candidates/s from the mean.
void PrintRow(const Row& row, int64_t candidates) {
  const LatencySummary l = SummarizeLatencies(row.ms);
  std::printf("%-30s %9.3f %9.3f %9.3f %13.0f\n", row.name.c_str(), l.p50, l.p99, l.mean,
              static_cast<double>(candidates) / (l.mean * 1e-3));
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown CPU";
}

data::Dataset MakeDataset(const RankBenchOptions& o) {
  data::GeneratorOptions g;
  g.products = o.products;
  g.queries = std::max<int64_t>(1000, o.products / 10);
  g.seed = o.seed;
  data::CatalogGenerator generator(g);
  data::Dataset d;
  generator.FillVocabularies(&d);
  d.products = generator.MakeProducts(0, g.products);
  generator.MakeQueries(0, g.queries, &d.queries, &d.pairs);
  d.source = "generated";
  return d;
}

// c random products with made-up recall signals, in fused-rank order.
std::vector<models::CandidateSignals> RandomCandidates(int64_t products, int64_t c,
                                                       std::mt19937_64* rng) {
  std::uniform_int_distribution<int64_t> product(0, products - 1);
  std::uniform_real_distribution<float> unit(0, 1);
  std::vector<models::CandidateSignals> out(c);
  int32_t dense_rank = 0, lexical_rank = 0;
  for (int64_t i = 0; i < c; ++i) {
    models::CandidateSignals& s = out[i];
    s.product = product(*rng);
    s.fused_rank = static_cast<int32_t>(i + 1);
    if (unit(*rng) < 0.5f) {
      s.dense_rank = ++dense_rank;
      s.dense_score = unit(*rng);
    }
    if (s.dense_rank == 0 || unit(*rng) < 0.5f) {
      s.lexical_rank = ++lexical_rank;
      s.lexical_score = 30 * unit(*rng);
    }
  }
  return out;
}

// Groups of builder features with random grades 0..3: what XGBoost trains on here.
models::RankingGroups TrainingGroups(const data::Dataset& d,
                                     const models::RankingFeatureBuilder& builder,
                                     const RankBenchOptions& o, std::mt19937_64* rng) {
  std::uniform_int_distribution<int64_t> query(0, static_cast<int64_t>(d.queries.size()) - 1);
  std::uniform_int_distribution<int> grade(0, 3);
  const int64_t per_query = std::min<int64_t>(o.candidates, 100);
  models::RankingFeatures features;
  models::RankingGroups groups;
  groups.group_offsets.push_back(0);
  for (int64_t g = 0; g < o.xgb_train_queries; ++g) {
    const int64_t q = query(*rng);
    builder.Append(d.queries.text[q], q,
                   RandomCandidates(static_cast<int64_t>(d.products.size()), per_query, rng),
                   &features);
    groups.group_offsets.push_back(features.rows);
  }
  groups.dense = std::move(features.dense);
  for (int64_t r = 0; r < groups.group_offsets.back(); ++r) groups.labels.push_back(grade(*rng));
  return groups;
}

int Run(int argc, char** argv) {
  RankBenchOptions o;
  po::options_description options(
      "Usage: recsys_bench_rank [OPTIONS]\n"
      "Times the ranking stage on one thread: feature building, then DCN, FM and XGBoost\n"
      "scoring C candidates per query (see the top of bench/recsys_bench_rank.cc). Options");
  options.add_options()("help,h", "show this help")(
      "candidates", po::value(&o.candidates)->default_value(o.candidates),
      "candidates scored per query")("queries", po::value(&o.queries)->default_value(o.queries),
                                     "timed queries")(
      "warmup", po::value(&o.warmup)->default_value(o.warmup), "untimed queries before")(
      "products", po::value(&o.products)->default_value(o.products), "generated catalogue size")(
      "xgb-rounds", po::value(&o.xgb_rounds)->default_value(o.xgb_rounds), "XGBoost trees")(
      "xgb-depth", po::value(&o.xgb_depth)->default_value(o.xgb_depth), "XGBoost max depth")(
      "xgb-train-queries", po::value(&o.xgb_train_queries)->default_value(o.xgb_train_queries),
      "XGBoost training groups (min(C, 100) rows each)")(
      "seed", po::value(&o.seed)->default_value(o.seed), "catalogue, candidates and weights");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  if (vm.count("help")) {
    std::cout << options << std::endl;
    return 0;
  }
  po::notify(vm);
  if (o.candidates < 1 || o.queries < 1 || o.warmup < 0 || o.xgb_rounds < 1 || o.xgb_depth < 1 ||
      o.xgb_train_queries < 1) {
    throw launch::UsageError(
        "need --candidates, --queries, --xgb-rounds, --xgb-depth, --xgb-train-queries >= 1 and "
        "--warmup >= 0");
  }
  // One thread everywhere: per-query latency of one serving thread.
  torch::set_num_threads(1);
  torch::manual_seed(o.seed);
  std::mt19937_64 rng(o.seed);

  auto start = Clock::now();
  const data::Dataset dataset = MakeDataset(o);
  const models::RankingFeatureBuilder builder(dataset);
  const double dataset_s = Milliseconds(start) * 1e-3;

  start = Clock::now();
  models::XgboostRankerOptions xgb_options;
  xgb_options.rounds = o.xgb_rounds;
  xgb_options.max_depth = o.xgb_depth;
  xgb_options.early_stopping_rounds = 0;
  // Random grades carry little hessian: with the default 1, the depth-6 trees keep about 28 of
  // their 64 leaves here; 1e-3 grows them nearly full (about 61), the worst case for Score.
  xgb_options.min_child_weight = 1e-3;
  xgb_options.threads = 1;
  const models::XgboostRanker xgb =
      models::XgboostRanker::Train(TrainingGroups(dataset, builder, o, &rng), {}, xgb_options);
  const double xgb_s = Milliseconds(start) * 1e-3;

  struct Net {
    std::string name;
    std::shared_ptr<models::RankerNetImpl> model;
  };
  std::vector<Net> nets;
  for (int64_t layers : {2, 4, 6}) {
    nets.push_back({"DCN, " + std::to_string(layers) + " cross" + (layers == 2 ? " (default)" : ""),
                    std::make_shared<models::DcnImpl>(models::DcnOptions().cross_layers(layers))});
  }
  nets.push_back({"FM (default)", std::make_shared<models::FmImpl>()});
  for (Net& n : nets) n.model->eval();

  Row features_row{"features (Append)", {}};
  std::vector<Row> net_rows;
  for (const Net& n : nets) net_rows.push_back({n.name, {}});
  Row xgb_row{"XGBoost, " + std::to_string(xgb.rounds_trained()) + " trees depth " +
                  std::to_string(o.xgb_depth),
              {}};

  std::uniform_int_distribution<int64_t> query(0, static_cast<int64_t>(dataset.queries.size()) - 1);
  models::RankingFeatures features;
  float checksum = 0;  // keeps the scores alive
  for (int64_t i = 0; i < o.warmup + o.queries; ++i) {
    const bool timed = i >= o.warmup;
    const int64_t q = query(rng);
    const std::vector<models::CandidateSignals> candidates =
        RandomCandidates(static_cast<int64_t>(dataset.products.size()), o.candidates, &rng);
    features.rows = 0;  // clear() keeps the capacity, as a serving loop would
    features.ids.clear();
    features.offsets.clear();
    features.dense.clear();
    auto t = Clock::now();
    builder.Append(dataset.queries.text[q], q, candidates, &features);
    if (timed) features_row.ms.push_back(Milliseconds(t));
    for (size_t m = 0; m < nets.size(); ++m) {
      t = Clock::now();
      checksum += models::ScoreFeatures(*nets[m].model, features)[0];
      if (timed) net_rows[m].ms.push_back(Milliseconds(t));
    }
    t = Clock::now();
    const std::vector<float> scores = xgb.Score(features.dense.data(), features.rows);
    checksum += scores[0];
    if (timed) xgb_row.ms.push_back(Milliseconds(t));
  }

  Row total{"total: features + DCN default", {}};
  for (int64_t i = 0; i < o.queries; ++i) {
    total.ms.push_back(features_row.ms[i] + net_rows[0].ms[i]);
  }

  char host[256] = "?";
  gethostname(host, sizeof(host) - 1);
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf(
      "recsys_bench_rank: %s, %s, %u hardware threads, load average %.2f; torch threads %d, "
      "XGBoost threads %d\n",
      host, CpuModel().c_str(), std::thread::hardware_concurrency(), load[0],
      torch::get_num_threads(), xgb_options.threads);
  std::printf(
      "%lld generated products (%.1f s with the feature builder); %lld queries (+%lld warm-up) "
      "of %lld candidates; XGBoost trained on %lld groups in %.1f s (checksum %.3g)\n",
      static_cast<long long>(o.products), dataset_s, static_cast<long long>(o.queries),
      static_cast<long long>(o.warmup), static_cast<long long>(o.candidates),
      static_cast<long long>(o.xgb_train_queries), xgb_s, checksum);
  std::printf("%-30s %9s %9s %9s %13s\n", "per query", "p50 ms", "p99 ms", "mean ms",
              "candidates/s");
  PrintRow(features_row, o.candidates);
  for (const Row& r : net_rows) PrintRow(r, o.candidates);
  PrintRow(xgb_row, o.candidates);
  PrintRow(total, o.candidates);
  return 0;
}

}  // namespace
}  // namespace recsys::bench

int main(int argc, char** argv) {
  return recsys::launch::RunMain("recsys_bench_rank", argc, argv, [&](recsys::dist::MpiRuntime&) {
    return recsys::bench::Run(argc, argv);
  });
}
