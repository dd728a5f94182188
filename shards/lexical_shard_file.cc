#include "shards/lexical_shard_file.h"

#include "core/error.h"
#include "core/hdf5_file.h"
#include "core/stable_hash.h"
#include "shards/cluster_table.h"

namespace recsys::shards {
namespace {
constexpr char kFormat[] = "recsys-lexical-shard";
constexpr int64_t kFormatVersion = 1;
}  // namespace

int64_t LexicalChecksum(const LexicalDocs& docs, int64_t begin, int64_t end) {
  uint64_t h = HashCombine(0x1e71ca1, static_cast<uint64_t>(end - begin));
  for (int64_t i = begin; i < end; ++i) {
    h = HashCombine(h, static_cast<uint64_t>(docs.ids[i]));
    h = HashCombine(h, static_cast<uint64_t>(docs.term_offsets[i + 1] - docs.term_offsets[i]));
    for (int64_t j = docs.term_offsets[i]; j < docs.term_offsets[i + 1]; ++j) {
      h = HashCombine(h, (static_cast<uint64_t>(static_cast<uint32_t>(docs.terms[j])) << 32) |
                             static_cast<uint32_t>(docs.tfs[j]));
    }
  }
  return static_cast<int64_t>(h);
}

void WriteLexicalShardFile(const std::string& dir, const LexicalShardContents& c, int64_t shard,
                           int64_t shards, int64_t build_id) {
  const std::string path = LexicalShardPath(dir, shard, shards);
  const LexicalDocs& d = c.docs;
  const auto n = static_cast<int64_t>(d.ids.size());
  RECSYS_CHECK(c.offsets.size() == c.clusters.size() + 1 && c.offsets.back() == n &&
                   static_cast<int64_t>(d.term_offsets.size()) == n + 1 &&
                   static_cast<int64_t>(d.terms.size()) == d.term_offsets.back() &&
                   d.tfs.size() == d.terms.size(),
               path << ": inconsistent lexical shard contents");
  std::vector<int64_t> checksums(c.clusters.size());
  for (size_t i = 0; i < c.clusters.size(); ++i) {
    checksums[i] = LexicalChecksum(d, c.offsets[i], c.offsets[i + 1]);
  }
  H5Writer w(path);
  w.Write("clusters", c.clusters);
  w.Write("offsets", c.offsets);
  w.Write("checksums", checksums);
  w.Write("ids", d.ids);
  w.Write("term_offsets", d.term_offsets);
  w.Write("terms", d.terms);
  w.Write("tfs", d.tfs);
  w.SetFormat(kFormat, kFormatVersion);
  w.SetAttribute("/", "build_id", build_id);
  w.SetAttribute("/", "shard", shard);
  w.SetAttribute("/", "shards", shards);
  w.Commit();
}

LexicalShardFileReader::LexicalShardFileReader(const std::string& dir, const LexicalManifest& m,
                                               int64_t shard)
    : path_(LexicalShardPath(dir, shard, m.shards)),
      products_(m.products),
      num_terms_(static_cast<int64_t>(m.terms.size())) {
  reader_ = std::make_unique<H5Reader>(path_);
  const H5Reader& r = *reader_;
  r.CheckFormat(kFormat, kFormatVersion);
  RECSYS_CHECK(r.Int64Attribute("/", "build_id") == m.build_id,
               path_ << ": belongs to another build of the lexical index (build_id differs from "
                        "lexical.h5's); rebuild it");
  RECSYS_CHECK(
      r.Int64Attribute("/", "shard") == shard && r.Int64Attribute("/", "shards") == m.shards,
      path_ << ": shard number or shard count differ from lexical.h5's");
  table_ = ReadClusterTable(r, path_, shard, m.cluster_shard, m.cluster_sizes, "lexical.h5");
  const auto n = static_cast<uint64_t>(table_.offsets.back());
  RECSYS_CHECK(r.Shape("ids") == std::vector<uint64_t>{n} &&
                   r.Shape("term_offsets") == std::vector<uint64_t>{n + 1} &&
                   r.Shape("terms") == r.Shape("tfs") && r.Shape("terms").size() == 1,
               path_ << ": 'ids', 'term_offsets', 'terms' or 'tfs' do not hold the table's " << n
                     << " products");
}

LexicalShardFileReader::~LexicalShardFileReader() = default;

void LexicalShardFileReader::ReadClusters(int64_t first, int64_t count, LexicalDocs* docs) const {
  RECSYS_CHECK(
      first >= 0 && count >= 0 && first + count <= static_cast<int64_t>(table_.clusters.size()),
      path_ << ": no table entries [" << first << ", " << first + count << ")");
  const int64_t begin = table_.offsets[first];
  const int64_t rows = table_.offsets[first + count] - begin;
  const std::vector<int64_t> ids = reader_->ReadRows<int64_t>("ids", begin, rows);
  const std::vector<int64_t> term_offsets =
      reader_->ReadRows<int64_t>("term_offsets", begin, rows + 1);
  const int64_t term_begin = term_offsets.front();
  const int64_t term_count = term_offsets.back() - term_begin;
  const uint64_t stored_terms = reader_->Shape("terms")[0];
  RECSYS_CHECK(term_begin >= 0 && term_count >= 0 &&
                   static_cast<uint64_t>(term_begin + term_count) <= stored_terms,
               path_ << ": corrupt term_offsets in clusters " << table_.clusters[first] << " ..");
  const std::vector<int32_t> terms = reader_->ReadRows<int32_t>("terms", term_begin, term_count);
  const std::vector<int32_t> tfs = reader_->ReadRows<int32_t>("tfs", term_begin, term_count);

  const int64_t at = static_cast<int64_t>(docs->ids.size());
  const int64_t term_at = docs->term_offsets.back();
  docs->ids.insert(docs->ids.end(), ids.begin(), ids.end());
  for (int64_t i = 1; i <= rows; ++i) {
    RECSYS_CHECK(term_offsets[i] >= term_offsets[i - 1],
                 path_ << ": corrupt term_offsets in clusters " << table_.clusters[first] << " ..");
    docs->term_offsets.push_back(term_at + term_offsets[i] - term_begin);
  }
  docs->terms.insert(docs->terms.end(), terms.begin(), terms.end());
  docs->tfs.insert(docs->tfs.end(), tfs.begin(), tfs.end());
  for (int64_t i = first; i < first + count; ++i) {
    const int64_t b = at + table_.offsets[i] - begin, e = at + table_.offsets[i + 1] - begin;
    RECSYS_CHECK(LexicalChecksum(*docs, b, e) == table_.checksums[i],
                 path_ << ": cluster " << table_.clusters[i] << " is corrupt (checksum mismatch)");
    for (int64_t p = b; p < e; ++p) {
      RECSYS_CHECK(docs->ids[p] >= 0 && docs->ids[p] < products_,
                   path_ << ": cluster " << table_.clusters[i] << " holds product " << docs->ids[p]
                         << " outside [0, " << products_ << ")");
      for (int64_t j = docs->term_offsets[p]; j < docs->term_offsets[p + 1]; ++j) {
        RECSYS_CHECK(docs->terms[j] >= 0 && docs->terms[j] < num_terms_ && docs->tfs[j] >= 1 &&
                         (j == docs->term_offsets[p] || docs->terms[j - 1] < docs->terms[j]),
                     path_ << ": cluster " << table_.clusters[i] << ", product " << docs->ids[p]
                           << ": bad term " << docs->terms[j] << " (count " << docs->tfs[j]
                           << ") of " << num_terms_);
      }
    }
  }
}

}  // namespace recsys::shards
