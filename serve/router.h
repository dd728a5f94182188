#pragma once
// Scatter-gather search over a sharded index: the recall stage's entry point.

#include <cstdint>

#include "dist/communicator.h"
#include "shards/ivf_shard.h"
#include "shards/search_result.h"

namespace recsys::serve {

// Protocol of one Search call. Every rank calls Search, in the same order; the root (rank 0)
// holds the batch of queries.
//  1. Root: centroid search (shards::ProbeClusters): each query's nprobe clusters.
//  2. Root: for each rank, the queries that probe at least one cluster it owns (in query order)
//     and the (cluster, query) probes among them. A query goes only to the ranks that own its
//     clusters.
//  3. Broadcast from root of a fixed-size header: whether the arguments were valid, k, and for
//     every rank the number of queries and probes it is about to receive.
//  4. One all-to-all from root: each rank receives its queries' vectors and its probes (the other
//     ranks send nothing; a rank with no work receives 0 bytes and still joins).
//  5. Every rank scans its clusters exactly (shards::IvfShard::Scan: each block of a cluster's
//     rows scored by every query probing it while in cache), keeping a top k per query it
//     received. Probes and scores of a query do not depend on the rest of its batch.
//  6. Gather to root of every rank's lists: k (id, score) entries per query received; root knows
//     the sizes from step 2, so no counts are exchanged.
//  7. Root merges each query's lists with shards::TopK: score descending, ties to the smaller
//     id, so the result does not depend on how clusters are spread over the ranks.
// Three collectives per batch, whatever its size: a single query costs one small broadcast, one
// all-to-all and one gather on top of the work itself.
class Router {
 public:
  // Not collective. shard must have been loaded on comm (the same ranks, the same order) and
  // both must outlive the router.
  Router(const shards::IvfShard& shard, dist::Communicator& comm);

  // COLLECTIVE. On rank 0: queries (size nq * d, d = the index's dim), k >= 1 results per query,
  // nprobe clusters per query (values above nlist mean nlist). The other ranks' arguments are
  // ignored (pass nullptr, 0, 0, 0). Returns the top k of every query on rank 0 (shards::
  // SearchResult: fewer than k results when the probed clusters hold fewer vectors) and an
  // empty result on the other ranks. Invalid arguments throw recsys::Error on every rank, with
  // the reason on rank 0.
  shards::SearchResult Search(const float* queries, int64_t nq, int64_t k, int64_t nprobe);

 private:
  const shards::IvfShard& shard_;
  dist::Communicator& comm_;
};

}  // namespace recsys::serve
