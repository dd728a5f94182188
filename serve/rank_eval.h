#pragma once
// The two-stage evaluation: the test queries' candidates from the deployed recall stage (the
// fused top M of the hybrid union, for each M asked), ordered by each ranker, measured over the
// full catalogue (a relevant product that recall missed counts as missed). Beside the rankers:
// the candidate order itself ("fusion"), BM25 alone (the lexical index's own top list) and
// popularity (the train split's most popular products).

#include <cstdint>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "models/metrics.h"
#include "models/ranking_features.h"
#include "serve/recall_service.h"
#include "serve/rerank.h"

namespace recsys::serve {

// One row of the comparison. Numbers that do not apply to a row are NaN (printed "-").
struct RankEvalRow {
  std::string model;       // "dcn-2", "xgboost", "fusion", "bm25", "popularity"
  int64_t candidates = 0;  // M; 0 for the rows that rank the catalogue themselves
  int64_t queries = 0;     // test queries measured (those with a relevant judged product)
  double hr5 = 0, hr10 = 0, hr25 = 0, hr50 = 0;  // HitRate@K
  double ndcg1 = 0, ndcg10 = 0;                  // graded gains
  double auc = 0;                                // over all candidate rows: relevant vs not
  double log_loss = 0;            // mean BCE of sigmoid(score) against the graded gain
  double train_seconds = 0;       // the ranker's training time
  double p50_ms = 0, p99_ms = 0;  // scoring one query's candidates, rank 0, one thread
};

struct RankEvalOptions {
  std::string data;  // dataset.h5
  std::string out;   // run folder: RUN/index and the two-tower checkpoint serve the candidates
  // Ranker checkpoints to compare (models::LoadRanker); none = every
  // RUN/checkpoints/ranker_*.h5, in name order.
  std::vector<std::string> checkpoints;
  std::vector<int64_t> candidates = {100, 1000};  // the M of each block of rows
  RecallOptions recall;                           // mode, nprobe, fusion (M is set per block)
  models::RankingFeatureOptions features;         // must be what the rankers trained on
  data::Grade relevant_from = data::Grade::kExact;
  models::GradeGains gains;
  int threads = 1;  // XGBoost's prediction threads
  // The re-rank table: the best ranker at the first M, re-ranked with each (diversity,
  // freshness) weight pair; diversity by embeddings (RUN/vectors.h5) when rerank.diversity_by
  // says so.
  RerankOptions rerank;
  std::vector<std::pair<double, double>> rerank_weights = {
      {0, 0}, {0.1, 0}, {0.3, 0}, {0.5, 0}, {0, 0.1}, {0, 0.3}, {0, 0.5}, {0.3, 0.3}};
};

struct RankEvalResult {
  std::vector<RankEvalRow> rows;
  std::string rerank_ranker;      // the ranker the re-rank table re-orders ("" without rankers)
  int64_t rerank_candidates = 0;  // its M
  std::vector<RerankRow> rerank;  // one row per weight pair
};

// Throws recsys::Error naming the first bad option. Not collective.
void CheckRankEvalOptions(const RankEvalOptions& options);

// The checkpoints options names, or every RUN/checkpoints/ranker_*.h5 in name order. Not
// collective.
std::vector<std::string> RankerCheckpoints(const RankEvalOptions& options);

// COLLECTIVE over comm. Rows: popularity and bm25 once, then for each M: fusion and every
// ranker. Every rank scores its slice of the queries; the tables are the same on every rank.
RankEvalResult RunRankEval(const RankEvalOptions& options, dist::Communicator& comm);

}  // namespace recsys::serve
