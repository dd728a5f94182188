#include "models/baselines.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <unordered_map>

#include "core/error.h"
#include "core/stable_hash.h"

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

}  // namespace recsys::models
