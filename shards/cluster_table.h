#pragma once
// What the vector and the lexical shard files share: a table of the clusters a file holds, and
// which files and table entries a rank reads when it loads the clusters it owns.

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/hdf5_file.h"

namespace recsys::shards {

// A shard file's cluster table: cluster clusters[i] is rows [offsets[i], offsets[i + 1]) of the
// file, with checksum checksums[i].
struct ClusterTable {
  std::vector<int64_t> clusters;   // ascending
  std::vector<int64_t> offsets;    // size clusters.size() + 1, offsets[0] == 0
  std::vector<int64_t> checksums;  // size clusters.size()
};

// Reads the table of shard file `shard` (datasets "clusters", "offsets", "checksums" of in) and
// checks it against its manifest's placement: the file holds exactly the clusters c with
// cluster_shard[c] == shard, in order, each of cluster_sizes[c] rows. Throws recsys::Error naming
// path (and manifest_name, the file the placement comes from) otherwise. Not collective.
ClusterTable ReadClusterTable(const H5Reader& in, const std::string& path, int64_t shard,
                              const std::vector<int32_t>& cluster_shard,
                              const std::vector<int64_t>& cluster_sizes,
                              const std::string& manifest_name);

// The shard files rank of world opens at a load: those holding a cluster it owns (owners[c] ==
// rank), and files s with s % world == rank, so that every file is checked whole by some rank
// even when no load needs it. Not collective.
std::set<int64_t> ShardFilesToRead(int64_t shards, const std::vector<int32_t>& cluster_shard,
                                   const std::vector<int32_t>& owners, int rank, int world);

// A run of consecutive table entries [first, first + count), read in one go.
struct TableRun {
  int64_t first = 0;
  int64_t count = 0;
};

// The runs of consecutive entries of table whose clusters rank owns, each holding at most
// max_rows rows (a larger cluster is a run of its own), in table order. Not collective.
std::vector<TableRun> OwnedRuns(const ClusterTable& table, const std::vector<int32_t>& owners,
                                int rank, int64_t max_rows);

}  // namespace recsys::shards
