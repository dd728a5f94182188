#pragma once
// A deterministic synthetic catalogue and query log shaped like Amazon's shopping queries data
// (ESCI): products with titles, brands, colours, categories, prices, ratings and release days;
// shoppers' queries with typos; judged (query, product) pairs graded E / S / C / I, with
// simulated result positions and clicks; a train / valid / test split; cold-start products.
//
// Every row is a pure function of (options, row index): the generator keeps no state between
// calls and no row looks at another row's output. So ranks may generate any contiguous ranges
// and concatenate them, and the result is byte-identical whatever the split (see
// data/distributed_generate.h). Randomness comes from a small per-row generator seeded with
// HashCombine(seed, row) and arithmetic that IEEE 754 fixes exactly (no std distributions and
// no libm transcendental functions), so the bytes are also the same on every machine, as long
// as the compiler does not fuse a * b + c into one instruction (GCC's default in ISO C++ mode;
// clang needs -ffp-contract=off where the target has FMA).
//
// Finding "a product of category c" or "a popular product" needs no index over the catalogue:
// positions 0..N-1 are split into one contiguous block per leaf category (sized by the leaf's
// weight), each block into one cell per (product type, brand) (sized by how common the type
// and the brand are), and an AffinePermutation maps a row to its position. So a product's
// category, type and brand follow from its position, and "a random headphone by brand X" is a
// random position in that cell mapped back to a row. A second permutation maps popularity
// ranks (Zipf-distributed when queries pick their target) to rows.

#include <cstdint>
#include <string>
#include <vector>

#include "data/catalog_vocabulary.h"
#include "data/dataset.h"

namespace recsys::data {

// Two shapes of query log over the same catalogue.
//  kEsci: Amazon's shopping queries: Zipf popularity (the most popular product is the target of
//    about 1% of the queries), short queries (the product type, sometimes a brand, colour or
//    attribute).
//  kRealLike: a product-search judgment set like the one this project is measured on (74K pairs,
//    12K queries, 55K products): nearly flat popularity, so that most products are judged once
//    or never, and more specific queries (brand and attributes more often), so that BM25 over
//    titles finds about as much as it does there. Use it with about 6 judged products per query.
enum class Regime : uint8_t { kEsci, kRealLike };

struct GeneratorOptions {
  int64_t products = 20000;     // catalogue size, in [100, 50'000'000]
  int64_t queries = 10000;      // in [0, 50'000'000]
  int judged_per_query = 15;    // judged pairs per query (fewer in tiny categories), in [1, 100]
  double cold_fraction = 0.05;  // products judged only for test queries, in [0, 0.5]
  uint64_t seed = 1;            // same options, same bytes
  Regime regime = Regime::kEsci;
  // Share of the queries, in [0, 1], written only with a paraphrase of the product type
  // (LeafCategory::paraphrases) and maybe a colour synonym that titles never use: no word of
  // such a query is in a title of its relevant products, so a lexical matcher misses them,
  // while a model trained on other queries that use the same paraphrase can learn it.
  double paraphrase_share = 0;
};

// A bijection of [0, n): x -> (a x + b) mod n with gcd(a, n) = 1, a and b drawn from a seed.
// Both directions cost a multiply and a modulo.
class AffinePermutation {
 public:
  // n in [1, 2^31].
  AffinePermutation(int64_t n, uint64_t seed);

  int64_t Forward(int64_t x) const;  // x in [0, n)
  int64_t Inverse(int64_t y) const;  // y in [0, n); Inverse(Forward(x)) == x

 private:
  uint64_t n_, a_, b_, a_inverse_;
};

namespace detail {
class RowRng;  // the small per-row random generator, defined in catalog_generator.cc
}  // namespace detail

class CatalogGenerator {
 public:
  // Throws recsys::Error naming the first option out of range (ranges: see GeneratorOptions).
  explicit CatalogGenerator(const GeneratorOptions& options);

  const GeneratorOptions& options() const { return options_; }
  const CatalogVocabulary& vocabulary() const { return vocabulary_; }

