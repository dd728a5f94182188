#include "models/baselines.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "core/error.h"
#include "core/stable_hash.h"
#include "data/text_featurizer.h"

namespace recsys::models {

// ---- RandomRetriever --------------------------------------------------------------------------

RandomRetriever::RandomRetriever(int64_t num_products, uint64_t seed)
    : num_products_(num_products), seed_(seed) {
  RECSYS_CHECK(num_products_ >= 1 && num_products_ <= std::numeric_limits<int32_t>::max(),
               "random retriever: catalogue size " << num_products_ << " outside [1, 2^31)");
}

std::vector<std::vector<int32_t>> RandomRetriever::Retrieve(const std::vector<int32_t>& query_rows,
                                                            int k) const {
  RECSYS_CHECK(k >= 1, "random retriever: k must be at least 1, got " << k);
  const int64_t kk = std::min<int64_t>(k, num_products_);
  std::vector<std::vector<int32_t>> out(query_rows.size());
  // The first kk steps of a Fisher-Yates shuffle of [0, num_products), with the swapped
  // entries kept in a map: O(kk) per query however large the catalogue.
  std::unordered_map<int64_t, int64_t> swapped;
  for (size_t q = 0; q < query_rows.size(); ++q) {
    std::mt19937_64 rng(HashCombine(seed_, static_cast<uint64_t>(query_rows[q])));
    swapped.clear();
    auto value_at = [&](int64_t i) {
      auto it = swapped.find(i);
      return it == swapped.end() ? i : it->second;
    };
    out[q].resize(kk);
    for (int64_t i = 0; i < kk; ++i) {
      const int64_t j = std::uniform_int_distribution<int64_t>(i, num_products_ - 1)(rng);
      const int64_t picked = value_at(j);
      swapped[j] = value_at(i);
      out[q][i] = static_cast<int32_t>(picked);
    }
  }
  return out;
}

// ---- PopularityRetriever ----------------------------------------------------------------------

PopularityRetriever::PopularityRetriever(const data::Dataset& dataset) {
  const size_t n = dataset.products.size();
  std::vector<int64_t> clicks(n, 0), exact(n, 0);
  const data::Judgments& pairs = dataset.pairs;
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (dataset.queries.split[pairs.query[i]] != data::Split::kTrain) continue;
    clicks[pairs.product[i]] += pairs.click[i];
    exact[pairs.product[i]] += pairs.grade[i] == data::Grade::kExact;
  }
  ranking_.resize(n);
  std::iota(ranking_.begin(), ranking_.end(), 0);
  std::sort(ranking_.begin(), ranking_.end(), [&](int32_t a, int32_t b) {
    if (clicks[a] != clicks[b]) return clicks[a] > clicks[b];
    if (exact[a] != exact[b]) return exact[a] > exact[b];
    return a < b;
  });
}

std::vector<std::vector<int32_t>> PopularityRetriever::Retrieve(
    const std::vector<int32_t>& query_rows, int k) const {
  RECSYS_CHECK(k >= 1, "popularity retriever: k must be at least 1, got " << k);
  const size_t kk = std::min(static_cast<size_t>(k), ranking_.size());
  return std::vector<std::vector<int32_t>>(
      query_rows.size(), std::vector<int32_t>(ranking_.begin(), ranking_.begin() + kk));
}

// ---- Bm25Retriever ----------------------------------------------------------------------------

