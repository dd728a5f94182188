#pragma once
// The part of the lexical (BM25) index one rank holds: the posting lists of the products of the
// clusters it owns, with global collection statistics folded into every posting, so that a
// product's score does not depend on which rank holds it or on how many ranks there are.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
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
  // the catalogue or in an added title; unknown terms are dropped. Not collective.
  TermQueries QueryTerms(const std::vector<std::string>& texts) const;

  // BM25 top k of every query over the products this rank holds. ids and scores (size
  // queries.size() * k) receive them in SearchResult's layout: score descending, ties to the
  // smaller product row, padded with -1 / -infinity. accumulators: the caller's scratch, all
  // zeros (resized to num_docs() when smaller), left all zeros. Not collective.
  void Scan(const TermQueries& queries, int64_t k, int64_t* ids, float* scores,
            std::vector<double>* accumulators) const;

  // A product appended to the catalogue (product row above every row held) with its title.
  // Every rank calls it for every added product, in the same order, so that a term first seen
  // in an added title gets the same id everywhere; only the rank holding the product (hold) adds
  // its postings. An added title is scored with the statistics of the build (N, df, avgdl; a term
  // the build never saw counts as df 1), so no posting held before changes: a rebuild refreshes
  // them. Not collective.
  void Add(int64_t product, const std::string& title, bool hold);

  const LexicalManifest& manifest() const { return manifest_; }
  // Owner of each cluster at this load (size nlist), equal to IvfShard::owners() on the same
  // ranks.
  const std::vector<int32_t>& owners() const { return owners_; }
  // Products this rank holds.
  int64_t num_docs() const { return static_cast<int64_t>(ids_.size()); }
  // Bytes this rank holds for search: posting lists, product ids and the term dictionary.
  int64_t MemoryBytes() const;

 private:
  int32_t TermId(const std::string& term) const;  // -1: unknown

  LexicalManifest manifest_;
  std::vector<int32_t> owners_;
  std::vector<int64_t> ids_;              // local document -> product row
  std::vector<int64_t> posting_offsets_;  // size V + 1: term t's postings
  std::vector<int32_t> posting_docs_;     // local documents, ascending within a term
  std::vector<float> posting_impacts_;    // idf(t) * Bm25TermFactor, > 0
  // Since the load: terms first seen in added titles (ids from manifest_.terms.size() on) and
  // the postings of the added products this rank holds, per term, in the order added.
  std::unordered_map<std::string, int32_t> added_terms_;
  std::unordered_map<int32_t, std::vector<std::pair<int32_t, float>>> added_postings_;
};

}  // namespace recsys::shards
