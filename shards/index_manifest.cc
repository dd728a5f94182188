#include "shards/index_manifest.h"

#include <filesystem>
#include <numeric>

#include "core/error.h"
#include "core/hdf5_file.h"
#include "core/numeric_checks.h"

namespace recsys::shards {
namespace {
constexpr char kFormat[] = "recsys-index";
constexpr int64_t kFormatVersion = 1;
constexpr char kMetric[] = "inner_product";
}  // namespace

std::string ManifestPath(const std::string& dir) {
  return (std::filesystem::path(dir) / "manifest.h5").string();
}

std::string ShardPath(const std::string& dir, int64_t shard, int64_t shards) {
  return (std::filesystem::path(dir) /
          ("shard-" + std::to_string(shard) + "-of-" + std::to_string(shards) + ".h5"))
      .string();
}

void WriteManifest(const std::string& dir, const IndexManifest& m) {
  H5Writer w(ManifestPath(dir));
  w.Write("centroids", m.centroids.data(),
          {static_cast<uint64_t>(m.nlist), static_cast<uint64_t>(m.dim)});
  w.Write("cluster_sizes", m.cluster_sizes);
  w.Write("cluster_shard", m.cluster_shard);
  w.SetFormat(kFormat, kFormatVersion);
  w.SetAttribute("/", "metric", std::string(kMetric));
  w.SetAttribute("/", "model_version", m.model_version);
  w.SetAttribute("/", "build_info", m.build_info);
  w.SetAttribute("/", "rows", m.rows);
  w.SetAttribute("/", "dim", m.dim);
  w.SetAttribute("/", "nlist", m.nlist);
  w.SetAttribute("/", "shards", m.shards);
  w.SetAttribute("/", "build_id", m.build_id);
  w.Commit();
}

IndexManifest ReadManifest(const std::string& dir) {
  const std::string path = ManifestPath(dir);
  H5Reader r(path);
  r.CheckFormat(kFormat, kFormatVersion);
  const std::string metric = r.StringAttribute("/", "metric");
  RECSYS_CHECK(metric == kMetric,
               path << ": metric '" << metric << "', this build searches by " << kMetric);
  IndexManifest m;
  m.model_version = r.StringAttribute("/", "model_version");
  m.build_info = r.StringAttribute("/", "build_info");
  m.rows = r.Int64Attribute("/", "rows");
  m.dim = r.Int64Attribute("/", "dim");
  m.nlist = r.Int64Attribute("/", "nlist");
  m.shards = r.Int64Attribute("/", "shards");
  m.build_id = r.Int64Attribute("/", "build_id");
  RECSYS_CHECK(m.rows >= 0 && m.dim > 0 && m.nlist > 0 && m.shards > 0 && m.nlist <= INT32_MAX,
               path << ": bad sizes rows=" << m.rows << " dim=" << m.dim << " nlist=" << m.nlist
                    << " shards=" << m.shards);
  const std::vector<uint64_t> shape = r.Shape("centroids");
  RECSYS_CHECK(shape.size() == 2 && static_cast<int64_t>(shape[0]) == m.nlist &&
                   static_cast<int64_t>(shape[1]) == m.dim,
               path << ": 'centroids' is not [nlist=" << m.nlist << ", dim=" << m.dim << "]");
  m.centroids = r.Read<float>("centroids");
  CheckFiniteRows(path + ": centroids", m.centroids.data(), m.nlist, m.dim);
  m.cluster_sizes = r.Read<int64_t>("cluster_sizes");
  m.cluster_shard = r.Read<int32_t>("cluster_shard");
  RECSYS_CHECK(
      static_cast<int64_t>(m.cluster_sizes.size()) == m.nlist &&
          static_cast<int64_t>(m.cluster_shard.size()) == m.nlist,
      path << ": cluster_sizes and cluster_shard must hold nlist=" << m.nlist << " entries");
  for (int64_t c = 0; c < m.nlist; ++c) {
    RECSYS_CHECK(
        m.cluster_sizes[c] >= 0 && m.cluster_shard[c] >= 0 && m.cluster_shard[c] < m.shards,
        path << ": cluster " << c << " has size " << m.cluster_sizes[c] << " in shard "
             << m.cluster_shard[c] << " of " << m.shards);
  }
  const int64_t total = std::accumulate(m.cluster_sizes.begin(), m.cluster_sizes.end(), int64_t{0});
  RECSYS_CHECK(total == m.rows,
               path << ": cluster sizes sum to " << total << ", not rows=" << m.rows);
  return m;
}

}  // namespace recsys::shards
