#include "shards/lexical_builder.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "core/error.h"
#include "core/log.h"
#include "core/stable_hash.h"
#include "data/dataset.h"
#include "dist/collective_try.h"
#include "shards/cluster_balance.h"
#include "shards/index_manifest.h"
#include "shards/lexical_shard_file.h"
#include "shards/shard_file.h"

namespace recsys::shards {
namespace {
// Product ids of the clusters rank owns under owners, cluster by cluster (ascending cluster,
// ascending id within one): offsets[i] starts the i-th owned cluster.
void OwnedProducts(const std::string& dir, const IndexManifest& m,
                   const std::vector<int32_t>& owners, int rank, LexicalShardContents* out) {
  std::vector<std::vector<int64_t>> members(m.nlist);
  std::set<int64_t> files;
  for (int64_t c = 0; c < m.nlist; ++c) {
    if (owners[c] == rank) files.insert(m.cluster_shard[c]);
  }
  std::vector<float> vectors;
  for (int64_t f : files) {
    const ShardFileReader reader(dir, m, f);
    for (size_t i = 0; i < reader.table().clusters.size(); ++i) {
      const int64_t c = reader.table().clusters[i];
      if (owners[c] != rank) continue;
      // One cluster at a time: the vectors, read only for their checksum, need one cluster's
      // buffer.
      const int64_t n = reader.table().offsets[i + 1] - reader.table().offsets[i];
      members[c].resize(n);
      vectors.resize(n * m.dim);
      reader.ReadClusters(static_cast<int64_t>(i), 1, members[c].data(), vectors.data());
    }
  }
  for (int64_t c = 0; c < m.nlist; ++c) {
    if (owners[c] != rank) continue;
    out->clusters.push_back(c);
    out->docs.ids.insert(out->docs.ids.end(), members[c].begin(), members[c].end());
    out->offsets.push_back(static_cast<int64_t>(out->docs.ids.size()));
  }
}

// The sorted union of every rank's terms, on every rank. COLLECTIVE.
std::vector<std::string> GlobalDictionary(const std::vector<std::string>& local,
                                          dist::Communicator& comm) {
  std::vector<std::string> all = dist::GatherStrings(comm, local, 0);
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  std::vector<uint8_t> bytes;
  std::vector<int64_t> ends;
  for (const std::string& t : all) {
    bytes.insert(bytes.end(), t.begin(), t.end());
    ends.push_back(static_cast<int64_t>(bytes.size()));
  }
  dist::Broadcast(comm, bytes, 0);
  dist::Broadcast(comm, ends, 0);
  std::vector<std::string> dict(ends.size());
  for (size_t i = 0; i < ends.size(); ++i) {
    const int64_t begin = i == 0 ? 0 : ends[i - 1];
    dict[i].assign(bytes.begin() + begin, bytes.begin() + ends[i]);
  }
  return dict;
}
}  // namespace

LexicalManifest BuildLexicalIndex(const LexicalBuildOptions& options, dist::Communicator& comm) {
  const std::string& dir = options.index_dir;
  LexicalManifest manifest;
  manifest.bm25 = options.bm25;
  manifest.stemmer = options.stemmer;
  manifest.shards = comm.size();
  LexicalShardContents contents;
  std::vector<std::vector<std::string>> terms_of;  // per owned product, its terms
  std::unordered_map<std::string, int32_t> local_id;
  std::vector<std::string> local_terms;
  // 1-2.
  dist::CollectiveTry(comm, [&] {
    CheckBm25Parameters(options.bm25);
    const IndexManifest vectors = ReadManifest(dir);
    const std::vector<int32_t> owners = BalanceClusters(vectors.cluster_sizes, comm.size());
    manifest.vector_build_id = vectors.build_id;
    manifest.cluster_sizes = vectors.cluster_sizes;
    manifest.cluster_shard = owners;
    const data::Dataset dataset = data::ReadDataset(options.dataset_path);
    RECSYS_CHECK(static_cast<int64_t>(dataset.products.size()) == vectors.rows,
                 options.dataset_path << " holds " << dataset.products.size() << " products, "
                                      << ManifestPath(dir) << " indexes " << vectors.rows
                                      << "; build both from the same dataset");
    OwnedProducts(dir, vectors, owners, comm.rank(), &contents);
    terms_of.reserve(contents.docs.ids.size());
    for (int64_t id : contents.docs.ids) {
      terms_of.push_back(LexicalTerms(dataset.products.title[id], options.stemmer));
      for (const std::string& t : terms_of.back()) {
        if (local_id.try_emplace(t, static_cast<int32_t>(local_terms.size())).second) {
          local_terms.push_back(t);
        }
      }
    }
  });
  // 3.
  manifest.terms = GlobalDictionary(local_terms, comm);
  std::vector<int32_t> global_of(local_terms.size());
  for (size_t i = 0; i < local_terms.size(); ++i) {
    global_of[i] = static_cast<int32_t>(
        std::lower_bound(manifest.terms.begin(), manifest.terms.end(), local_terms[i]) -
        manifest.terms.begin());
  }
  // 4. Each product's distinct terms with counts, ascending; df counted once per product.
  LexicalDocs& docs = contents.docs;
  manifest.df.assign(manifest.terms.size(), 0);
  std::vector<int32_t> ids;
  int64_t totals[2] = {static_cast<int64_t>(docs.ids.size()), 0};  // products, total length
  for (const std::vector<std::string>& terms : terms_of) {
    ids.clear();
    for (const std::string& t : terms) ids.push_back(global_of[local_id.at(t)]);
    std::sort(ids.begin(), ids.end());
    for (size_t i = 0; i < ids.size();) {
      size_t j = i;
      while (j < ids.size() && ids[j] == ids[i]) ++j;
      docs.terms.push_back(ids[i]);
      docs.tfs.push_back(static_cast<int32_t>(j - i));
      ++manifest.df[ids[i]];
      i = j;
    }
    docs.term_offsets.push_back(static_cast<int64_t>(docs.terms.size()));
    totals[1] += static_cast<int64_t>(terms.size());
  }
  dist::AllReduce(comm, manifest.df);
  comm.AllReduce(totals, 2, dist::DataType::kInt64, dist::ReduceOp::kSum);
  manifest.products = totals[0];
  manifest.total_length = totals[1];
  // 5.
  uint64_t dict_hash = HashCombine(manifest.vector_build_id, manifest.terms.size());
  for (size_t t = 0; t < manifest.terms.size(); ++t) {
    dict_hash = HashCombine(dict_hash, StableHash(manifest.terms[t], manifest.df[t]));
  }
  const std::vector<int64_t> rank_hashes = dist::AllGatherV(
      comm, std::vector<int64_t>{LexicalChecksum(docs, 0, static_cast<int64_t>(docs.ids.size()))});
  uint64_t build_id = HashCombine(dict_hash, StableHash(StemmerName(manifest.stemmer)));
  build_id = HashCombine(build_id, StableHash(std::to_string(manifest.bm25.k1) + "/" +
                                              std::to_string(manifest.bm25.b)));
  for (int64_t h : rank_hashes) build_id = HashCombine(build_id, static_cast<uint64_t>(h));
  manifest.build_id = static_cast<int64_t>(build_id);
  dist::CollectiveTry(comm, [&] {
    WriteLexicalShardFile(dir, contents, comm.rank(), comm.size(), manifest.build_id);
  });
  // 6.
  dist::CollectiveTry(comm, [&] {
    if (comm.rank() == 0) WriteLexicalManifest(dir, manifest);
  });
  if (comm.rank() == 0) {
    RECSYS_INFO("lexical index " << dir << ": " << manifest.products << " products, "
                                 << manifest.terms.size() << " terms, stemmer "
                                 << StemmerName(manifest.stemmer) << ", " << comm.size()
                                 << " shard file(s)");
  }
  return manifest;
}

}  // namespace recsys::shards
