// recsys_query: products for shopping queries typed as text, through the deployed recall stage.
//   mpirun -np M recsys_query --run RUN "wireless bluetooth headphones" "usb c cable"
//   mpirun -np M recsys_query --run RUN --mode lexical --k 20 --queries-file queries.txt

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "core/numeric_checks.h"
#include "data/dataset.h"
#include "data/vector_file.h"
#include "dist/collective_try.h"
#include "dist/make_communicator.h"
#include "launch/main_util.h"
#include "models/ranker.h"
#include "models/ranking_features.h"
#include "serve/ranking_set_builder.h"
#include "serve/recall_service.h"
#include "serve/rerank.h"

namespace po = boost::program_options;

namespace recsys::launch {
namespace {

constexpr char kUsage[] =
    "Usage: mpirun -np M recsys_query --run RUN [OPTIONS] QUERY...\n"
    "Finds products for each query text through the run's deployed recall stage: the query tower\n"
    "and the sharded vector index (dense), the sharded BM25 index (lexical), or the fused union\n"
    "of both (hybrid), optionally re-ordered by a trained ranker (--ranker). Any number of ranks\n"
    "M, whatever built the index. Prints per query a table of rank, product id, title, brand,\n"
    "the ranker's score, the fused score and each source's rank and score.\n";

struct QueryOptions {
  std::string run;
  std::string data;  // default RUN/dataset.h5: the catalogue the index was built from
  std::vector<std::string> queries;
  std::string queries_file;
  int64_t k = 10;
  int64_t nprobe = serve::kDefaultNprobe;
  int64_t candidates = 100;
  std::string mode = "hybrid";
  std::string fusion = serve::FusionName(serve::FusionOptions().fusion);
  double lexical_weight = serve::FusionOptions().lexical_weight;
  std::string ranker = "none";
  serve::RerankOptions rerank;
  std::string diversity_by = "category";
  int64_t feature_buckets = models::RankingFeatureOptions().num_buckets;
  bool tsv = false;
};

// One printed result: a candidate and, when a ranker ordered the list, its score.
struct Result {
  serve::Candidate candidate;
  float rank_score = 0;
};

// At most `width` code points of a UTF-8 text, with "..." when it was cut.
std::string Clip(const std::string& text, size_t width) {
  size_t points = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (++points > width) return text.substr(0, i) + "...";
  }
  return text;
}

std::vector<std::string> ReadQueryFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError("--queries-file: cannot open " + path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// One line per result, tab-separated, for scripts: query number, query, rank, product id,
// title, brand, ranker score (0 without --ranker), fused score, dense rank and score, bm25 rank
// and score (ranks 0 when absent).
void PrintTsv(size_t q, const std::string& text, const std::vector<Result>& results, int64_t k,
              const data::Dataset& dataset) {
  const auto& p = dataset.products;
  for (size_t i = 0; i < results.size() && static_cast<int64_t>(i) < k; ++i) {
    const serve::Candidate& c = results[i].candidate;
    std::printf("%zu\t%s\t%zu\t%s\t%s\t%s\t%.6f\t%.6f\t%d\t%.6f\t%d\t%.6f\n", q + 1, text.c_str(),
                i + 1, p.id[c.product].c_str(), p.title[c.product].c_str(),
                dataset.brands[p.brand[c.product]].c_str(), results[i].rank_score, c.score,
                c.dense_rank, c.dense_score, c.lexical_rank, c.lexical_score);
  }
}

void PrintQuery(const std::string& text, const std::vector<Result>& results, int64_t k, bool ranked,
                const data::Dataset& dataset) {
  std::printf("\nquery: %s\n", text.c_str());
  if (results.empty()) {
    std::printf("  no products found\n");
    return;
  }
  std::printf("  %4s  %-14s %-60s %-18s %9s %9s %14s %14s\n", "rank", "product id", "title",
              "brand", "ranker", "fused", "dense (rank)", "bm25 (rank)");
  const auto& p = dataset.products;
  for (size_t i = 0; i < results.size() && static_cast<int64_t>(i) < k; ++i) {
    const serve::Candidate& c = results[i].candidate;
    char rank_score[32] = "-";
    if (ranked) std::snprintf(rank_score, sizeof(rank_score), "%.4f", results[i].rank_score);
    char dense[32] = "-", lexical[32] = "-";
    if (c.dense_rank > 0)
      std::snprintf(dense, sizeof(dense), "%.4f (%d)", c.dense_score, c.dense_rank);
    if (c.lexical_rank > 0) {
      std::snprintf(lexical, sizeof(lexical), "%.3f (%d)", c.lexical_score, c.lexical_rank);
    }
    std::printf("  %4zu  %-14s %-60s %-18s %9s %9.5f %14s %14s\n", i + 1, p.id[c.product].c_str(),
                Clip(p.title[c.product], 57).c_str(),
                Clip(dataset.brands[p.brand[c.product]], 15).c_str(), rank_score, c.score, dense,
                lexical);
  }
}

int Run(int argc, char** argv, dist::MpiRuntime& mpi) {
  QueryOptions o;
  // clang-format off
  dist::CollectiveTimeouts timeouts;
  po::options_description options("Options");
  options.add_options()
      ("help,h", "show this help")
      ("run", po::value(&o.run)->required(), "run folder written by recsys_train (RUN/index, "
       "RUN/checkpoints)")
      ("data", po::value(&o.data), "the dataset the run was built from (default RUN/dataset.h5)")
      ("queries-file", po::value(&o.queries_file), "one query per line (blank lines skipped), "
       "after the queries on the command line")
      ("k", po::value(&o.k)->default_value(o.k), "products printed per query")
      ("mode", po::value(&o.mode)->default_value(o.mode), "dense | lexical | hybrid")
      ("candidates", po::value(&o.candidates)->default_value(o.candidates),
       "M: the top M of each source that are fused")
      ("nprobe", po::value(&o.nprobe)->default_value(o.nprobe),
       "clusters of the vector index probed per query")
      ("fusion", po::value(&o.fusion)->default_value(o.fusion),
       "hybrid order: rrf (reciprocal rank) | score (min-max normalised scores, summed)")
      ("lexical-weight", po::value(&o.lexical_weight)->default_value(o.lexical_weight),
       "hybrid: weight of the bm25 list against the dense list's 1")
      ("ranker", po::value(&o.ranker)->default_value(o.ranker),
       "none, or a ranker trained by the rank stage (fm, dcn = dcn-2, dcn-4, xgboost, ...: "
       "RUN/checkpoints/ranker_<name>.h5) or a ranker checkpoint's path: re-orders the fused "
       "top M candidates")
      ("diversity", po::value(&o.rerank.diversity)->default_value(o.rerank.diversity),
       "re-rank weight of diversity (maximal marginal relevance over the top 10) against the "
       "ranker's score (weight 1); needs --ranker")
      ("freshness", po::value(&o.rerank.freshness)->default_value(o.rerank.freshness),
       "re-rank weight of freshness, 2^(-age / half-life); needs --ranker")
      ("diversity-by", po::value(&o.diversity_by)->default_value(o.diversity_by),
       "category | embedding (the served product vectors, RUN/vectors.h5)")
      ("half-life", po::value(&o.rerank.half_life_days)->default_value(o.rerank.half_life_days),
       "freshness halves every this many days of product age")
      ("feature-buckets", po::value(&o.feature_buckets)->default_value(o.feature_buckets),
       "hashed id space of the ranking features (as the rank stage's --feature-buckets)")
      ("tsv", po::bool_switch(&o.tsv), "print tab-separated lines (no header, no timings): "
       "query number, query, rank, product id, title, brand, ranker score, fused score, dense "
       "rank, dense score, bm25 rank, bm25 score");
  // clang-format on
  AddCollectiveTimeoutOption(options, &timeouts);
  if (!ParseArguments(argc, argv, options, &o.queries, kUsage, mpi.world_rank() == 0)) return 0;
  serve::RecallOptions recall;
  try {
    recall.mode = serve::ParseRecallMode(o.mode);
    recall.fusion.fusion = serve::ParseFusion(o.fusion);
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  CheckUsage([&] {
    CheckCount("--k", o.k, 1);
    CheckCount("--nprobe", o.nprobe, 1);
    CheckCount("--candidates", o.candidates, 1);
    CheckCount("--feature-buckets", o.feature_buckets, 1);
    CheckNonNegative("--lexical-weight", o.lexical_weight);
    CheckFinite("--diversity", o.rerank.diversity);
    CheckFinite("--freshness", o.rerank.freshness);
    CheckPositive("--half-life", o.rerank.half_life_days);
  });
  recall.fusion.lexical_weight = o.lexical_weight;
  if (!o.queries_file.empty()) {
    for (std::string& q : ReadQueryFile(o.queries_file)) o.queries.push_back(std::move(q));
  }
  if (o.queries.empty()) throw UsageError("no query given (as arguments or --queries-file)");
  for (size_t i = 0; i < o.queries.size(); ++i) {
    if (o.queries[i].find_first_not_of(" \t") == std::string::npos) {
      throw UsageError("query " + std::to_string(i + 1) + " is empty");
    }
  }
  recall.nprobe = o.nprobe;
  recall.candidates = std::max(o.candidates, o.k);
  if (o.data.empty()) o.data = o.run + "/dataset.h5";
  try {
    o.rerank.diversity_by = serve::ParseDiversity(o.diversity_by);
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  const bool reranked = o.rerank.diversity != 0 || o.rerank.freshness != 0;
  if (reranked && o.ranker == "none") throw UsageError("--diversity and --freshness need --ranker");
  std::string ranker_path;
  if (o.ranker != "none") {
    ranker_path = o.ranker;
    if (o.ranker.find('/') == std::string::npos && o.ranker.find(".h5") == std::string::npos) {
      try {
        ranker_path = models::RankerCheckpointPath(
            o.run, models::RankerName(models::ParseRankerName(o.ranker, {})));
      } catch (const Error& e) {
        throw UsageError(std::string("--ranker: ") + e.what());
      }
    }
  }

  auto comm = dist::MakeCommunicator(dist::Backend::kMpi, MPI_COMM_WORLD, timeouts);
  const bool root = comm->rank() == 0;
  serve::RecallService service(o.run, *comm);
  // More candidates than products cannot be found; each query's lists hold that many entries.
  const int64_t products = std::max<int64_t>(1, service.products());
  if (recall.candidates > products) {
    if (root) {
      std::fprintf(stderr,
                   "recsys_query: note: --candidates / --k %lld is more than the %lld "
                   "products of %s; using %lld\n",
                   static_cast<long long>(recall.candidates), static_cast<long long>(products),
                   o.run.c_str(), static_cast<long long>(products));
    }
    recall.candidates = products;
  }
  data::Dataset dataset;  // rank 0 prints from it
  std::unique_ptr<models::RankingFeatureBuilder> features;
  std::unique_ptr<models::Ranker> ranker;
  std::vector<float> embeddings;
  std::unique_ptr<serve::Reranker> reranker;
  dist::CollectiveTry(*comm, [&] {
    if (!root) return;
    dataset = data::ReadDataset(o.data);
    RECSYS_CHECK(static_cast<int64_t>(dataset.products.size()) == service.products(),
                 o.data << " has " << dataset.products.size() << " products, the index in " << o.run
                        << "/index " << service.products()
                        << ": give the dataset the run was built from (--data)");
    if (ranker_path.empty()) return;
    ranker = models::LoadRanker(ranker_path);
    RECSYS_CHECK(ranker->num_buckets() == 0 || ranker->num_buckets() == o.feature_buckets,
                 ranker_path << " was trained on " << ranker->num_buckets()
                             << " feature buckets, not " << o.feature_buckets
                             << " (--feature-buckets)");
    features = std::make_unique<models::RankingFeatureBuilder>(
        dataset, models::RankingFeatureOptions{o.feature_buckets});
    if (!reranked) return;
    int64_t dim = 0;
    if (o.rerank.diversity_by == serve::Diversity::kEmbedding) {
      const std::string vectors = o.run + "/vectors.h5";
      dim = data::ReadVectorInfo(vectors).dim;
      embeddings = data::ReadVectorRows(vectors, 0, service.products());
    }
    reranker = std::make_unique<serve::Reranker>(dataset, o.rerank,
                                                 embeddings.empty() ? nullptr : &embeddings, dim);
  });
  serve::RecallTimings t;
  const std::vector<std::vector<serve::Candidate>> candidates =
      service.Recall(o.queries, recall, &t);
  if (!root) return 0;
  // The ranker re-orders each query's fused top M (ties keep the candidate order).
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::vector<Result>> results(candidates.size());
  for (size_t q = 0; q < candidates.size(); ++q) {
    std::vector<serve::Candidate> list = candidates[q];
    list.resize(std::min<size_t>(list.size(), recall.candidates));
    std::vector<float> scores(list.size(), 0.0f);
    if (ranker) scores = ranker->Score(serve::QueryFeatures(*features, o.queries[q], list));
    for (size_t i = 0; i < list.size(); ++i) results[q].push_back({list[i], scores[i]});
    std::stable_sort(results[q].begin(), results[q].end(),
                     [](const Result& a, const Result& b) { return a.rank_score > b.rank_score; });
  }
  const double rank_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (o.tsv) {
    for (size_t q = 0; q < results.size(); ++q) PrintTsv(q, o.queries[q], results[q], o.k, dataset);
    return 0;
  }
  std::printf(
      "run %s: %s, %lld clusters, %d rank(s); mode %s, M %lld, nprobe %lld, fusion %s, ranker "
      "%s%s\n"
      "%zu queries: query tower %.2f ms, vector index %.2f ms, lexical index %.2f ms, "
      "fusion %.2f ms, ranking %.2f ms\n",
      o.run.c_str(), service.model_version().c_str(), static_cast<long long>(service.nlist()),
      comm->size(), o.mode.c_str(), static_cast<long long>(recall.candidates),
      static_cast<long long>(o.nprobe), o.fusion.c_str(), ranker ? ranker->name().c_str() : "none",
      reranked ? (" (re-ranked: diversity " + std::to_string(o.rerank.diversity) + " by " +
                  o.diversity_by + ", freshness " + std::to_string(o.rerank.freshness) + ")")
                     .c_str()
               : "",
      o.queries.size(), t.embed_ms, t.dense_ms, t.lexical_ms, t.fusion_ms, rank_ms);
  for (size_t q = 0; q < results.size(); ++q) {
    PrintQuery(o.queries[q], results[q], o.k, ranker != nullptr, dataset);
  }
  return 0;
}

}  // namespace
}  // namespace recsys::launch

int main(int argc, char** argv) {
  return recsys::launch::RunMain("recsys_query", argc, argv, [&](recsys::dist::MpiRuntime& mpi) {
    return recsys::launch::Run(argc, argv, mpi);
  });
}
