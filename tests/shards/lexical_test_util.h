#pragma once
// Helpers shared by the lexical index and lexical router tests (multi-rank, under mpiexec): a
// small catalogue written as dataset.h5 beside a vector index that gives its cluster ownership,
// and BM25 computed directly from the formula, product by product.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/stable_hash.h"
#include "data/dataset.h"
#include "dist/communicator.h"
#include "shards/lexical_builder.h"
#include "shards/search_result.h"
#include "tests/shards/shards_test_util.h"

namespace recsys::shards::testing_util {

// Titles of lower-case words drawn from a small vocabulary with plurals (so that stemming
// merges terms), repeated words and an empty title, the same on every rank for a seed.
inline std::vector<std::string> RandomTitles(int64_t n, uint64_t seed) {
  static const char* const kWords[] = {
      "red",     "blue",    "black",   "box",     "boxes",     "watch",    "watches", "phone",
      "phones",  "case",    "cases",   "battery", "batteries", "shoe",     "shoes",   "glass",
      "glasses", "usb",     "cable",   "cables",  "charger",   "wireless", "kids",    "men",
      "women",   "running", "leather", "steel",   "pack",      "of",       "2",       "4k"};
  constexpr uint64_t kVocab = sizeof(kWords) / sizeof(kWords[0]);
  std::vector<std::string> titles(n);
  for (int64_t p = 0; p < n; ++p) {
    const uint64_t length = p == 7 ? 0 : 1 + HashCombine(seed, p) % 9;
    for (uint64_t w = 0; w < length; ++w) {
      // Squared draws favour the first words: a Zipf-like spread of document frequencies.
      const uint64_t r = HashCombine(HashCombine(seed, p), w) % (kVocab * kVocab);
      const uint64_t word = kVocab - 1 - static_cast<uint64_t>(std::sqrt(static_cast<double>(r)));
      titles[p] += (w ? " " : "") + std::string(kWords[word]);
    }
  }
  return titles;
}

// COLLECTIVE over comm: rank 0 writes dir/dataset.h5 holding titles (no queries), every rank
// writes its part of a vector index of titles.size() integer rows in nlist clusters into
// dir/index (IntegerIndexData), then the lexical index is built there on comm. Returns the
// index directory.
inline std::string WriteLexicalFixture(const std::string& dir,
                                       const std::vector<std::string>& titles, Stemmer stemmer,
                                       dist::Communicator& comm, int64_t nlist = 6,
                                       Bm25Parameters bm25 = {}) {
  const auto n = static_cast<int64_t>(titles.size());
  if (comm.rank() == 0) {
    data::Dataset d;
    d.products.title = titles;
    for (int64_t p = 0; p < n; ++p) d.products.id.push_back("p" + std::to_string(p));
    d.products.brand.assign(n, 0);
    d.products.colour.assign(n, 0);
    d.products.category.assign(n, 0);
    d.products.price.assign(n, std::numeric_limits<float>::quiet_NaN());
    d.products.rating.assign(n, std::numeric_limits<float>::quiet_NaN());
    d.products.release_day.assign(n, data::kUnknownDay);
    std::filesystem::create_directories(dir);
    data::WriteDataset(d, dir + "/dataset.h5");
  }
  comm.Barrier();
  const std::string index = dir + "/index";
  IntegerIndexData(n, 4, nlist, 3).Write(index, comm);
  BuildLexicalIndex({dir + "/dataset.h5", index, bm25, stemmer}, comm);
  return index;
}

// BM25 straight from the formula (shards/lexical_terms.h), in double, for terms given per title
// and per query (query terms count once), over every product: the top k of each query in
// SearchResult's layout, scores rounded to float at the end.
inline SearchResult DirectBm25(const std::vector<std::vector<std::string>>& title_terms,
                               const std::vector<std::vector<std::string>>& query_terms, int64_t k,
                               const Bm25Parameters& bm25) {
  const double k1 = bm25.k1, b = bm25.b;
  const auto n = static_cast<double>(title_terms.size());
  std::map<std::string, int> df;
  double total = 0;
  for (const auto& title : title_terms) {
    for (const std::string& t : std::set<std::string>(title.begin(), title.end())) ++df[t];
    total += static_cast<double>(title.size());
  }
  const double avgdl = total > 0 ? total / n : 1.0;
  SearchResult r;
  r.nq = static_cast<int64_t>(query_terms.size());
  r.k = k;
  r.ids.assign(r.nq * k, -1);
  r.scores.assign(r.nq * k, -std::numeric_limits<float>::infinity());
  for (int64_t q = 0; q < r.nq; ++q) {
    const std::set<std::string> terms(query_terms[q].begin(), query_terms[q].end());
    std::vector<std::pair<float, int64_t>> scored;
    for (size_t p = 0; p < title_terms.size(); ++p) {
      double score = 0;
      bool matched = false;
      for (const std::string& t : terms) {
        const double tf =
            static_cast<double>(std::count(title_terms[p].begin(), title_terms[p].end(), t));
        if (tf == 0) continue;
        matched = true;
        const double idf = std::log(1 + (n - df[t] + 0.5) / (df[t] + 0.5));
        const double length = static_cast<double>(title_terms[p].size());
        score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avgdl));
      }
      if (matched) scored.push_back({static_cast<float>(score), static_cast<int64_t>(p)});
    }
    std::sort(scored.begin(), scored.end(), [](const auto& x, const auto& y) {
      return x.first != y.first ? x.first > y.first : x.second < y.second;
    });
    for (int64_t j = 0; j < k && j < static_cast<int64_t>(scored.size()); ++j) {
      r.ids[q * k + j] = scored[j].second;
      r.scores[q * k + j] = scored[j].first;
    }
  }
  return r;
}

// Space-separated words.
inline std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// The same ids as want and scores within a relative 1e-6 (float impacts summed in double
// against the formula in double).
inline void ExpectNearResults(const SearchResult& got, const SearchResult& want,
                              const std::string& what) {
  ASSERT_EQ(got.nq, want.nq) << what;
  ASSERT_EQ(got.k, want.k) << what;
  for (int64_t i = 0; i < got.nq * got.k; ++i) {
    ASSERT_EQ(got.ids[i], want.ids[i])
        << what << ": query " << i / got.k << " position " << i % got.k;
    if (want.ids[i] < 0) {
      ASSERT_EQ(got.scores[i], -std::numeric_limits<float>::infinity()) << what;
    } else {
      ASSERT_NEAR(got.scores[i], want.scores[i], 1e-6 * std::abs(want.scores[i]))
          << what << ": query " << i / got.k << " position " << i % got.k;
    }
  }
}

}  // namespace recsys::shards::testing_util
