#pragma once
// One shard file of the index: writing it, and reading clusters back with their checks. The
// layout is in shards/index_manifest.h.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "shards/cluster_table.h"
#include "shards/index_manifest.h"

namespace recsys {
class H5Reader;
}

namespace recsys::shards {

// Stable hash of one cluster's ids (size n) and vectors (size n * d). Not collective.
int64_t ClusterChecksum(const int64_t* ids, const float* vectors, int64_t n, int64_t d);

// What one rank writes: the clusters it owns and their rows.
struct ShardContents {
  std::vector<int64_t> clusters;  // ascending
  std::vector<int64_t> offsets;   // size clusters.size() + 1; offsets[0] == 0
  std::vector<int64_t> ids;       // size offsets.back()
  std::vector<float> vectors;     // size offsets.back() * dim
};

// Writes ShardPath(dir, shard, shards) atomically, with per-cluster checksums. Not collective.
void WriteShardFile(const std::string& dir, const ShardContents& contents, int64_t dim,
                    int64_t shard, int64_t shards, int64_t build_id);

// An open shard file that has been checked against its manifest.
class ShardFileReader {
 public:
  // Opens shard `shard` of the index in dir and checks that it belongs to manifest: format,
  // build id, shard number and count, dim, and its cluster table (exactly the clusters whose
  // cluster_shard is shard, with the manifest's sizes). Throws recsys::Error naming the file.
  // Not collective.
  ShardFileReader(const std::string& dir, const IndexManifest& manifest, int64_t shard);
  ~ShardFileReader();
  ShardFileReader(const ShardFileReader&) = delete;
  ShardFileReader& operator=(const ShardFileReader&) = delete;

  // The clusters of the file, ascending, their row offsets and checksums.
  const ClusterTable& table() const { return table_; }

  // Reads the rows of the count consecutive table entries table().clusters[first ..]: ids (size
  // table().offsets[first + count] - table().offsets[first]) and vectors (that many rows of dim),
  // in one read, and checks each cluster's checksum and that its ids are in [0, rows).
  void ReadClusters(int64_t first, int64_t count, int64_t* ids, float* vectors) const;

 private:
  std::string path_;
  int64_t dim_;
  int64_t rows_;
  std::unique_ptr<H5Reader> reader_;
  ClusterTable table_;
};

}  // namespace recsys::shards