  // Replaces dataset's brands, colours and categories with the generator's (entry 0 = "").
  void FillVocabularies(Dataset* dataset) const;

  // Catalogue rows [begin, end), 0 <= begin <= end <= options().products. Concatenating
  // MakeProducts(0, k) and MakeProducts(k, n) gives MakeProducts(0, n).
  Products MakeProducts(int64_t begin, int64_t end) const;

  // Queries [begin, end), 0 <= begin <= end <= options().queries, and their judged pairs, which
  // hold GLOBAL query and product rows, grouped by query and ordered by simulated position.
  // Overwrites *queries and *pairs. Concatenation works as for MakeProducts.
  void MakeQueries(int64_t begin, int64_t end, Queries* queries, Judgments* pairs) const;

  // Whether product row (in [0, products)) is a cold-start product: it is judged for test
  // queries only, never for train or valid ones. About cold_fraction of all products.
  bool IsColdProduct(int64_t row) const;

 private:
  struct ProductSpec;
  struct Intent;

  ProductSpec Describe(int64_t row) const;  // every field of a product but its strings
  std::string Title(int64_t row, const ProductSpec& product) const;
  // Writes a shopper's query for the target product into *text; returns what it asks for.
  Intent WriteQuery(const ProductSpec& target, detail::RowRng* rng, std::string* text) const;
  // The same for a paraphrase query (GeneratorOptions::paraphrase_share).
  Intent WriteParaphrase(const ProductSpec& target, detail::RowRng* rng, std::string* text) const;
  // What a query for the target's product type asks for: its leaf, type and the type's cells.
  Intent TypeIntent(const ProductSpec& target) const;
  // A random product whose position is in cells [first, last); -1 if they are all empty.
  int64_t RandomProductInCells(int32_t first, int32_t last, detail::RowRng* rng) const;
  int64_t RandomProductOfLeaf(int32_t leaf, detail::RowRng* rng) const;
  Grade Judge(const Intent& intent, const ProductSpec& product) const;
  // Picks the judged products of one query (the target first) and their grades.
  void PickJudged(const Intent& intent, int64_t target, bool allow_cold, detail::RowRng* rng,
                  std::vector<int64_t>* products, std::vector<Grade>* grades) const;

  GeneratorOptions options_;
  CatalogVocabulary vocabulary_;
  AffinePermutation layout_;      // product row -> position in the cells
  AffinePermutation popularity_;  // popularity rank (0 = most popular) -> product row
  // Cells in position order: leaf-major, then product type, then brand (the leaf's brands in
  // order, then "no brand"). Empty cells (start == next start) are allowed.
  std::vector<int64_t> cell_start_;  // size cells + 1: first position of each cell
  std::vector<int32_t> cell_leaf_, cell_noun_, cell_brand_;  // brand: vocabulary index or -1
  std::vector<int32_t> leaf_first_cell_;                     // size leaves + 1
  // Per leaf, size attribute groups + 1: the bit of each group's first phrase in
  // ProductSpec::attributes (groups flattened in order).
  std::vector<std::vector<int32_t>> attribute_bits_;
  std::vector<double> log_price_mean_, log_price_sigma_;  // per leaf, for log-normal prices
  // Leaves of the same department that are not complements: plausible irrelevant results.
  std::vector<std::vector<int32_t>> neighbours_;
  // Per colour, its synonyms that hold no word of a title (a word of any colour's title name,
  // or of a leaf's nouns, attributes or sizes): the colours a paraphrase query may name.
  std::vector<std::vector<std::string>> query_only_colours_;
  double zipf_offset_;       // popularity: P(rank r) ~ 1 / (r + zipf_offset_)
  double log_zipf_span_;     // log((products + zipf_offset_) / zipf_offset_)
  uint64_t cold_threshold_;  // a product is cold when its cold hash is below this
  // Per-purpose seeds, so that each family of fields draws from its own stream.
  uint64_t spec_key_, title_key_, asin_key_, query_key_, split_key_, cold_key_;
};

}  // namespace recsys::data
