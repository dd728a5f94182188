#pragma once
// The sharded index on disk. An index directory (RUN/index/) holds:
//
//   manifest.h5               written last, by rank 0: the index is complete once it exists
//     @format "recsys-index", @format_version 1
//     @metric "inner_product" vectors and centroids L2-normalised; a score is <query, vector>
//     @model_version          the embedding model's version, copied from vectors.h5
//     @rows N  @dim d  @nlist L  @shards S
//     @build_id               a 64-bit id the manifest shares with its shard files
//     @build_info             how it was built (k-means seed, iterations, sample, objective)
//     centroids      float32 [L, d]
//     cluster_sizes  int64 [L]   vectors per cluster (they sum to N; empty clusters hold 0)
//     cluster_shard  int32 [L]   the shard file that holds each cluster
//
//   shard-<s>-of-<S>.h5       s = 0 .. S-1, written by rank s of the S ranks that built the index
//     @format "recsys-index-shard", @format_version 1, @build_id, @shard s, @shards S, @dim d
//     clusters   int64 [C]       the clusters this file holds, ascending (C may be 0)
//     offsets    int64 [C + 1]   cluster clusters[i] is rows [offsets[i], offsets[i + 1])
//     checksums  int64 [C]       per cluster, a stable hash of its ids and vectors
//     ids        int64 [n]       product ids (rows of vectors.h5), ascending within a cluster
//     vectors    float32 [n, d]
//
// Every file is written atomically (core/hdf5_file.h). An index written by S ranks loads on any
// number of ranks: the clusters are balanced again at load and each rank reads the clusters it
// now owns from whichever shard files hold them (shards/ivf_shard.h).

#include <cstdint>
#include <string>
#include <vector>

namespace recsys::shards {

struct IndexManifest {
  int64_t rows = 0;    // N: vectors in the index
  int64_t dim = 0;     // d
  int64_t nlist = 0;   // L: clusters
  int64_t shards = 0;  // S: shard files
  int64_t build_id = 0;
  std::string model_version;
  std::string build_info;
  std::vector<float> centroids;        // size nlist * dim
  std::vector<int64_t> cluster_sizes;  // size nlist
  std::vector<int32_t> cluster_shard;  // size nlist, values in [0, shards)
};

// "DIR/manifest.h5" and "DIR/shard-S-of-N.h5".
std::string ManifestPath(const std::string& dir);
std::string ShardPath(const std::string& dir, int64_t shard, int64_t shards);

// Writes DIR/manifest.h5 atomically. Not collective (rank 0 writes it).
void WriteManifest(const std::string& dir, const IndexManifest& manifest);

// Reads and validates DIR/manifest.h5 (format, metric, shapes, sizes summing to rows, shard
// numbers); throws recsys::Error naming the file. Not collective.
IndexManifest ReadManifest(const std::string& dir);

}  // namespace recsys::shards
