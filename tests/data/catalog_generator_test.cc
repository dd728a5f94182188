#include "data/catalog_generator.h"

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <unordered_set>

#include "core/error.h"
#include "data/text_featurizer.h"

namespace recsys::data {
namespace {

GeneratorOptions Small(uint64_t seed = 7) {
  GeneratorOptions o;
  o.products = 20000;  // the default: grade proportions depend on the catalogue size
  o.queries = 2000;
  o.seed = seed;
  return o;
}

// Byte equality, so that NaN ratings compare equal to themselves.
template <typename T>
bool SameBytes(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

bool Same(const Products& a, const Products& b) {
  return a.id == b.id && a.title == b.title && a.brand == b.brand && a.colour == b.colour &&
         a.category == b.category && SameBytes(a.price, b.price) && SameBytes(a.rating, b.rating) &&
         a.release_day == b.release_day;
}

bool Same(const Queries& a, const Queries& b) {
  return a.id == b.id && a.text == b.text && a.split == b.split;
}

bool Same(const Judgments& a, const Judgments& b) {
  return a.query == b.query && a.product == b.product && a.grade == b.grade && a.click == b.click &&
         a.position == b.position;
}

// The whole small dataset, generated once for the read-only tests.
struct Generated {
  CatalogGenerator generator{Small()};
  Dataset dataset;
  Generated() {
    generator.FillVocabularies(&dataset);
    dataset.products = generator.MakeProducts(0, generator.options().products);
    generator.MakeQueries(0, generator.options().queries, &dataset.queries, &dataset.pairs);
  }
};

const Generated& SmallDataset() {
  static const Generated* generated = new Generated;
  return *generated;
}

// [begin, end) of each query's pairs (pairs are grouped by query).
std::vector<std::pair<size_t, size_t>> PairRanges(const Dataset& d) {
  std::vector<std::pair<size_t, size_t>> ranges(d.queries.size(), {0, 0});
  for (size_t i = 0; i < d.pairs.size();) {
    size_t j = i;
    while (j < d.pairs.size() && d.pairs.query[j] == d.pairs.query[i]) ++j;
    ranges[d.pairs.query[i]] = {i, j};
    i = j;
  }
  return ranges;
}

TEST(CatalogVocabularyTest, ShapeOfTheVocabulary) {
  CatalogVocabulary v;
  EXPECT_GE(v.leaves().size(), 40u);
  EXPECT_LE(v.leaves().size(), 80u);
  std::set<std::string> departments;
  std::map<std::string, std::string> leaf_of_noun;
  for (const LeafCategory& leaf : v.leaves()) {
    departments.insert(leaf.path.substr(0, leaf.path.find(" > ")));
    EXPECT_FALSE(leaf.nouns.empty()) << leaf.path;
    EXPECT_FALSE(leaf.attributes.empty()) << leaf.path;
    EXPECT_GE(leaf.brands.size(), 30u) << leaf.path;
    EXPECT_GT(leaf.price_low, 0) << leaf.path;
    EXPECT_LT(leaf.price_low, leaf.price_high) << leaf.path;
    for (int32_t c : leaf.complements) {
      EXPECT_GE(c, 0);
      EXPECT_LT(c, static_cast<int32_t>(v.leaves().size()));
    }
    for (int32_t b : leaf.brands) EXPECT_LT(b, static_cast<int32_t>(v.brands().size()));
    // A product-type word names one leaf only, so a query's noun identifies its category.
    for (const auto& synonyms : leaf.nouns) {
      for (const std::string& noun : synonyms) {
        const auto [it, fresh] = leaf_of_noun.emplace(noun, leaf.path);
        EXPECT_TRUE(fresh) << "'" << noun << "' in " << leaf.path << " and " << it->second;
      }
    }
  }
  EXPECT_GE(departments.size(), 8u);
  EXPECT_LE(departments.size(), 12u);
  EXPECT_GE(v.colours().size(), 18u);
  EXPECT_GE(v.brands().size(), 2000u);
  EXPECT_EQ(std::set<std::string>(v.brands().begin(), v.brands().end()).size(), v.brands().size());
}

TEST(AffinePermutationTest, IsABijectionForSmallSizes) {
  for (int64_t n = 1; n <= 300; ++n) {
    for (uint64_t seed : {0ULL, 1ULL, 12345ULL, ~0ULL}) {
      AffinePermutation p(n, seed);
      std::vector<bool> hit(n, false);
      for (int64_t x = 0; x < n; ++x) {
        const int64_t y = p.Forward(x);
        ASSERT_GE(y, 0);
        ASSERT_LT(y, n);
        ASSERT_FALSE(hit[y]) << "n=" << n << " seed=" << seed << " x=" << x;
        hit[y] = true;
        ASSERT_EQ(p.Inverse(y), x) << "n=" << n << " seed=" << seed;
      }
    }
  }
  // Large sizes: the multiply must not overflow.
  const int64_t n = int64_t{1} << 31;
  AffinePermutation p(n, 3);
  for (int64_t x : {int64_t{0}, int64_t{1}, n / 2, n - 1}) EXPECT_EQ(p.Inverse(p.Forward(x)), x);
  EXPECT_THROW(AffinePermutation(0, 1), Error);
}

TEST(CatalogGeneratorTest, RejectsInvalidOptions) {
  const auto message = [](GeneratorOptions o) -> std::string {
    try {
      CatalogGenerator g(o);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  GeneratorOptions o;
  o.products = 99;
  EXPECT_NE(message(o).find("products must be in [100, 50000000], got 99"), std::string::npos)
      << message(o);
  o.products = 50'000'001;
  EXPECT_NE(message(o).find("got 50000001"), std::string::npos) << message(o);
  o = GeneratorOptions();
  o.queries = -1;
  EXPECT_NE(message(o).find("queries must be in [0, 50000000], got -1"), std::string::npos)
      << message(o);
  o = GeneratorOptions();
  o.judged_per_query = 0;
  EXPECT_NE(message(o).find("judged_per_query must be in [1, 100], got 0"), std::string::npos)
      << message(o);
  o = GeneratorOptions();
  o.cold_fraction = 0.6;
  EXPECT_NE(message(o).find("cold_fraction must be in [0, 0.5], got 0.6"), std::string::npos)
      << message(o);
  o = GeneratorOptions();
  o.paraphrase_share = 1.5;
  EXPECT_NE(message(o).find("paraphrase_share must be in [0, 1], got 1.5"), std::string::npos)
      << message(o);

  CatalogGenerator g(Small());
  EXPECT_THROW(g.MakeProducts(10, 20001), Error);
  EXPECT_THROW(g.MakeProducts(5, 4), Error);
  Queries q;
  Judgments j;
  EXPECT_THROW(g.MakeQueries(-1, 10, &q, &j), Error);
}

TEST(CatalogGeneratorTest, SameSeedSameContentsOtherSeedOtherContents) {
  const Dataset& a = SmallDataset().dataset;
  CatalogGenerator again(Small());
  Queries queries;
  Judgments pairs;
  again.MakeQueries(0, Small().queries, &queries, &pairs);
  EXPECT_TRUE(Same(again.MakeProducts(0, Small().products), a.products));
  EXPECT_TRUE(Same(queries, a.queries));
  EXPECT_TRUE(Same(pairs, a.pairs));

  CatalogGenerator other(Small(/*seed=*/8));
  const Products products = other.MakeProducts(0, Small().products);
  other.MakeQueries(0, Small().queries, &queries, &pairs);
  EXPECT_NE(products.id, a.products.id);
  EXPECT_NE(products.title, a.products.title);
  EXPECT_NE(queries.text, a.queries.text);
  EXPECT_NE(pairs.product, a.pairs.product);
}

// The property the MPI split relies on: any contiguous split concatenates to the same bytes.
TEST(CatalogGeneratorTest, ConcatenatedRangesEqualTheWhole) {
  const Generated& whole = SmallDataset();
  const int64_t n = Small().products, m = Small().queries;
  for (int64_t k : {int64_t{0}, int64_t{1}, int64_t{17}, n / 3, n / 2, n - 1, n}) {
    Products joined = whole.generator.MakeProducts(0, k);
    joined.Append(whole.generator.MakeProducts(k, n));
    EXPECT_TRUE(Same(joined, whole.dataset.products)) << "split at " << k;
  }
  for (int64_t k : {int64_t{0}, int64_t{1}, int64_t{17}, m / 3, m / 2, m - 1, m}) {
    Queries queries, tail_queries;
    Judgments pairs, tail_pairs;
    whole.generator.MakeQueries(0, k, &queries, &pairs);
    whole.generator.MakeQueries(k, m, &tail_queries, &tail_pairs);
    queries.Append(tail_queries);
    pairs.Append(tail_pairs, 0, 0);
    EXPECT_TRUE(Same(queries, whole.dataset.queries)) << "split at " << k;
    EXPECT_TRUE(Same(pairs, whole.dataset.pairs)) << "split at " << k;
  }
  // Four uneven pieces, as four ranks would make them.
  Products products;
  Queries queries;
  Judgments pairs;
  const int64_t cuts[] = {0, 1, 999, 2500, n};
  for (int i = 0; i < 4; ++i) {
    products.Append(whole.generator.MakeProducts(cuts[i], cuts[i + 1]));
    Queries q;
    Judgments j;
    whole.generator.MakeQueries(cuts[i] * m / n, cuts[i + 1] * m / n, &q, &j);
    queries.Append(q);
    pairs.Append(j, 0, 0);
  }
  EXPECT_TRUE(Same(products, whole.dataset.products));
  EXPECT_TRUE(Same(queries, whole.dataset.queries));
  EXPECT_TRUE(Same(pairs, whole.dataset.pairs));
}

TEST(CatalogGeneratorTest, DatasetValidatesAndFieldsAreInRange) {
  const Dataset& d = SmallDataset().dataset;
  EXPECT_NO_THROW(d.Validate());
  EXPECT_EQ(d.brands[0], "");
  EXPECT_EQ(d.colours[0], "");
  EXPECT_EQ(d.categories[0], "");
  EXPECT_NE(d.categories[1].find(" > "), std::string::npos);

  ASSERT_EQ(d.products.size(), 20000u);
  size_t unrated = 0, unbranded = 0, uncoloured = 0;
  for (size_t i = 0; i < d.products.size(); ++i) {
    const std::string& id = d.products.id[i];
    ASSERT_EQ(id.size(), 10u);
    EXPECT_EQ(id.substr(0, 2), "B0");
    for (char c : id) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')) << id;
    EXPECT_FALSE(d.products.title[i].empty());
    EXPECT_GE(d.products.brand[i], 0);
    EXPECT_LT(d.products.brand[i], static_cast<int32_t>(d.brands.size()));
    EXPECT_GE(d.products.colour[i], 0);
    EXPECT_LT(d.products.colour[i], static_cast<int32_t>(d.colours.size()));
    EXPECT_GE(d.products.category[i], 1);
    EXPECT_LT(d.products.category[i], static_cast<int32_t>(d.categories.size()));
    const float price = d.products.price[i];
    EXPECT_GT(price, 0);
    EXPECT_LT(std::fabs(price * 100 - std::round(price * 100)), 1e-2 * price) << price;
    const float rating = d.products.rating[i];
    if (std::isnan(rating)) {
      ++unrated;
    } else {
      EXPECT_GE(rating, 1);
      EXPECT_LE(rating, 5);
    }
    EXPECT_GE(d.products.release_day[i], 15340);  // 2012-01-01
    EXPECT_LE(d.products.release_day[i], 20454);  // 2026-01-01
    unbranded += d.products.brand[i] == 0;
    uncoloured += d.products.colour[i] == 0;
  }
  EXPECT_GT(unrated, 0u);
  EXPECT_LT(unrated, d.products.size() / 5);
  EXPECT_GT(unbranded, 0u);
  EXPECT_GT(uncoloured, 0u);
  // Every category gets products.
  EXPECT_EQ(std::set<int32_t>(d.products.category.begin(), d.products.category.end()).size(),
            d.categories.size() - 1);

  std::map<Split, size_t> splits;
  for (size_t q = 0; q < d.queries.size(); ++q) {
    EXPECT_EQ(d.queries.id[q], "Q" + std::to_string(q));
    EXPECT_FALSE(d.queries.text[q].empty());
    ++splits[d.queries.split[q]];
  }
  const double n = static_cast<double>(d.queries.size());
  EXPECT_NEAR(splits[Split::kTrain] / n, 0.8, 0.04);
  EXPECT_NEAR(splits[Split::kValid] / n, 0.1, 0.03);
  EXPECT_NEAR(splits[Split::kTest] / n, 0.1, 0.03);
}

TEST(CatalogGeneratorTest, TitlesNameTheBrandColourAndType) {
  const Dataset& d = SmallDataset().dataset;
  const CatalogVocabulary& vocabulary = SmallDataset().generator.vocabulary();
  for (size_t i = 0; i < d.products.size(); ++i) {
    const std::string& title = d.products.title[i];
    std::string lower = title;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (d.products.brand[i] > 0) {
      EXPECT_NE(title.find(d.brands[d.products.brand[i]]), std::string::npos) << title;
    }
    if (d.products.colour[i] > 0) {
      EXPECT_NE(lower.find(d.colours[d.products.colour[i]]), std::string::npos) << title;
    }
    bool has_type = false;
    for (const auto& synonyms : vocabulary.leaves()[d.products.category[i] - 1].nouns) {
      for (const std::string& noun : synonyms) has_type |= lower.find(noun) != std::string::npos;
    }
    EXPECT_TRUE(has_type) << title;
  }
}

TEST(CatalogGeneratorTest, ProductIdsAreUniqueAtScale) {
  GeneratorOptions o;
  o.products = 300000;
  CatalogGenerator g(o);
  const Products p = g.MakeProducts(0, o.products);
  std::unordered_set<std::string> ids(p.id.begin(), p.id.end());
  EXPECT_EQ(ids.size(), p.id.size());
}

TEST(CatalogGeneratorTest, PairsAreGroupedPositionedAndWithoutDuplicates) {
  const Dataset& d = SmallDataset().dataset;
  const auto ranges = PairRanges(d);
  int32_t previous = -1;
  for (size_t i = 0; i < d.pairs.size(); ++i) {
    ASSERT_GE(d.pairs.query[i], previous) << "pairs not grouped by query";
    previous = d.pairs.query[i];
  }
  size_t total = 0;
  for (size_t q = 0; q < ranges.size(); ++q) {
    const auto [begin, end] = ranges[q];
    ASSERT_GT(end, begin) << "query " << q << " has no pairs";
    EXPECT_LE(end - begin, 15u);
    EXPECT_GE(end - begin, 10u) << "query " << q;
    total += end - begin;
    std::set<int32_t> products;
    for (size_t i = begin; i < end; ++i) {
      EXPECT_TRUE(products.insert(d.pairs.product[i]).second)
          << "product " << d.pairs.product[i] << " twice for query " << q;
      EXPECT_EQ(d.pairs.position[i], static_cast<int16_t>(i - begin));
    }
  }
  // About judged_per_query pairs per query: 150K for the default 10K queries.
  EXPECT_GT(total, d.queries.size() * 14);
}

TEST(CatalogGeneratorTest, GradesHaveEsciLikeProportionsAndMeaning) {
  const Dataset& d = SmallDataset().dataset;
  std::map<Grade, size_t> count;
  for (Grade g : d.pairs.grade) ++count[g];
  const double n = static_cast<double>(d.pairs.size());
  std::cout << "grades over " << d.pairs.size() << " pairs: E " << count[Grade::kExact] / n
            << ", S " << count[Grade::kSubstitute] / n << ", C " << count[Grade::kComplement] / n
            << ", I " << count[Grade::kIrrelevant] / n << "\n";
  EXPECT_NEAR(count[Grade::kExact] / n, 0.65, 0.08);
  EXPECT_NEAR(count[Grade::kSubstitute] / n, 0.22, 0.08);
  EXPECT_NEAR(count[Grade::kComplement] / n, 0.03, 0.025);
  EXPECT_NEAR(count[Grade::kIrrelevant] / n, 0.10, 0.05);

  // E and S products share the query's category; C and I products do not.
  const CatalogVocabulary& vocabulary = SmallDataset().generator.vocabulary();
  for (const auto& [begin, end] : PairRanges(d)) {
    int32_t category = -1;
    for (size_t i = begin; i < end; ++i) {
      if (d.pairs.grade[i] == Grade::kExact) category = d.products.category[d.pairs.product[i]];
    }
    ASSERT_GE(category, 1) << "a query without an E pair";
    const std::vector<int32_t>& complements = vocabulary.leaves()[category - 1].complements;
    for (size_t i = begin; i < end; ++i) {
      const int32_t c = d.products.category[d.pairs.product[i]];
      const bool complement =
          std::find(complements.begin(), complements.end(), c - 1) != complements.end();
      switch (d.pairs.grade[i]) {
        case Grade::kExact:
        case Grade::kSubstitute:
          EXPECT_EQ(c, category);
          break;
        case Grade::kComplement:
          EXPECT_TRUE(complement);
          break;
        case Grade::kIrrelevant:
          EXPECT_NE(c, category);
          EXPECT_FALSE(complement);
          break;
      }
    }
  }
}

TEST(CatalogGeneratorTest, ClicksFollowPositionAndGrade) {
  const Dataset& d = SmallDataset().dataset;
  std::map<int, std::pair<double, double>> by_position;  // clicks, shown
  std::map<Grade, std::pair<double, double>> by_grade;
  for (size_t i = 0; i < d.pairs.size(); ++i) {
    auto& p = by_position[std::min<int>(d.pairs.position[i], 10)];
    auto& g = by_grade[d.pairs.grade[i]];
    p.first += d.pairs.click[i];
    p.second += 1;
    g.first += d.pairs.click[i];
    g.second += 1;
  }
  const auto rate = [](const std::pair<double, double>& p) { return p.first / p.second; };
  EXPECT_GT(rate(by_position[0]), 2 * rate(by_position[10]));
  EXPECT_GT(rate(by_grade[Grade::kExact]), 3 * rate(by_grade[Grade::kIrrelevant]));
  EXPECT_GT(rate(by_position[0]), 0.2);
}

TEST(CatalogGeneratorTest, ColdProductsAreJudgedOnlyForTestQueries) {
  const Generated& g = SmallDataset();
  const Dataset& d = g.dataset;
  size_t cold = 0, cold_in_test = 0;
  for (int64_t row = 0; row < g.generator.options().products; ++row) {
    cold += g.generator.IsColdProduct(row);
  }
  EXPECT_NEAR(static_cast<double>(cold) / g.generator.options().products, 0.05, 0.015);
  for (size_t i = 0; i < d.pairs.size(); ++i) {
    if (!g.generator.IsColdProduct(d.pairs.product[i])) continue;
    EXPECT_EQ(d.queries.split[d.pairs.query[i]], Split::kTest) << "pair " << i;
    ++cold_in_test;
  }
  EXPECT_GT(cold_in_test, 0u) << "no cold product to measure cold-start recall on";

  GeneratorOptions none = Small();
  none.cold_fraction = 0;
  CatalogGenerator warm(none);
  for (int64_t row = 0; row < none.products; ++row) ASSERT_FALSE(warm.IsColdProduct(row));
}

TEST(CatalogGeneratorTest, QueriesFavourPopularProductsAndHaveTypos) {
  const Dataset& d = SmallDataset().dataset;
  // Zipf targets: some products are judged for many queries, most for a few.
  std::map<int32_t, int> exact_count;
  for (size_t i = 0; i < d.pairs.size(); ++i) {
    if (d.pairs.grade[i] == Grade::kExact) ++exact_count[d.pairs.product[i]];
  }
  int most = 0;
  for (const auto& [product, count] : exact_count) most = std::max(most, count);
  EXPECT_GE(most, 10);

  // Typos: words that are in no title, vocabulary phrase or number.
  std::unordered_set<std::string> known;
  for (const std::string& title : d.products.title) {
    for (std::string& w : TextFeaturizer::Tokenize(title)) known.insert(std::move(w));
  }
  const CatalogVocabulary& vocabulary = SmallDataset().generator.vocabulary();
  for (const auto& colour : vocabulary.colours()) {
    for (const std::string& name : colour) {
      for (std::string& w : TextFeaturizer::Tokenize(name)) known.insert(std::move(w));
    }
  }
  for (const LeafCategory& leaf : vocabulary.leaves()) {
    for (const auto& synonyms : leaf.nouns) {
      for (const std::string& noun : synonyms) {
        for (std::string& w : TextFeaturizer::Tokenize(noun)) known.insert(std::move(w));
      }
    }
  }
  size_t with_unknown = 0, lower_case = 0;
  for (const std::string& text : d.queries.text) {
    bool unknown = false;
    for (const std::string& w : TextFeaturizer::Tokenize(text)) {
      unknown |= w != "under" && !known.count(w) && w.find_first_not_of("0123456789") != w.npos;
    }
    with_unknown += unknown;
    bool lower = true;
    for (char c : text) lower &= !(c >= 'A' && c <= 'Z');
    lower_case += lower;
  }
  const double n = static_cast<double>(d.queries.size());
  EXPECT_GT(with_unknown / n, 0.05);
  EXPECT_LT(with_unknown / n, 0.25);
  EXPECT_GT(lower_case / n, 0.8);
}

// Pins a few exact values for the default options. The same options must give the same bytes
// on every machine, compiler and build type (no libm, no std distributions); this catches a
// platform that does not, and makes any change to the generator's output a visible decision.
TEST(CatalogGeneratorTest, GoldenRows) {
  CatalogGenerator g{GeneratorOptions()};
  const Products p = g.MakeProducts(12345, 12347);
  EXPECT_EQ(p.id, (std::vector<std::string>{"B061GLU4XV", "B0ZQDLUDUR"}));
  EXPECT_EQ(p.title, (std::vector<std::string>{
                         "BOZIR Y892 Wireless Security Camera, Black, 2-Pack",
                         "Kelylio Drill - 12v, Brushless, with Battery, with Charger - Red"}));
  EXPECT_EQ(p.price, (std::vector<float>{static_cast<float>(81.99), static_cast<float>(139.85)}));
  Queries q;
  Judgments j;
  g.MakeQueries(777, 779, &q, &j);
  EXPECT_EQ(q.text, (std::vector<std::string>{"unlocked smartphone", "septic safe paper towels"}));
  EXPECT_EQ(j.product, (std::vector<int32_t>{3745,  6713,  7095,  1784,  11544, 17764, 5898, 6282,
                                             2358,  9726,  6903,  5085,  3263,  19521, 1262, 19641,
                                             15192, 15096, 18062, 15000, 8206,  6053,  8302, 17153,
                                             17345, 17584, 13948, 15431, 10694, 17276}));
}

Dataset Generate(const GeneratorOptions& options) {
  CatalogGenerator g(options);
  Dataset d;
  g.FillVocabularies(&d);
  d.products = g.MakeProducts(0, options.products);
  g.MakeQueries(0, options.queries, &d.queries, &d.pairs);
  return d;
}

GeneratorOptions RealLike(double paraphrase_share) {
  GeneratorOptions o;
  o.products = 20000;
  o.queries = 3000;
  o.judged_per_query = 6;
  o.regime = Regime::kRealLike;
  o.paraphrase_share = paraphrase_share;
  return o;
}

// Per query: whether it shares no word with the title of any of its exact products.
std::vector<bool> MissesItsExactTitles(const Dataset& d) {
  std::vector<bool> misses(d.queries.size(), true);
  std::vector<std::set<std::string>> words(d.queries.size());
  for (size_t q = 0; q < d.queries.size(); ++q) {
    for (std::string& w : TextFeaturizer::Tokenize(d.queries.text[q])) words[q].insert(w);
  }
  for (size_t i = 0; i < d.pairs.size(); ++i) {
    if (d.pairs.grade[i] != Grade::kExact) continue;
    const int32_t q = d.pairs.query[i];
    for (const std::string& w : TextFeaturizer::Tokenize(d.products.title[d.pairs.product[i]])) {
      if (words[q].count(w)) misses[q] = false;
    }
  }
  return misses;
}

TEST(CatalogVocabularyTest, ParaphrasesAreInNoTitleOfTheirLeaf) {
  const Generated& generated = SmallDataset();
  const CatalogVocabulary& vocabulary = generated.generator.vocabulary();
  const Dataset& d = generated.dataset;
  // Every word of every title, per leaf.
  std::vector<std::set<std::string>> title_words(vocabulary.leaves().size());
  for (size_t p = 0; p < d.products.size(); ++p) {
    for (std::string& w : TextFeaturizer::Tokenize(d.products.title[p])) {
      title_words[d.products.category[p] - 1].insert(std::move(w));
    }
  }
  size_t phrases = 0;
  for (size_t l = 0; l < vocabulary.leaves().size(); ++l) {
    const LeafCategory& leaf = vocabulary.leaves()[l];
    ASSERT_EQ(leaf.paraphrases.size(), leaf.nouns.size()) << leaf.path;
    for (const auto& group : leaf.paraphrases) {
      EXPECT_FALSE(group.empty()) << leaf.path;
      for (const std::string& phrase : group) {
        ++phrases;
        for (const std::string& w : TextFeaturizer::Tokenize(phrase)) {
          EXPECT_EQ(title_words[l].count(w), 0u) << leaf.path << ": '" << phrase << "'";
        }
      }
    }
  }
  EXPECT_GT(phrases, 185u);
}

TEST(CatalogGeneratorTest, ParaphraseQueriesShareNoWordWithTheirExactTitles) {
  // All paraphrases: no query shares a word with any title of its exact products.
  const Dataset all = Generate(RealLike(1.0));
  const std::vector<bool> misses = MissesItsExactTitles(all);
  EXPECT_EQ(std::count(misses.begin(), misses.end(), true), static_cast<long>(misses.size()));
  all.Validate();

  // None: almost every query shares a word with an exact title (typos may hide the rest).
  const Dataset none = Generate(RealLike(0.0));
  const std::vector<bool> none_misses = MissesItsExactTitles(none);
  const double none_share = std::count(none_misses.begin(), none_misses.end(), true) / 3000.0;
  EXPECT_LT(none_share, 0.03);

  // The stated share, give or take the sampling noise of 3000 queries.
  const Dataset some = Generate(RealLike(0.3));
  const std::vector<bool> some_misses = MissesItsExactTitles(some);
  const double some_share = std::count(some_misses.begin(), some_misses.end(), true) / 3000.0;
  EXPECT_GT(some_share, 0.3 - 0.03);
  EXPECT_LT(some_share, 0.3 + none_share + 0.03);
}

TEST(CatalogGeneratorTest, RealLikeJudgesMostProductsOnceOrNever) {
  GeneratorOptions o = RealLike(0.2);
  o.queries = 3000;  // 18K pairs over 20K products
  const Dataset real = Generate(o);
  std::vector<int> judged(o.products, 0);
  for (const int32_t p : real.pairs.product) ++judged[p];
  const auto at_most_once =
      std::count_if(judged.begin(), judged.end(), [](int n) { return n <= 1; });
  EXPECT_GT(at_most_once, o.products * 3 / 4);
  EXPECT_LE(*std::max_element(judged.begin(), judged.end()), 12);

  // The ESCI regime at the same size: Zipf targets, one product judged for many queries.
  o.regime = Regime::kEsci;
  o.paraphrase_share = 0;
  const Dataset esci = Generate(o);
  std::fill(judged.begin(), judged.end(), 0);
  for (const int32_t p : esci.pairs.product) ++judged[p];
  EXPECT_GE(*std::max_element(judged.begin(), judged.end()), 30);
}

TEST(CatalogGeneratorTest, RealLikeSameSeedSameContents) {
  const Dataset a = Generate(RealLike(0.3)), b = Generate(RealLike(0.3));
  EXPECT_TRUE(Same(a.products, b.products));
  EXPECT_TRUE(Same(a.queries, b.queries));
  EXPECT_TRUE(Same(a.pairs, b.pairs));
  // The regime changes the queries, not the catalogue.
  GeneratorOptions esci = RealLike(0.3);
  esci.regime = Regime::kEsci;
  EXPECT_TRUE(Same(a.products, Generate(esci).products));
  EXPECT_FALSE(Same(a.queries, Generate(RealLike(0.0)).queries));
}

// Pins the real-like regime's queries as GoldenRows pins the default ones.
TEST(CatalogGeneratorTest, RealLikeGoldenRows) {
  CatalogGenerator g{RealLike(0.5)};
  Queries q;
  Judgments j;
  g.MakeQueries(100, 106, &q, &j);
  EXPECT_EQ(q.text, (std::vector<std::string>{"stupy chromeboook", "Hdmi cord white", "spanners",
                                              "racer seat", "kasa", "jeggings"}));
}

// Prints the generation speed on one core; no assertion, machines differ too much.
TEST(CatalogGeneratorTest, Speed) {
  GeneratorOptions o;
  o.products = 1'000'000;
  o.queries = 100'000;
  CatalogGenerator g(o);
  auto start = std::chrono::steady_clock::now();
  const Products products = g.MakeProducts(0, o.products);
  const double product_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  start = std::chrono::steady_clock::now();
  Queries queries;
  Judgments pairs;
  g.MakeQueries(0, o.queries, &queries, &pairs);
  const double query_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "MakeProducts(0, 1000000): " << product_seconds << " s, "
            << o.products / product_seconds << " products/s\n"
            << "MakeQueries(0, 100000): " << query_seconds << " s, " << o.queries / query_seconds
            << " queries/s (" << pairs.size() << " pairs)\n";
  EXPECT_EQ(products.size(), 1'000'000u);
}

}  // namespace
}  // namespace recsys::data
