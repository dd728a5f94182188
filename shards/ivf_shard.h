#pragma once
// The part of a sharded index one rank holds: every centroid, and the vectors of the clusters it
// owns, with the exact in-cluster search over them.

#include <cstdint>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "shards/index_manifest.h"

namespace recsys::shards {

struct IndexLoadOptions {
  // When non-empty, the manifest's model_version must equal it: queries embedded by one model
  // must not search vectors made by another.
  std::string expected_model_version;
  // When positive, the index's vectors must be this wide: a query of another width would be
  // read past its end.
  int64_t expected_dim = 0;
};

// A query that probes a cluster: one unit of in-cluster work.
struct Probe {
  int32_t cluster = 0;
  int32_t query = 0;
};

class IvfShard {
 public:
  // COLLECTIVE. Loads the index in dir (written by any number of ranks) on comm's ranks: every
  // rank reads the manifest, computes the same owners (BalanceClusters over the manifest's
  // cluster sizes and comm.size() ranks) and reads the clusters it owns from whichever shard
  // files hold them; rank s % size also checks shard file s whole, so a missing shard file is
  // found even when it holds nothing this load needs. Rank 0 logs the imbalance. A missing or
  // corrupt manifest or shard, a shard of another build, or a model version other than the
  // expected one throws recsys::Error naming the file, on every rank.
  static IvfShard Load(const std::string& dir, const IndexLoadOptions& options,
                       dist::Communicator& comm);

  // The rows of one owned cluster: ids (size size) and vectors (size size * dim), ascending id.
  struct ClusterRows {
    const int64_t* ids = nullptr;
    const float* vectors = nullptr;
    int64_t size = 0;
  };
  bool Owns(int64_t cluster) const { return slot_of_[cluster] >= 0; }
  // The rows the index was built with.
  ClusterRows Cluster(int64_t cluster) const;
  // The rows Add put into the cluster since the load, in the order added.
  ClusterRows Added(int64_t cluster) const;

  // Adds one row to an owned cluster: id (a dataset row above every id already held: a product
  // appended to the catalogue) and its vector (dim floats), searched by Scan from now on. The
  // manifest (cluster sizes, build id) stays as built. Not collective.
  void Add(int64_t cluster, int64_t id, const float* vector);
  // Rows added since the load.
  int64_t added_rows() const { return added_rows_; }

  // Exact search of the owned clusters, built and added rows alike. queries: size nq * dim.
  // probes: which query scans which cluster (clusters owned by this rank; any order). The queries
  // probing a cluster score each block of its rows while it is in cache, each query alone (a
  // matrix-vector product), so a (query, vector) score depends only on the two: not on the rank,
  // nor on the other queries of the batch. ids and scores (size nq * k) receive each query's top
  // k in SearchResult's layout. Not collective.
  void Scan(const float* queries, int64_t nq, std::vector<Probe> probes, int64_t k, int64_t* ids,
            float* scores) const;

  const IndexManifest& manifest() const { return manifest_; }
  int64_t dim() const { return manifest_.dim; }
  int64_t nlist() const { return manifest_.nlist; }
  // Owner of each cluster at this load (size nlist).
  const std::vector<int32_t>& owners() const { return owners_; }
  // Bytes this rank holds for search: its vectors, ids and offsets, and the centroids.
  int64_t MemoryBytes() const;

 private:
  int64_t OwnedSlot(int64_t cluster) const;  // throws unless owned

  IndexManifest manifest_;
  std::vector<int32_t> owners_;
  std::vector<int64_t> slot_of_;  // size nlist: the owned cluster's slot, or -1
  std::vector<int64_t> offsets_;  // size slots + 1: slot s is rows [offsets_[s], offsets_[s+1])
  std::vector<int64_t> ids_;
  std::vector<float> vectors_;
  // Per slot: the rows added since the load.
  std::vector<std::vector<int64_t>> added_ids_;
  std::vector<std::vector<float>> added_vectors_;
  int64_t added_rows_ = 0;
};

}  // namespace recsys::shards
