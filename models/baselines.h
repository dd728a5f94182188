#pragma once
// Two non-learned retrievers that every trained recall model is compared against: random and
// popularity (the third, BM25, is the lexical index itself: shards/lexical_shard.h, measured
// through the serving path). They answer through the Retriever interface, so the evaluation
// treats them exactly like a two-tower model. Neither is collective: every rank builds its own
// copy from the whole dataset.

#include <cstdint>
#include <string>
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

}  // namespace recsys::models
