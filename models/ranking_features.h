#pragma once
// The ranking stage's input: what a (query, candidate product) pair becomes before FM, DCN or
// XGBoost scores it. ONE builder, used at training, evaluation and serving time, so that a model
// sees the same numbers everywhere. No LibTorch here.
//
// Sparse fields (kNumSparseFields), each a bag of hashed ids in [0, num_buckets), every field
// hashed with its own seed so that equal strings of different fields land on different rows:
//   0 query words   the query's words (data::TextFeaturizer::Tokenize), one id each
//   1 product       the product's external id
//   2 brand         the brand name ("" = unknown is a value like any other)
//   3 category      the full category path
//   4 colour        the colour name
//   5 price bucket  floor(2 log2(1 + price)), or "unknown"
// Dense features (kNumDenseFeatures), in this order:
//   0 rating / 5 (0 when unknown)          1 rating unknown (0/1)
//   2 age in years (0 when unknown)         3 age unknown (0/1)
//   4 log(1 + popularity): train-split clicks plus Exact judgements of the product; for a train
//     query, its own judgements are left out (or the label would leak into the feature)
//   5 two-tower cosine (0 when not in the dense list)   6 in the dense list (0/1)
//   7 BM25 score / 10 (0 when not in the lexical list)   8 in the lexical list (0/1)
//   9 token overlap: the share of the query's distinct words found in the title
//  10 brand match: every word of the brand name is a query word (0 when no brand)
//  11 colour match: every word of the colour name is a query word (0 when no colour)
//  12 log(1 + fused rank), rank 1-based in the candidate list (the same scale for any M)
//  13 BM25 share: BM25 / the list's largest BM25 (scores are comparable within a query only);
//     a candidate outside the lexical list takes the list's smallest BM25, a bound on its own
//  14 cosine gap: cosine - the list's largest cosine; outside the dense list, the smallest
// Features 13 and 14 depend on the whole candidate list, which is the same at training and
// serving time (the fused top M).

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace recsys::models {

inline constexpr int kNumSparseFields = 6;
inline constexpr int kNumDenseFeatures = 15;
// Names of the dense features, in order (for reports, XGBoost's feature names and the docs).
extern const char* const kDenseFeatureNames[kNumDenseFeatures];

// Rows of features, row-major. Row r's field f is the bag ids[offsets[r * kNumSparseFields + f],
// next offset) (the next offset of the last bag is ids.size()), as torch::embedding_bag takes
// (input, offsets) with include_last_offset = false. A bag may be empty (a query without words).
struct RankingFeatures {
  int64_t num_buckets = 0;  // the id space of the sparse fields (set by the builder)
  int64_t rows = 0;
  std::vector<int64_t> ids;      // size: total ids; each in [0, num_buckets)
  std::vector<int64_t> offsets;  // size rows * kNumSparseFields, non-decreasing
  std::vector<float> dense;      // size rows * kNumDenseFeatures
};

// Rows [begin, end) of features as a RankingFeatures of their own (offsets rebased). Throws
// recsys::Error on a range outside [0, features.rows]. Pure.
RankingFeatures SelectRows(const RankingFeatures& features, int64_t begin, int64_t end);

// What the recall stage said about one candidate (serve::Candidate without serve's types).
struct CandidateSignals {
  int64_t product = -1;      // dataset product row
  int32_t fused_rank = 0;    // 1-based position in the candidate list
  float dense_score = 0;     // cosine; valid when dense_rank > 0
  float lexical_score = 0;   // BM25; valid when lexical_rank > 0
  int32_t dense_rank = 0;    // 0 = not in the dense list
  int32_t lexical_rank = 0;  // 0 = not in the lexical list
};

struct RankingFeatureOptions {
  int64_t num_buckets = int64_t{1} << 20;  // hashed id space of the sparse fields
};

// Builds features from a dataset's catalogue (and its train split, for popularity). Not
// collective; thread-compatible. The dataset must outlive the builder.
class RankingFeatureBuilder {
 public:
  RankingFeatureBuilder(const data::Dataset& dataset, const RankingFeatureOptions& options = {});

  const RankingFeatureOptions& options() const { return options_; }

  // Catches up with products appended to the dataset's catalogue since (a product added while
  // serving): their title words and sparse ids; popularity 0; ages still counted from the
  // newest release day at construction. Call it after every append, before Append sees them.
  void AddedProducts();

  // Appends one row per candidate, in order, to *out. query_text: what the shopper typed;
  // query_row: its row in the dataset when it is one of its queries (a train query's own
  // judgements are then left out of popularity), -1 otherwise. Throws recsys::Error on a
  // candidate product outside the catalogue.
  void Append(const std::string& query_text, int64_t query_row,
              const std::vector<CandidateSignals>& candidates, RankingFeatures* out) const;

 private:
  uint64_t Bucket(uint64_t hash) const;

  const data::Dataset& dataset_;
  RankingFeatureOptions options_;
  int32_t reference_day_ = 0;        // the newest release day: ages are counted from it
  std::vector<int64_t> popularity_;  // per product
  // Per product: hashes of its distinct title words, sorted, in CSR form.
  std::vector<int64_t> title_first_;
  std::vector<uint64_t> title_words_;
  // Per vocabulary entry: hashes of the brand's / colour's words.
  std::vector<std::vector<uint64_t>> brand_words_, colour_words_;
  // Per product: its fixed sparse ids (product, brand, category, colour, price bucket).
  std::vector<int64_t> product_ids_;
  // Judged pairs of query q: [query_first_[q], query_first_[q] + query_count_[q]).
  std::vector<int64_t> query_first_, query_count_;
};

}  // namespace recsys::models
