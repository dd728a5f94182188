#include "shards/lexical_manifest.h"

#include <filesystem>
#include <numeric>

#include "core/error.h"
#include "core/hdf5_file.h"

namespace recsys::shards {
namespace {
constexpr char kFormat[] = "recsys-lexical-index";
constexpr int64_t kFormatVersion = 1;
constexpr char kTokenizer[] = "featurizer-words";
}  // namespace

double LexicalManifest::MeanLength() const {
  return total_length > 0 ? static_cast<double>(total_length) / products : 1.0;
}

std::string LexicalManifestPath(const std::string& dir) {
  return (std::filesystem::path(dir) / "lexical.h5").string();
}

std::string LexicalShardPath(const std::string& dir, int64_t shard, int64_t shards) {
  return (std::filesystem::path(dir) /
          ("lexical-shard-" + std::to_string(shard) + "-of-" + std::to_string(shards) + ".h5"))
      .string();
}

void WriteLexicalManifest(const std::string& dir, const LexicalManifest& m) {
  H5Writer w(LexicalManifestPath(dir));
  w.WriteStrings("terms", m.terms);
  w.Write("df", m.df);
  w.Write("cluster_sizes", m.cluster_sizes);
  w.Write("cluster_shard", m.cluster_shard);
  w.SetFormat(kFormat, kFormatVersion);
  w.SetAttribute("/", "build_id", m.build_id);
  w.SetAttribute("/", "vector_build_id", m.vector_build_id);
  w.SetAttribute("/", "tokenizer", std::string(kTokenizer));
  w.SetAttribute("/", "stemmer", std::string(StemmerName(m.stemmer)));
  w.SetAttribute("/", "k1", m.bm25.k1);
  w.SetAttribute("/", "b", m.bm25.b);
  w.SetAttribute("/", "products", m.products);
  w.SetAttribute("/", "total_length", m.total_length);
  w.SetAttribute("/", "nlist", m.nlist());
  w.SetAttribute("/", "shards", m.shards);
  w.Commit();
}

LexicalManifest ReadLexicalManifest(const std::string& dir) {
  const std::string path = LexicalManifestPath(dir);
  H5Reader r(path);
  r.CheckFormat(kFormat, kFormatVersion);
  LexicalManifest m;
  const std::string tokenizer = r.StringAttribute("/", "tokenizer");
  RECSYS_CHECK(tokenizer == kTokenizer,
               path << ": tokenizer '" << tokenizer << "', this build tokenises by " << kTokenizer);
  m.bm25.k1 = r.DoubleAttribute("/", "k1");
  m.bm25.b = r.DoubleAttribute("/", "b");
  try {
    m.stemmer = ParseStemmer(r.StringAttribute("/", "stemmer"));
    CheckBm25Parameters(m.bm25);
  } catch (const Error& e) {
    RECSYS_THROW(path << ": " << e.what());
  }
  m.build_id = r.Int64Attribute("/", "build_id");
  m.vector_build_id = r.Int64Attribute("/", "vector_build_id");
  m.products = r.Int64Attribute("/", "products");
  m.total_length = r.Int64Attribute("/", "total_length");
  m.shards = r.Int64Attribute("/", "shards");
  const int64_t nlist = r.Int64Attribute("/", "nlist");
  RECSYS_CHECK(m.products >= 0 && m.products <= INT32_MAX && m.total_length >= 0 && m.shards > 0 &&
                   nlist > 0,
               path << ": bad sizes products=" << m.products << " total_length=" << m.total_length
                    << " shards=" << m.shards << " nlist=" << nlist);
  m.terms = r.ReadStrings("terms");
  m.df = r.Read<int64_t>("df");
  m.cluster_sizes = r.Read<int64_t>("cluster_sizes");
  m.cluster_shard = r.Read<int32_t>("cluster_shard");
  RECSYS_CHECK(m.df.size() == m.terms.size() && m.terms.size() <= INT32_MAX,
               path << ": 'df' and 'terms' differ in size");
  for (size_t t = 0; t < m.terms.size(); ++t) {
    RECSYS_CHECK(t == 0 || m.terms[t - 1] < m.terms[t],
                 path << ": 'terms' not ascending and distinct at term " << t);
    RECSYS_CHECK(m.df[t] >= 1 && m.df[t] <= m.products, path << ": term " << t << " has df "
                                                             << m.df[t] << " outside [1, "
                                                             << m.products << "]");
  }
  RECSYS_CHECK(m.nlist() == nlist && static_cast<int64_t>(m.cluster_shard.size()) == nlist,
               path << ": cluster_sizes and cluster_shard must hold nlist=" << nlist << " entries");
  for (int64_t c = 0; c < nlist; ++c) {
    RECSYS_CHECK(
        m.cluster_sizes[c] >= 0 && m.cluster_shard[c] >= 0 && m.cluster_shard[c] < m.shards,
        path << ": cluster " << c << " has size " << m.cluster_sizes[c] << " in shard "
             << m.cluster_shard[c] << " of " << m.shards);
  }
  const int64_t total = std::accumulate(m.cluster_sizes.begin(), m.cluster_sizes.end(), int64_t{0});
  RECSYS_CHECK(total == m.products,
               path << ": cluster sizes sum to " << total << ", not products=" << m.products);
  return m;
}

}  // namespace recsys::shards
