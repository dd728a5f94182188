#include "shards/lexical_shard.h"

#include <algorithm>
#include <iomanip>

#include "core/error.h"
#include "core/log.h"
#include "dist/collective_try.h"
#include "shards/cluster_balance.h"
#include "shards/cluster_table.h"
#include "shards/index_manifest.h"
#include "shards/lexical_shard_file.h"
#include "shards/top_k.h"

namespace recsys::shards {
namespace {
// One read from a lexical shard file moves at most this many products.
constexpr int64_t kMaxProductsPerRead = 1 << 18;
}  // namespace

LexicalShard LexicalShard::Load(const std::string& dir, dist::Communicator& comm) {
  LexicalShard shard;
  LexicalManifest& m = shard.manifest_;
  dist::CollectiveTry(comm, [&] {
    m = ReadLexicalManifest(dir);
    const IndexManifest vectors = ReadManifest(dir);
    RECSYS_CHECK(vectors.build_id == m.vector_build_id && vectors.cluster_sizes == m.cluster_sizes,
                 LexicalManifestPath(dir)
                     << ": built for another vector index than " << ManifestPath(dir)
                     << " (vector_build_id differs); rebuild the lexical index");
  });
  const int rank = comm.rank();
  shard.owners_ = BalanceClusters(m.cluster_sizes, comm.size());

  LexicalDocs docs;
  dist::CollectiveTry(comm, [&] {
    for (int64_t f :
         ShardFilesToRead(m.shards, m.cluster_shard, shard.owners_, rank, comm.size())) {
      const LexicalShardFileReader reader(dir, m, f);
      for (const TableRun& run :
           OwnedRuns(reader.table(), shard.owners_, rank, kMaxProductsPerRead)) {
        reader.ReadClusters(run.first, run.count, &docs);
      }
    }
  });

  // Invert: local documents in the order read, so each posting list is in document order.
  const auto num_terms = static_cast<int64_t>(m.terms.size());
  const double mean_length = m.MeanLength();
  shard.ids_ = std::move(docs.ids);
  shard.posting_offsets_.assign(num_terms + 1, 0);
  for (int32_t t : docs.terms) ++shard.posting_offsets_[t + 1];
  for (int64_t t = 0; t < num_terms; ++t) {
    shard.posting_offsets_[t + 1] += shard.posting_offsets_[t];
  }
  std::vector<double> idf(num_terms);
  for (int64_t t = 0; t < num_terms; ++t) idf[t] = Bm25Idf(m.products, m.df[t]);
  std::vector<int64_t> cursor(shard.posting_offsets_.begin(), shard.posting_offsets_.end() - 1);
  shard.posting_docs_.resize(docs.terms.size());
  shard.posting_impacts_.resize(docs.terms.size());
  for (int64_t d = 0; d < shard.num_docs(); ++d) {
    int64_t length = 0;
    for (int64_t j = docs.term_offsets[d]; j < docs.term_offsets[d + 1]; ++j) length += docs.tfs[j];
    for (int64_t j = docs.term_offsets[d]; j < docs.term_offsets[d + 1]; ++j) {
      const int32_t t = docs.terms[j];
      const int64_t slot = cursor[t]++;
      shard.posting_docs_[slot] = static_cast<int32_t>(d);
      shard.posting_impacts_[slot] =
          static_cast<float>(idf[t] * Bm25TermFactor(docs.tfs[j], length, mean_length, m.bm25));
    }
  }
  const int64_t bytes = dist::AllReduceValue(comm, shard.MemoryBytes(), dist::ReduceOp::kMax);
  if (rank == 0) {
    RECSYS_INFO("lexical index " << dir << ": " << m.products << " products, " << num_terms
                                 << " terms, stemmer " << StemmerName(m.stemmer) << ", from "
                                 << m.shards << " shard file(s) on " << comm.size()
                                 << " rank(s); largest rank holds " << std::fixed
                                 << std::setprecision(1) << bytes / 1048576.0 << " MiB");
  }
  return shard;
}

TermQueries LexicalShard::QueryTerms(const std::vector<std::string>& texts) const {
  TermQueries out;
  for (const std::string& text : texts) {
    const size_t begin = out.terms.size();
    for (const std::string& term : LexicalTerms(text, manifest_.stemmer)) {
      const int32_t t = TermId(term);
      if (t >= 0) out.terms.push_back(t);
    }
    std::sort(out.terms.begin() + begin, out.terms.end());
    out.terms.erase(std::unique(out.terms.begin() + begin, out.terms.end()), out.terms.end());
    out.offsets.push_back(static_cast<int64_t>(out.terms.size()));
  }
  return out;
}

int32_t LexicalShard::TermId(const std::string& term) const {
  const std::vector<std::string>& dict = manifest_.terms;
  const auto it = std::lower_bound(dict.begin(), dict.end(), term);
  if (it != dict.end() && *it == term) return static_cast<int32_t>(it - dict.begin());
  const auto added = added_terms_.find(term);
  return added == added_terms_.end() ? -1 : added->second;
}

void LexicalShard::Add(int64_t product, const std::string& title, bool hold) {
  RECSYS_CHECK(product >= manifest_.products,
               "cannot add product row " << product << " to the lexical index: it was built with "
                                         << "rows 0.." << manifest_.products - 1);
  std::vector<std::pair<int32_t, int64_t>> counts;  // (term, tf), ascending term
  const std::vector<std::string> terms = LexicalTerms(title, manifest_.stemmer);
  for (const std::string& term : terms) {
    int32_t t = TermId(term);
    if (t < 0) {
      t = static_cast<int32_t>(manifest_.terms.size() + added_terms_.size());
      added_terms_.emplace(term, t);
    }
    counts.emplace_back(t, 1);
  }
  if (!hold) return;
  std::sort(counts.begin(), counts.end());
  const auto doc = static_cast<int32_t>(ids_.size());
  ids_.push_back(product);
  const auto length = static_cast<int64_t>(terms.size());
  const auto known = static_cast<int32_t>(manifest_.terms.size());
  for (size_t i = 0; i < counts.size();) {
    size_t j = i;
    while (j < counts.size() && counts[j].first == counts[i].first) ++j;
    const int32_t t = counts[i].first;
    const double idf = Bm25Idf(manifest_.products, t < known ? manifest_.df[t] : 1);
    const double factor =
        Bm25TermFactor(static_cast<int64_t>(j - i), length, manifest_.MeanLength(), manifest_.bm25);
    added_postings_[t].emplace_back(doc, static_cast<float>(idf * factor));
    i = j;
  }
}

void LexicalShard::Scan(const TermQueries& queries, int64_t k, int64_t* ids, float* scores,
                        std::vector<double>* accumulators) const {
  RECSYS_CHECK(k >= 1, "lexical search: k must be at least 1, got " << k);
  if (static_cast<int64_t>(accumulators->size()) < num_docs()) accumulators->resize(num_docs(), 0);
  std::vector<double>& acc = *accumulators;
  const auto known = static_cast<int32_t>(manifest_.terms.size());
  const auto num_terms = static_cast<int32_t>(known + added_terms_.size());
  std::vector<int32_t> touched;
  TopK top(k);
  for (int64_t q = 0; q < queries.size(); ++q) {
    // Terms in ascending id order and postings in document order: every product's sum is
    // accumulated in the same order on any rank.
    for (int64_t i = queries.offsets[q]; i < queries.offsets[q + 1]; ++i) {
      const int32_t t = queries.terms[i];
      RECSYS_CHECK(t >= 0 && t < num_terms, "lexical search: term id " << t << " of " << num_terms);
      const auto accumulate = [&](int32_t d, float impact) {
        if (acc[d] == 0) touched.push_back(d);
        acc[d] += impact;
      };
      if (t < known) {
        for (int64_t p = posting_offsets_[t]; p < posting_offsets_[t + 1]; ++p) {
          accumulate(posting_docs_[p], posting_impacts_[p]);
        }
      }
      const auto added = added_postings_.find(t);
      if (added == added_postings_.end()) continue;
      for (const auto& [d, impact] : added->second) accumulate(d, impact);
    }
    for (int32_t d : touched) {
      top.Push(static_cast<float>(acc[d]), ids_[d]);
      acc[d] = 0;
    }
    touched.clear();
    top.Extract(ids + q * k, scores + q * k);
  }
}

int64_t LexicalShard::MemoryBytes() const {
  int64_t dict = 0;
  for (const std::string& t : manifest_.terms) dict += static_cast<int64_t>(t.size());
  return static_cast<int64_t>(
             ids_.size() * sizeof(int64_t) + posting_offsets_.size() * sizeof(int64_t) +
             posting_docs_.size() * sizeof(int32_t) + posting_impacts_.size() * sizeof(float) +
             manifest_.df.size() * sizeof(int64_t)) +
         dict + static_cast<int64_t>(manifest_.terms.size() * sizeof(std::string));
}

}  // namespace recsys::shards
