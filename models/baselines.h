#pragma once
// Three non-learned retrievers that every trained recall model is compared against: random,
// popularity and BM25 over product titles. They answer through the Retriever interface, so the
// evaluation treats them exactly like a two-tower model. None of them is collective: every rank
// builds its own copy from the whole dataset.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "data/dataset.h"
#include "models/retriever.h"

namespace recsys::models {

// A uniformly random ranking of distinct products per query: the floor any model must beat.
// The ranking is a pure function of (seed, query row), so it does not depend on which other
// queries are asked, in which order, or on which rank.
class RandomRetriever : public Retriever {
 public:
  // num_products >= 1.
  RandomRetriever(int64_t num_products, uint64_t seed);

  std::string name() const override { return "random"; }
  // min(k, num_products) distinct product rows per query.
  std::vector<std::vector<int32_t>> Retrieve(const std::vector<int32_t>& query_rows,
                                             int k) const override;

 private:
  int64_t num_products_;
  uint64_t seed_;
};

// The same list for every query: products by popularity in the TRAIN split only (so nothing
// leaks from the queries being evaluated): clicks, then Exact judgements as a tie-breaker, then
// product row. Products never judged for a train query follow, in row order.
class PopularityRetriever : public Retriever {
 public:
  explicit PopularityRetriever(const data::Dataset& dataset);

  std::string name() const override { return "popularity"; }
  // The first min(k, catalogue size) products of ranking() for each query.
  std::vector<std::vector<int32_t>> Retrieve(const std::vector<int32_t>& query_rows,
                                             int k) const override;
  // Every product row, most popular first (size: catalogue size).
  const std::vector<int32_t>& ranking() const { return ranking_; }

 private:
  std::vector<int32_t> ranking_;
};

// A product row and its score.
struct ScoredProduct {
  int32_t product = 0;
  double score = 0;
};

// Okapi BM25 over product titles, the lexical baseline. Titles and queries are split into
// words by data::TextFeaturizer::Tokenize (the words the towers see). For a query with
// distinct words t (repeated words count once) the score of title d is
//   sum_t idf(t) * tf(t, d) * (k1 + 1) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl)),
//   idf(t) = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))   (Lucene's form: never negative),
// with |d| the title's word count, avgdl the catalogue's mean and N the catalogue size.
//
// Only titles that share a word with the query are scored, through an inverted index (one
// posting list per word, in product order), so a query costs the length of its words' posting
// lists rather than a pass over the catalogue. Consequently a query returns FEWER than k
// products when fewer titles share a word with it, and none when no word of it occurs in the
// catalogue: the list is not padded, since a padded tail would be an arbitrary (row-order)
// ranking that says nothing about BM25.
class Bm25Retriever : public Retriever {
 public:
  // Indexes every product title of dataset and keeps the query texts (Retrieve takes query
  // rows). k1 >= 0, 0 <= b <= 1. Memory: about 8 bytes per distinct (word, title) pair.
  explicit Bm25Retriever(const data::Dataset& dataset, double k1 = 1.2, double b = 0.75);

  std::string name() const override { return "bm25"; }
  // Per query row, its Search() products (at most k; see above).
  std::vector<std::vector<int32_t>> Retrieve(const std::vector<int32_t>& query_rows,
                                             int k) const override;

  // The at most k best titles for any text, best first; ties by product row. k >= 1.
  std::vector<ScoredProduct> Search(std::string_view text, int k) const;

 private:
  // Reused across the queries of one call: per-product score accumulators (zero between
  // queries) and the products a query touched.
  struct Scratch {
    std::vector<double> scores;
    std::vector<int32_t> touched;
  };
  std::vector<ScoredProduct> SearchWith(std::string_view text, int k, Scratch* scratch) const;

  std::vector<std::string> query_text_;            // per dataset query row
  std::unordered_map<std::string, int32_t> term_;  // word -> term id
  std::vector<double> idf_;                        // per term
  // Posting lists in CSR form: term t's are [offsets_[t], offsets_[t + 1]), in product order,
  // each with its precomputed length-normalised tf factor (everything but idf).
  std::vector<int64_t> offsets_;
  std::vector<int32_t> posting_product_;
  std::vector<float> posting_weight_;
  int64_t num_products_;
};

}  // namespace recsys::models
