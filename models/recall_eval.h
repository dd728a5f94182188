#pragma once
// The recall-stage evaluation: every retriever (trained models and baselines alike) runs on the
// same judged queries of one split, and the metrics go into one table, written as CSV and
// Markdown (RUN/results/recall_metrics.{csv,md}).
//
// Definitions (those of models/metrics.h): a product is relevant when its grade is at least the
// chosen one (Exact by default); queries without a relevant judged product are skipped. Each
// retriever returns its top 100 per query. The cold-start column is Recall@50 restricted to the
// relevant products that are cold (never judged for a train or valid query, so no model saw them in
// training), averaged over the queries that have at least one relevant cold product.

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "models/metrics.h"
#include "models/retriever.h"

namespace recsys::dist {
class Communicator;
}

namespace recsys::models {

// One retriever's metrics, each a mean over queries, in [0, 1].
struct RecallRow {
  std::string model;  // Retriever::name()
  double precision_at_5 = 0, precision_at_10 = 0;
  double recall_at_5 = 0, recall_at_10 = 0, recall_at_50 = 0;
  double ndcg_at_10 = 0, hit_rate_at_10 = 0;
  double cold_recall_at_50 = 0;  // 0 when no query has a relevant cold product
  double recall_at_100 = 0;
};

// One query's metrics for one retriever: what recall_per_query.csv holds.
struct QueryRecallRow {
  std::string model;
  std::string query_id;  // Dataset::queries.id
  int64_t relevant = 0;  // relevant judged products
  double recall_at_10 = 0, recall_at_50 = 0, recall_at_100 = 0, ndcg_at_10 = 0;
};

struct RecallTable {
  data::Split split = data::Split::kTest;
  data::Grade relevant_from = data::Grade::kExact;  // a product is relevant from this grade on
  GradeGains gains;                                 // NDCG gains
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
// each rank asks every retriever for the top 50 of its block, and the metric sums are
// all-reduced, so every rank returns the whole table. The table equals the 1-rank table to
// double rounding (the sums are added in a different order; about 1e-16 relative). A retriever
// that throws on any rank makes every rank throw rather than hang. Shows progress on rank 0
// when show_progress is set.
// relevant_from: the lowest grade that counts as relevant (Exact by default). The table's rows
// are on every rank; its per-query rows are gathered to rank 0.
RecallTable EvaluateRecall(const data::Dataset& dataset, data::Split split,
                           const std::vector<const Retriever*>& retrievers,
                           dist::Communicator& comm, bool show_progress = false,
                           data::Grade relevant_from = data::Grade::kExact, GradeGains gains = {});

// The table in Markdown: a header row, one row per model (metrics with 4 decimals, then the
// query counts), then a line naming the split, the query counts, the relevance definition and
// what cold start means. What recall_metrics.md holds; for printing too.
std::string FormatRecallTable(const RecallTable& table);

// Writes dir/recall_metrics.csv (header row, one row per model, a column per metric, 4
// decimals), dir/recall_metrics.md (FormatRecallTable) and dir/recall_per_query.csv (model,
// query_id, relevant, recall@10, recall@50, recall@100, ndcg@10; text fields quoted as RFC 4180
// says), creating dir if needed. Each file
// is written under a temporary name and renamed into place. Throws recsys::Error naming the
// path when dir cannot be created or a file cannot be written, or when a model name would
// break the formats (contains , " | or a line break). Not collective: call it on one rank.
void WriteRecallTable(const RecallTable& table, const std::string& dir);

}  // namespace recsys::models
