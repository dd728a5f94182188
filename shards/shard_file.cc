#include "shards/shard_file.h"

#include <cstring>

#include "core/error.h"
#include "core/hdf5_file.h"
#include "core/stable_hash.h"
#include "shards/cluster_table.h"

namespace recsys::shards {
namespace {
constexpr char kFormat[] = "recsys-index-shard";
constexpr int64_t kFormatVersion = 1;

uint64_t HashWords(const void* data, size_t bytes, uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  size_t i = 0;
  for (; i + 8 <= bytes; i += 8) {
    uint64_t word;
    std::memcpy(&word, p + i, 8);
    h = HashCombine(h, word);
  }
  if (i < bytes) {
    uint64_t word = 0;
    std::memcpy(&word, p + i, bytes - i);
    h = HashCombine(h, word);
  }
  return h;
}
}  // namespace

int64_t ClusterChecksum(const int64_t* ids, const float* vectors, int64_t n, int64_t d) {
  uint64_t h = HashCombine(0x5eed, static_cast<uint64_t>(n));
  h = HashWords(ids, n * sizeof(int64_t), h);
  h = HashWords(vectors, n * d * sizeof(float), h);
  return static_cast<int64_t>(h);
}

void WriteShardFile(const std::string& dir, const ShardContents& c, int64_t dim, int64_t shard,
                    int64_t shards, int64_t build_id) {
  const std::string path = ShardPath(dir, shard, shards);
  const int64_t n = c.offsets.back();
  RECSYS_CHECK(c.offsets.size() == c.clusters.size() + 1 &&
                   static_cast<int64_t>(c.ids.size()) == n &&
                   static_cast<int64_t>(c.vectors.size()) == n * dim,
               path << ": inconsistent shard contents");
  std::vector<int64_t> checksums(c.clusters.size());
  for (size_t i = 0; i < c.clusters.size(); ++i) {
    const int64_t begin = c.offsets[i];
    checksums[i] = ClusterChecksum(c.ids.data() + begin, c.vectors.data() + begin * dim,
                                   c.offsets[i + 1] - begin, dim);
  }
  H5Writer w(path);
  w.Write("clusters", c.clusters);
  w.Write("offsets", c.offsets);
  w.Write("checksums", checksums);
  w.Write("ids", c.ids);
  w.Write("vectors", c.vectors.data(), {static_cast<uint64_t>(n), static_cast<uint64_t>(dim)});
  w.SetFormat(kFormat, kFormatVersion);
  w.SetAttribute("/", "build_id", build_id);
  w.SetAttribute("/", "shard", shard);
  w.SetAttribute("/", "shards", shards);
  w.SetAttribute("/", "dim", dim);
  w.Commit();
}

ShardFileReader::ShardFileReader(const std::string& dir, const IndexManifest& m, int64_t shard)
    : path_(ShardPath(dir, shard, m.shards)), dim_(m.dim), rows_(m.rows) {
  reader_ = std::make_unique<H5Reader>(path_);
  const H5Reader& r = *reader_;
  r.CheckFormat(kFormat, kFormatVersion);
  RECSYS_CHECK(r.Int64Attribute("/", "build_id") == m.build_id,
               path_ << ": belongs to another build of the index (build_id differs from "
                        "manifest.h5's); rebuild the index");
  RECSYS_CHECK(r.Int64Attribute("/", "shard") == shard &&
                   r.Int64Attribute("/", "shards") == m.shards &&
                   r.Int64Attribute("/", "dim") == m.dim,
               path_ << ": shard number, shard count or dim differ from manifest.h5's");
  table_ = ReadClusterTable(r, path_, shard, m.cluster_shard, m.cluster_sizes, "manifest.h5");
  const std::vector<uint64_t> ids_shape = r.Shape("ids");
  const std::vector<uint64_t> vectors_shape = r.Shape("vectors");
  const auto n = static_cast<uint64_t>(table_.offsets.back());
  RECSYS_CHECK(ids_shape == std::vector<uint64_t>{n} &&
                   vectors_shape == (std::vector<uint64_t>{n, static_cast<uint64_t>(m.dim)}),
               path_ << ": 'ids' or 'vectors' do not hold the table's " << n << " rows");
}

ShardFileReader::~ShardFileReader() = default;

void ShardFileReader::ReadClusters(int64_t first, int64_t count, int64_t* ids,
                                   float* vectors) const {
  RECSYS_CHECK(
      first >= 0 && count >= 0 && first + count <= static_cast<int64_t>(table_.clusters.size()),
      path_ << ": no table entries [" << first << ", " << first + count << ")");
  const int64_t begin = table_.offsets[first];
  const int64_t rows = table_.offsets[first + count] - begin;
  const std::vector<int64_t> read_ids = reader_->ReadRows<int64_t>("ids", begin, rows);
  const std::vector<float> read_vectors = reader_->ReadRows<float>("vectors", begin, rows);
  std::copy(read_ids.begin(), read_ids.end(), ids);
  std::copy(read_vectors.begin(), read_vectors.end(), vectors);
  for (int64_t i = first; i < first + count; ++i) {
    const int64_t at = table_.offsets[i] - begin;
    const int64_t n = table_.offsets[i + 1] - table_.offsets[i];
    RECSYS_CHECK(ClusterChecksum(ids + at, vectors + at * dim_, n, dim_) == table_.checksums[i],
                 path_ << ": cluster " << table_.clusters[i] << " is corrupt (checksum mismatch)");
    for (int64_t j = at; j < at + n; ++j) {
      RECSYS_CHECK(ids[j] >= 0 && ids[j] < rows_, path_ << ": cluster " << table_.clusters[i]
                                                        << " holds id " << ids[j] << " outside [0, "
                                                        << rows_ << ")");
    }
  }
}

}  // namespace recsys::shards
