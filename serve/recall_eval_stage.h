#pragma once
// `recsys_train --stage eval` (recall part): what serves, measured on the test queries. One table
// holds the baselines (random, popularity), every trained two-tower variant by exact search over
// all product embeddings and through an IVF index at the serving nprobe, BM25 from the lexical
// index, and the hybrid candidate sets of the deployed variant.

#include <cstdint>
#include <string>

#include "models/recall_eval.h"
#include "serve/recall_service.h"
#include "shards/build_index.h"

namespace recsys::serve {

struct RecallEvalOptions {
  std::string data;             // dataset.h5
  std::string out;              // run folder: reads RUN/checkpoints and RUN/index, writes results
  std::string variant = "all";  // variants to evaluate; missing checkpoints are skipped
  uint64_t seed = 1;            // seed of the random baseline
  int64_t nprobe = kDefaultNprobe;  // clusters probed per query, as served
  FusionOptions fusion;             // the hybrid rows' (their fusion method is each row's)
  // Relevance, gains and cut-offs; each source's top M is the deepest cut-off's depth
  // (models::RetrievalDepth: 100 by default).
  models::RecallMetricsOptions metrics;
  // How the indexes of the variants that are not deployed are built (RUN/eval/<variant>/):
  // the index stage's settings, so that every variant is searched the same way.
  shards::IndexBuildOptions index;
};

// COLLECTIVE over comm. Every rank loads the dataset. Rows, in order:
//  - random, popularity;
//  - per variant with a checkpoint: "two_tower_<v> exact" (every rank embeds its slice of the
//    catalogue, all-gathered, exact inner products) and "two_tower_<v> ivf nprobe=P" (through the
//    router: the deployed index RUN/index for the variant it was built from, an index built
//    with options.index under RUN/eval/<v>/ for the others);
//  - "bm25" from the lexical index in RUN/index, and the deployed variant's hybrid candidates
//    "hybrid rrf M=..." and "hybrid score M=..." (serve/candidate_fusion.h): with D =
//    RetrievalDepth (100 by default), the top D / 2 of both sources (a union of at most D, the
//    single sources' budget) and the top D of both (the fused top D of up to 2D);
// all through RecallService, the serving path. Without RUN/index only the baselines and exact
// rows are measured (with a warning). Rank 0 writes RUN/results/recall_metrics.{csv,md}.
// Returns the table on every rank.
// Throws when the test split of dataset (read from path) has no judged query: every row of the
// evaluation would be all zeros. RunRecallEval checks it first; recsys_train, before training,
// when it is to evaluate. Not collective.
void CheckHasTestQueries(const data::Dataset& dataset, const std::string& path);

models::RecallTable RunRecallEval(const RecallEvalOptions& options, dist::Communicator& comm);

}  // namespace recsys::serve