Bm25Retriever::Bm25Retriever(const data::Dataset& dataset, double k1, double b)
    : query_text_(dataset.queries.text), num_products_(dataset.products.size()) {
  RECSYS_CHECK(k1 >= 0 && b >= 0 && b <= 1,
               "BM25 needs k1 >= 0 and 0 <= b <= 1, got k1=" << k1 << " b=" << b);
  RECSYS_CHECK(num_products_ <= std::numeric_limits<int32_t>::max(),
               "BM25: catalogue of " << num_products_ << " products exceeds int32 rows");

  // Pass 1, product by product: each title's distinct terms and their counts (product-major).
  std::vector<int64_t> title_start{0};
  std::vector<int32_t> title_term, title_tf, title_length(num_products_);
  std::vector<int32_t> ids;
  for (int64_t p = 0; p < num_products_; ++p) {
    std::vector<std::string> words = data::TextFeaturizer::Tokenize(dataset.products.title[p]);
    title_length[p] = static_cast<int32_t>(words.size());
    ids.clear();
    for (std::string& w : words) {
      const auto next_id = static_cast<int32_t>(term_.size());
      ids.push_back(term_.try_emplace(std::move(w), next_id).first->second);
    }
    std::sort(ids.begin(), ids.end());
    for (size_t i = 0; i < ids.size();) {
      size_t j = i;
      while (j < ids.size() && ids[j] == ids[i]) ++j;
      title_term.push_back(ids[i]);
      title_tf.push_back(static_cast<int32_t>(j - i));
      i = j;
    }
    title_start.push_back(static_cast<int64_t>(title_term.size()));
  }

  // Pass 2: transpose into posting lists. Visiting products in row order keeps every list in
  // product order, which makes score accumulation deterministic.
  const size_t num_terms = term_.size();
  offsets_.assign(num_terms + 1, 0);
  for (int32_t t : title_term) ++offsets_[t + 1];
  std::partial_sum(offsets_.begin(), offsets_.end(), offsets_.begin());
  idf_.resize(num_terms);
  const double n = static_cast<double>(num_products_);
  for (size_t t = 0; t < num_terms; ++t) {
    const double df = static_cast<double>(offsets_[t + 1] - offsets_[t]);
    idf_[t] = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
  }
  const double total_length = std::accumulate(title_length.begin(), title_length.end(), 0.0);
  // With no words at all there are no postings, so any positive mean will do.
  const double mean_length = total_length > 0 ? total_length / n : 1.0;
  std::vector<int64_t> cursor(offsets_.begin(), offsets_.end() - 1);
  posting_product_.resize(title_term.size());
  posting_weight_.resize(title_term.size());
  for (int64_t p = 0; p < num_products_; ++p) {
    const double norm = k1 * (1.0 - b + b * title_length[p] / mean_length);
    for (int64_t i = title_start[p]; i < title_start[p + 1]; ++i) {
      const int64_t slot = cursor[title_term[i]]++;
      const double tf = title_tf[i];
      posting_product_[slot] = static_cast<int32_t>(p);
      posting_weight_[slot] = static_cast<float>(tf * (k1 + 1.0) / (tf + norm));
    }
  }
}

std::vector<ScoredProduct> Bm25Retriever::SearchWith(std::string_view text, int k,
                                                     Scratch* scratch) const {
  RECSYS_CHECK(k >= 1, "BM25: k must be at least 1, got " << k);
  std::vector<int32_t> terms;
  for (const std::string& w : data::TextFeaturizer::Tokenize(text)) {
    auto it = term_.find(w);
    if (it != term_.end()) terms.push_back(it->second);
  }
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());

  // Every weight and idf is positive, so a zero accumulator means "not touched yet".
  std::vector<double>& scores = scratch->scores;
  std::vector<int32_t>& touched = scratch->touched;
  for (int32_t t : terms) {
    for (int64_t i = offsets_[t]; i < offsets_[t + 1]; ++i) {
      const int32_t p = posting_product_[i];
      if (scores[p] == 0) touched.push_back(p);
      scores[p] += idf_[t] * posting_weight_[i];
    }
  }
  const size_t kk = std::min(static_cast<size_t>(k), touched.size());
  std::partial_sort(
      touched.begin(), touched.begin() + kk, touched.end(),
      [&](int32_t a, int32_t b) { return scores[a] != scores[b] ? scores[a] > scores[b] : a < b; });
  std::vector<ScoredProduct> best(kk);
  for (size_t i = 0; i < kk; ++i) best[i] = {touched[i], scores[touched[i]]};
  for (int32_t p : touched) scores[p] = 0;
  touched.clear();
  return best;
}

std::vector<ScoredProduct> Bm25Retriever::Search(std::string_view text, int k) const {
  Scratch scratch{std::vector<double>(num_products_, 0.0), {}};
  return SearchWith(text, k, &scratch);
}

std::vector<std::vector<int32_t>> Bm25Retriever::Retrieve(const std::vector<int32_t>& query_rows,
                                                          int k) const {
  Scratch scratch{std::vector<double>(num_products_, 0.0), {}};
  std::vector<std::vector<int32_t>> out(query_rows.size());
  for (size_t q = 0; q < query_rows.size(); ++q) {
    const int32_t row = query_rows[q];
    RECSYS_CHECK(row >= 0 && static_cast<size_t>(row) < query_text_.size(),
                 "BM25: query row " << row << " outside [0, " << query_text_.size() << ")");
    for (const ScoredProduct& s : SearchWith(query_text_[row], k, &scratch)) {
      out[q].push_back(s.product);
    }
  }
  return out;
}

}  // namespace recsys::models
