#pragma once
// `recsys_train --stage eval` (recall part): the trained two-tower variants and the baselines
// (random, popularity, BM25) evaluated on the same test queries, one table.

#include <cstdint>
#include <string>

#include "models/recall_eval.h"

namespace recsys::models {

struct RecallEvalOptions {
  std::string data;             // dataset.h5
  std::string out;              // run folder: reads out/checkpoints, writes out/results
  std::string variant = "all";  // variants to evaluate; missing checkpoints are skipped
  uint64_t seed = 1;            // seed of the random baseline
};

// COLLECTIVE over comm. Every rank loads the dataset and builds the baselines; for each variant
// whose checkpoint exists, every rank embeds its slice of the catalogue and all the queries,
// the slices are all-gathered, and exact search over the embeddings ranks the catalogue.
// EvaluateRecall runs on the test split; rank 0 writes out/results/recall_metrics.{csv,md}.
// Returns the table on every rank.
RecallTable RunRecallEval(const RecallEvalOptions& options, dist::Communicator& comm);

}  // namespace recsys::models
