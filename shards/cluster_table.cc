#include "shards/cluster_table.h"

#include "core/error.h"

namespace recsys::shards {

ClusterTable ReadClusterTable(const H5Reader& in, const std::string& path, int64_t shard,
                              const std::vector<int32_t>& cluster_shard,
                              const std::vector<int64_t>& cluster_sizes,
                              const std::string& manifest_name) {
  ClusterTable t;
  t.clusters = in.Read<int64_t>("clusters");
  t.offsets = in.Read<int64_t>("offsets");
  t.checksums = in.Read<int64_t>("checksums");
  RECSYS_CHECK(t.offsets.size() == t.clusters.size() + 1 &&
                   t.checksums.size() == t.clusters.size() && t.offsets[0] == 0,
               path << ": corrupt cluster table (clusters, offsets and checksums disagree)");
  size_t next = 0;
  for (size_t c = 0; c < cluster_shard.size(); ++c) {
    if (cluster_shard[c] != shard) continue;
    RECSYS_CHECK(next < t.clusters.size() && t.clusters[next] == static_cast<int64_t>(c) &&
                     t.offsets[next + 1] - t.offsets[next] == cluster_sizes[c],
                 path << ": cluster table differs from " << manifest_name << "'s at cluster " << c);
    ++next;
  }
  RECSYS_CHECK(next == t.clusters.size(),
               path << ": holds clusters that " << manifest_name << " places in other shards");
  return t;
}

std::set<int64_t> ShardFilesToRead(int64_t shards, const std::vector<int32_t>& cluster_shard,
                                   const std::vector<int32_t>& owners, int rank, int world) {
  std::set<int64_t> files;
  for (int64_t f = rank; f < shards; f += world) files.insert(f);
  for (size_t c = 0; c < owners.size(); ++c) {
    if (owners[c] == rank) files.insert(cluster_shard[c]);
  }
  return files;
}

std::vector<TableRun> OwnedRuns(const ClusterTable& table, const std::vector<int32_t>& owners,
                                int rank, int64_t max_rows) {
  const std::vector<int64_t>& clusters = table.clusters;
  const std::vector<int64_t>& offsets = table.offsets;
  std::vector<TableRun> runs;
  for (size_t i = 0; i < clusters.size();) {
    if (owners[clusters[i]] != rank) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < clusters.size() && owners[clusters[j]] == rank &&
           offsets[j + 1] - offsets[i] <= max_rows) {
      ++j;
    }
    runs.push_back({static_cast<int64_t>(i), static_cast<int64_t>(j - i)});
    i = j;
  }
  return runs;
}

}  // namespace recsys::shards
