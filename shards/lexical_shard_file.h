#pragma once
// One shard file of the lexical index: writing it, and reading clusters of products back with
// their checks. The layout is in shards/lexical_manifest.h.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "shards/cluster_table.h"
#include "shards/lexical_manifest.h"

namespace recsys {
class H5Reader;
}

namespace recsys::shards {

// Products with their terms, in CSR form: product ids[i] has the terms [term_offsets[i],
// term_offsets[i + 1]) of terms and tfs.
struct LexicalDocs {
  std::vector<int64_t> ids;
  std::vector<int64_t> term_offsets{0};  // size ids.size() + 1
  std::vector<int32_t> terms;            // ascending within a product
  std::vector<int32_t> tfs;              // >= 1
};

// What one rank writes: the clusters it owns (ascending), products [offsets[i], offsets[i + 1])
// of docs for cluster clusters[i].
struct LexicalShardContents {
  std::vector<int64_t> clusters;
  std::vector<int64_t> offsets{0};  // size clusters.size() + 1
  LexicalDocs docs;
};

// Stable hash of products [begin, end) of docs: their ids, terms and counts. Not collective.
int64_t LexicalChecksum(const LexicalDocs& docs, int64_t begin, int64_t end);

// Writes LexicalShardPath(dir, shard, shards) atomically, with per-cluster checksums. Not
// collective.
void WriteLexicalShardFile(const std::string& dir, const LexicalShardContents& contents,
                           int64_t shard, int64_t shards, int64_t build_id);

// An open lexical shard file that has been checked against its manifest.
class LexicalShardFileReader {
 public:
  // Opens shard `shard` of the lexical index in dir and checks it against manifest: format,
  // build id, shard number and count, and its cluster table (exactly the clusters whose
  // cluster_shard is shard, with the manifest's sizes). Throws recsys::Error naming the file.
  // Not collective.
  LexicalShardFileReader(const std::string& dir, const LexicalManifest& manifest, int64_t shard);
  ~LexicalShardFileReader();
  LexicalShardFileReader(const LexicalShardFileReader&) = delete;
  LexicalShardFileReader& operator=(const LexicalShardFileReader&) = delete;

  // The clusters of the file, ascending, their product offsets and checksums.
  const ClusterTable& table() const { return table_; }

  // Appends to *docs the products of the count consecutive table entries table().clusters[first
  // ..], read in one go, and checks each cluster's checksum, that its ids are in [0, N), its terms
  // ascending in [0, V) and its counts >= 1.
  void ReadClusters(int64_t first, int64_t count, LexicalDocs* docs) const;

 private:
  std::string path_;
  int64_t products_;
  int64_t num_terms_;
  std::unique_ptr<H5Reader> reader_;
  ClusterTable table_;
};

}  // namespace recsys::shards
