#include "models/ranking_features.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/stable_hash.h"
#include "data/text_featurizer.h"

namespace recsys::models {

const char* const kDenseFeatureNames[kNumDenseFeatures] = {
    "rating",      "rating_unknown", "age_years",     "age_unknown", "log_popularity",
    "cosine",      "in_dense",       "bm25",          "in_lexical",  "token_overlap",
    "brand_match", "colour_match",   "log_fused_rank"};

namespace {

// One seed per sparse field, so that equal strings of different fields hash apart; and one for
// the words compared between query and title.
constexpr uint64_t kFieldSeeds[kNumSparseFields] = {
    0x51574f5244ULL, 0x50524f44ULL, 0x4252414e44ULL, 0x434154ULL, 0x434f4cULL, 0x5052494345ULL};
constexpr uint64_t kWordSeed = 0x574f5244ULL;
constexpr double kDaysPerYear = 365.25;

std::vector<uint64_t> DistinctWordHashes(const std::string& text) {
  std::vector<uint64_t> out;
  for (const std::string& word : data::TextFeaturizer::Tokenize(text)) {
    out.push_back(StableHash(word, kWordSeed));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::vector<uint64_t>> VocabularyWords(const std::vector<std::string>& vocabulary) {
  std::vector<std::vector<uint64_t>> out;
  out.reserve(vocabulary.size());
  for (const std::string& entry : vocabulary) out.push_back(DistinctWordHashes(entry));
  return out;
}

// 1 when the entry has words and every one of them is among the (sorted) query words.
float AllWordsIn(const std::vector<uint64_t>& words, const std::vector<uint64_t>& query) {
  if (words.empty()) return 0.0f;
  return std::includes(query.begin(), query.end(), words.begin(), words.end()) ? 1.0f : 0.0f;
}

std::string PriceBucket(float price) {
  if (std::isnan(price) || price < 0) return "unknown";
  return std::to_string(static_cast<int64_t>(std::floor(2.0 * std::log2(1.0 + price))));
}

}  // namespace

RankingFeatures SelectRows(const RankingFeatures& features, int64_t begin, int64_t end) {
  RECSYS_CHECK(0 <= begin && begin <= end && end <= features.rows,
               "ranking features: rows [" << begin << ", " << end << ") of " << features.rows);
  RankingFeatures out;
  out.num_buckets = features.num_buckets;
  out.rows = end - begin;
  if (begin == end) return out;
  const int64_t first = features.offsets[begin * kNumSparseFields];
  const int64_t last = end < features.rows ? features.offsets[end * kNumSparseFields]
                                           : static_cast<int64_t>(features.ids.size());
  out.ids.assign(features.ids.begin() + first, features.ids.begin() + last);
  out.offsets.assign(features.offsets.begin() + begin * kNumSparseFields,
                     features.offsets.begin() + end * kNumSparseFields);
  for (int64_t& offset : out.offsets) offset -= first;
  out.dense.assign(features.dense.begin() + begin * kNumDenseFeatures,
                   features.dense.begin() + end * kNumDenseFeatures);
  return out;
}

RankingFeatureBuilder::RankingFeatureBuilder(const data::Dataset& dataset,
                                             const RankingFeatureOptions& options)
    : dataset_(dataset), options_(options) {
  RECSYS_CHECK(options.num_buckets >= 1,
               "ranking features: num_buckets must be at least 1, is " << options.num_buckets);
  const data::Products& products = dataset.products;
  const auto n = static_cast<int64_t>(products.size());
  for (int32_t day : products.release_day) {
    if (day != data::kUnknownDay) reference_day_ = std::max(reference_day_, day);
  }
  popularity_.assign(n, 0);
  const data::Judgments& pairs = dataset.pairs;
  query_first_.assign(dataset.queries.size(), 0);
  query_count_.assign(dataset.queries.size(), 0);
  for (size_t i = 0; i < pairs.size(); ++i) {
    const int32_t q = pairs.query[i];
    if (query_count_[q]++ == 0) query_first_[q] = static_cast<int64_t>(i);
    if (dataset.queries.split[q] != data::Split::kTrain) continue;
    popularity_[pairs.product[i]] += pairs.click[i] + (pairs.grade[i] == data::Grade::kExact);
  }
  title_first_.push_back(0);
  AddedProducts();
}

void RankingFeatureBuilder::AddedProducts() {
  const data::Products& products = dataset_.products;
  const auto n = static_cast<int64_t>(products.size());
  const auto first = static_cast<int64_t>(title_first_.size()) - 1;
  popularity_.resize(n, 0);
  for (int64_t p = first; p < n; ++p) {
    const std::vector<uint64_t> words = DistinctWordHashes(products.title[p]);
    title_words_.insert(title_words_.end(), words.begin(), words.end());
    title_first_.push_back(static_cast<int64_t>(title_words_.size()));
  }
  brand_words_ = VocabularyWords(dataset_.brands);
  colour_words_ = VocabularyWords(dataset_.colours);
  for (int64_t p = first; p < n; ++p) {
    const std::string fields[kNumSparseFields - 1] = {
        products.id[p], dataset_.brands[products.brand[p]],
        dataset_.categories[products.category[p]], dataset_.colours[products.colour[p]],
        PriceBucket(products.price[p])};
    for (int f = 1; f < kNumSparseFields; ++f) {
      product_ids_.push_back(
          static_cast<int64_t>(Bucket(StableHash(fields[f - 1], kFieldSeeds[f]))));
    }
  }
}

uint64_t RankingFeatureBuilder::Bucket(uint64_t hash) const {
  return hash % static_cast<uint64_t>(options_.num_buckets);
}

void RankingFeatureBuilder::Append(const std::string& query_text, int64_t query_row,
                                   const std::vector<CandidateSignals>& candidates,
                                   RankingFeatures* out) const {
  const data::Products& products = dataset_.products;
  const auto n = static_cast<int64_t>(popularity_.size());  // the rows caught up with
  RECSYS_CHECK(query_row >= -1 && query_row < static_cast<int64_t>(dataset_.queries.size()),
               "ranking features: query row " << query_row << " outside the dataset's "
                                              << dataset_.queries.size() << " queries");
  out->num_buckets = options_.num_buckets;
  const std::vector<std::string> words = data::TextFeaturizer::Tokenize(query_text);
  std::vector<int64_t> word_ids;
  word_ids.reserve(words.size());
  for (const std::string& w : words) {
    word_ids.push_back(static_cast<int64_t>(Bucket(StableHash(w, kFieldSeeds[0]))));
  }
  const std::vector<uint64_t> query_words = DistinctWordHashes(query_text);
  // A train query's own judgements are not part of its candidates' popularity.
  const bool own_judgements =
      query_row >= 0 && dataset_.queries.split[query_row] == data::Split::kTrain;

  // The list's score ranges, for the list-relative features.
  float max_lexical = 0, min_lexical = 0, max_dense = 0, min_dense = 0;
  bool any_lexical = false, any_dense = false;
  for (const CandidateSignals& c : candidates) {
    if (c.lexical_rank > 0) {
      max_lexical = any_lexical ? std::max(max_lexical, c.lexical_score) : c.lexical_score;
      min_lexical = any_lexical ? std::min(min_lexical, c.lexical_score) : c.lexical_score;
      any_lexical = true;
    }
    if (c.dense_rank > 0) {
      max_dense = any_dense ? std::max(max_dense, c.dense_score) : c.dense_score;
      min_dense = any_dense ? std::min(min_dense, c.dense_score) : c.dense_score;
      any_dense = true;
    }
  }
  for (const CandidateSignals& c : candidates) {
    RECSYS_CHECK(c.product >= 0 && c.product < n, "ranking features: candidate product "
                                                      << c.product << " outside the catalogue of "
                                                      << n);
    const int64_t p = c.product;
    out->offsets.push_back(static_cast<int64_t>(out->ids.size()));
    out->ids.insert(out->ids.end(), word_ids.begin(), word_ids.end());
    for (int f = 1; f < kNumSparseFields; ++f) {
      out->offsets.push_back(static_cast<int64_t>(out->ids.size()));
      out->ids.push_back(product_ids_[p * (kNumSparseFields - 1) + f - 1]);
    }

    int64_t popularity = popularity_[p];
    if (own_judgements) {
      const data::Judgments& pairs = dataset_.pairs;
      for (int64_t i = query_first_[query_row];
           i < query_first_[query_row] + query_count_[query_row]; ++i) {
        if (pairs.product[i] == p) {
          popularity -= pairs.click[i] + (pairs.grade[i] == data::Grade::kExact);
        }
      }
    }
    const float rating = products.rating[p];
    const int32_t day = products.release_day[p];
    int64_t overlap = 0;
    for (uint64_t w : query_words) {
      overlap += std::binary_search(title_words_.begin() + title_first_[p],
                                    title_words_.begin() + title_first_[p + 1], w);
    }
    const float dense[kNumDenseFeatures] = {
        std::isnan(rating) ? 0.0f : rating / 5.0f,
        std::isnan(rating) ? 1.0f : 0.0f,
        day == data::kUnknownDay ? 0.0f : static_cast<float>((reference_day_ - day) / kDaysPerYear),
        day == data::kUnknownDay ? 1.0f : 0.0f,
        static_cast<float>(std::log1p(static_cast<double>(popularity))),
        c.dense_rank > 0 ? c.dense_score : 0.0f,
        c.dense_rank > 0 ? 1.0f : 0.0f,
        c.lexical_rank > 0 ? c.lexical_score / 10.0f : 0.0f,
        c.lexical_rank > 0 ? 1.0f : 0.0f,
        query_words.empty() ? 0.0f
                            : static_cast<float>(overlap) / static_cast<float>(query_words.size()),
        AllWordsIn(brand_words_[products.brand[p]], query_words),
        AllWordsIn(colour_words_[products.colour[p]], query_words),
        static_cast<float>(std::log1p(static_cast<double>(std::max(c.fused_rank, 0)))),
        max_lexical > 0 ? (c.lexical_rank > 0 ? c.lexical_score : min_lexical) / max_lexical : 0.0f,
        (c.dense_rank > 0 ? c.dense_score : min_dense) - max_dense};
    out->dense.insert(out->dense.end(), dense, dense + kNumDenseFeatures);
    ++out->rows;
  }
}

}  // namespace recsys::models
