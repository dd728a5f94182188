#pragma once
// Scatter-gather BM25 search over the sharded lexical index.

#include <cstdint>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "shards/lexical_shard.h"
#include "shards/search_result.h"

namespace recsys::serve {

// Protocol of one Search call. Every rank calls Search, in the same order; the root (rank 0)
// holds the batch of query texts.
//  1. Root: checks k and turns each text into the ids of its distinct known terms
//     (shards::LexicalShard::QueryTerms: tokenised and stemmed once, on root).
//  2. Broadcast from root of one int64 message: whether the arguments were valid, k, nq, then the
//     queries' term offsets and term ids (dist::Broadcast: its length, then the message).
//  3. Every rank scores the products it holds (shards::LexicalShard::Scan: term at a time over
//     posting lists whose impacts already hold the global idf and length normalisation), keeping
//     a top k per query. Every query goes to every rank: a term's postings are spread over the
//     ranks that own the clusters of the products holding it.
//  4. Gather to root of every rank's k (id, score) entries per query: ids, then scores (sizes
//     known from nq and k, so no counts are exchanged).
//  5. Root merges each query's lists with shards::TopK: score descending, ties to the smaller
//     product row. A product is scored whole on one rank, from global statistics, so ids and
//     scores equal a 1-rank search exactly.
// Four collectives per batch whatever its size: two broadcasts, two gathers.
class LexicalRouter {
 public:
  // Not collective. shard must have been loaded on comm (the same ranks, the same order) and
  // both must outlive the router.
  LexicalRouter(const shards::LexicalShard& shard, dist::Communicator& comm);

  // COLLECTIVE. On rank 0: texts (query strings, any number), k >= 1 results per query; the
  // other ranks' arguments are ignored. Returns on rank 0 a SearchResult of texts.size() rows
  // whose ids are dataset product rows and scores BM25 (float), best first, ties to the smaller
  // product row, padded with -1 / -infinity when fewer than k products share a term with the
  // query (an empty or unknown-words query gets a row of padding); an empty result on the
  // other ranks. Invalid arguments throw recsys::Error on every rank, with the reason on rank 0.
  // Not thread-safe (one scratch buffer per router).
  shards::SearchResult Search(const std::vector<std::string>& texts, int64_t k);

 private:
  const shards::LexicalShard& shard_;
  dist::Communicator& comm_;
  std::vector<double> accumulators_;  // per held product, zeros between calls
};

}  // namespace recsys::serve
