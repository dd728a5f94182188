#pragma once
// The part of the lexical (BM25) index one rank holds: the posting lists of the products of the
// clusters it owns, with global collection statistics folded into every posting, so that a
// product's score does not depend on which rank holds it or on how many ranks there are.

#include <cstdint>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "shards/lexical_manifest.h"

namespace recsys::shards {

// A batch of queries as term ids: query q's distinct known terms are terms[offsets[q],
// offsets[q + 1]), ascending. A query with no known term has an empty range.
struct TermQueries {
  std::vector<int64_t> offsets{0};  // size nq + 1
  std::vector<int32_t> terms;
  int64_t size() const { return static_cast<int64_t>(offsets.size()) - 1; }
};

class LexicalShard {
 public:
  // COLLECTIVE. Loads the lexical index in dir (written by any number of ranks) on comm's ranks:
  // every rank reads lexical.h5 and manifest.h5 (the vector index it was built for, whose
  // build_id must match), computes the owners the vector index computes (BalanceClusters over the
  // same cluster sizes and comm.size() ranks), reads the products of the clusters it owns from
  // whichever lexical shard files hold them and inverts them into posting lists. Rank s % size
  // also checks lexical shard file s, so a missing file is found even when this load needs
  // nothing from it. Rank 0 logs sizes and memory. A missing or corrupt file, or a lexical index
  // of another build or another vector index, throws recsys::Error naming the file, on every
  // rank.
  static LexicalShard Load(const std::string& dir, dist::Communicator& comm);

  // The ids of texts[i]'s distinct terms (LexicalTerms with the index's stemmer) that occur in
  // the catalogue; unknown terms are dropped. Not collective.
  TermQueries QueryTerms(const std::vector<std::string>& texts) const;

  // BM25 top k of every query over the products this rank holds. ids and scores (size
  // queries.size() * k) receive them in SearchResult's layout: score descending, ties to the
  // smaller product row, padded with -1 / -infinity. accumulators: the caller's scratch, all
  // zeros (resized to num_docs() when smaller), left all zeros. Not collective.
  void Scan(const TermQueries& queries, int64_t k, int64_t* ids, float* scores,
            std::vector<double>* accumulators) const;

  const LexicalManifest& manifest() const { return manifest_; }
  // Owner of each cluster at this load (size nlist), equal to IvfShard::owners() on the same
  // ranks.
  const std::vector<int32_t>& owners() const { return owners_; }
  // Products this rank holds.
  int64_t num_docs() const { return static_cast<int64_t>(ids_.size()); }
  // Bytes this rank holds for search: posting lists, product ids and the term dictionary.
  int64_t MemoryBytes() const;

 private:
  LexicalManifest manifest_;
  std::vector<int32_t> owners_;
  std::vector<int64_t> ids_;              // local document -> product row
  std::vector<int64_t> posting_offsets_;  // size V + 1: term t's postings
  std::vector<int32_t> posting_docs_;     // local documents, ascending within a term
  std::vector<float> posting_impacts_;    // idf(t) * Bm25TermFactor, > 0
};

}  // namespace recsys::shards
