#pragma once
// Writing a sharded index from vectors spread over the ranks and centroids they share.

#include <cstdint>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "shards/index_manifest.h"

namespace recsys::shards {

// Where the indexed vectors came from, recorded in the manifest.
struct IndexProvenance {
  std::string model_version;  // the embedding model's version (vectors.h5's @model_version)
  std::string build_info;     // free text: how the centroids were made
};

// COLLECTIVE. Writes the index into dir (created if needed; layout in shards/index_manifest.h):
//  1. each rank assigns its rows to their nearest centroid (NearestCentroids, in blocks counted
//     from its first row);
//  2. one all-reduce of the cluster sizes; every rank computes the same owners (BalanceClusters)
//     and rank 0 logs the imbalance (largest rank load / mean);
//  3. one all-to-all moves every (id, cluster, vector) record to its cluster's owner;
//  4. each rank orders its records by (cluster, id) and writes shard-<rank>-of-<size>.h5;
//  5. once every shard is written, rank 0 writes manifest.h5 (and so the index is complete).
// vectors: this rank's rows (size n * d); ids: their product ids (size n), distinct over all
// ranks and in [0, N) with N the total of n over the ranks. centroids: size nlist * d, the same on
// every rank. Returns the manifest written, on every rank. Errors are thrown on every rank.
IndexManifest WriteIndex(const std::string& dir, const std::vector<float>& centroids,
                         const float* vectors, const int64_t* ids, int64_t n, int64_t d,
                         const IndexProvenance& provenance, dist::Communicator& comm);

}  // namespace recsys::shards
