#pragma once
// The recall-stage evaluation: every retriever (trained models and baselines alike) runs on the
// same judged queries of one split, and the metrics go into one table, written as CSV and
// Markdown (RUN/results/recall_metrics.{csv,md}).
//
// Definitions (those of models/metrics.h): a product is relevant when its grade is at least the
// chosen one (Exact by default); queries without a relevant judged product are skipped. Each
// retriever returns its top RetrievalDepth per query (100 by default). The cold-start column is
// Recall@50 restricted to the relevant products that are cold (never judged for a train or valid
// query, so no model saw them in training), averaged over the queries that have at least one
// relevant cold product.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "models/metrics.h"
#include "models/retriever.h"

namespace recsys::dist {
class Communicator;
}

namespace recsys::models {

// What counts as relevant, how much each grade gains, and where lists are cut.
struct RecallMetricsOptions {
  data::Grade relevant_from = data::Grade::kExact;  // a product is relevant from this grade on
  GradeGains gains;                                 // NDCG gains
  // The Precision@K and Recall@K columns, ascending, each >= 1. NDCG and HR are at 10 and the
  // cold-start recall at 50, whatever these are.
  std::vector<int> cutoffs = {5, 10, 50, 100};
};

// Products retrieved per query for options: the largest cut-off, and at least 50 (the cold-start
// column's).
int RetrievalDepth(const RecallMetricsOptions& options);

// Parses "10,50,100": distinct integers >= 1, returned ascending. Throws recsys::Error otherwise.
std::vector<int> ParseCutoffs(const std::string& text);

// One retriever's metrics, each a mean over queries, in [0, 1].
struct RecallRow {
  std::string model;                        // Retriever::name()
  std::map<int, double> precision, recall;  // by cut-off K (RecallMetricsOptions::cutoffs)
  double ndcg_at_10 = 0, hit_rate_at_10 = 0;
  double cold_recall_at_50 = 0;  // 0 when no query has a relevant cold product
};

// One query's metrics for one retriever: what recall_per_query.csv holds.
struct QueryRecallRow {
  std::string model;
  std::string query_id;          // Dataset::queries.id
  int64_t relevant = 0;          // relevant judged products
  std::map<int, double> recall;  // by cut-off K
  double ndcg_at_10 = 0;
};

struct RecallTable {
  data::Split split = data::Split::kTest;
  RecallMetricsOptions metrics;
  int64_t judged_queries = 0;   // queries of the split with at least one judged pair
  int64_t queries = 0;          // of those, with a relevant product: every column's mean but cold
  int64_t cold_queries = 0;     // of those, with a relevant cold product: the cold column's mean
  std::vector<RecallRow> rows;  // one per retriever, in the order given
  // Per retriever (in rows' order), per query with a relevant product (in query-row order); on
  // rank 0 only.
  std::vector<QueryRecallRow> per_query;
};

// COLLECTIVE over comm: every rank passes the same dataset and the same retrievers (same names,
// same order). The split's judged queries are divided into contiguous blocks, one per rank;
// each rank asks every retriever for the top RetrievalDepth(metrics) of its block, and the metric
// sums are all-reduced, so every rank returns the whole table. The table equals the 1-rank table to
// double rounding (the sums are added in a different order; about 1e-16 relative). A retriever
// that throws on any rank makes every rank throw rather than hang. Shows progress on rank 0
// when show_progress is set.
// The table's rows are on every rank; its per-query rows are gathered to rank 0. Throws for
// cut-offs that are not ascending integers >= 1.
RecallTable EvaluateRecall(const data::Dataset& dataset, data::Split split,
                           const std::vector<const Retriever*>& retrievers,
                           dist::Communicator& comm, bool show_progress = false,
                           const RecallMetricsOptions& metrics = {});

// The table in Markdown: a header row, one row per model (metrics with 4 decimals, then the
// query counts), then a line naming the split, the query counts, the relevance definition and
// what cold start means. What recall_metrics.md holds; for printing too.
std::string FormatRecallTable(const RecallTable& table);

// Writes dir/recall_metrics.csv (header row, one row per model, a column per metric, 4
// decimals), dir/recall_metrics.md (FormatRecallTable) and dir/recall_per_query.csv (model,
// query_id, relevant, recall@K per cut-off, ndcg@10; text fields quoted as RFC 4180 says), creating
// dir if needed. Each file is written under a temporary name and renamed into place. Throws
// recsys::Error naming the path when dir cannot be created or a file cannot be written, or when a
// model name would break the formats (contains , " | or a line break). Not collective: call it on
// one rank.
void WriteRecallTable(const RecallTable& table, const std::string& dir);

}  // namespace recsys::models
