#include "data/catalog_generator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <string_view>

#include "core/error.h"
#include "core/stable_hash.h"
#include "data/text_featurizer.h"

namespace recsys::data {
namespace detail {

// ---- Per-row randomness ----------------------------------------------------------------------

// SplitMix64: tiny, fast and the same everywhere. Every conversion to a number is explicit.
class RowRng {
 public:
  explicit RowRng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return Mix64(state_);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  // In [0, n); the modulo bias (n / 2^64) is far below anything measurable here.
  int64_t Below(int64_t n) { return static_cast<int64_t>(Next() % static_cast<uint64_t>(n)); }
  bool Chance(double p) { return Uniform() < p; }
  // Approximately standard normal (Irwin-Hall of 4 uniforms: mean 0, variance 1, |z| < 3.5).
  double Normal() {
    constexpr double kSqrt3 = 1.7320508075688772935;
    return (Uniform() + Uniform() + Uniform() + Uniform() - 2) * kSqrt3;
  }

 private:
  uint64_t state_;
};

}  // namespace detail

namespace {

using detail::RowRng;

constexpr int64_t kMinProducts = 100;
constexpr int64_t kMaxProducts = 50'000'000;
constexpr int64_t kMaxQueries = 50'000'000;
constexpr int kMaxJudgedPerQuery = 100;
constexpr double kMaxColdFraction = 0.5;

// Popularity is Zipf-Mandelbrot, P(rank r) ~ 1 / (r + kZipfOffset): exponent 1 as in real
// query logs, with an offset so that the single most popular product gets about 1% of the
// queries rather than 10%, which would make a small query set mostly copies of one intent.
// The real-like regime uses an offset of the catalogue size: the most popular product is only
// twice as likely a target as the least, so most products are judged once or never.
constexpr double kZipfOffset = 20;

// How a shopper writes a query, per regime: the chance of writing the product type with its
// usual title word (else any of its synonyms); the chances of naming the target's brand,
// colour, size and a price bound; a uniform draw below no_attribute names no attribute, below
// one_attribute one, else two; the chances of a typo and of a second one.
struct QueryStyle {
  double usual_noun, brand, colour, size, price, no_attribute, one_attribute, typo, second_typo;
};
constexpr QueryStyle kEsciStyle = {0.5, 0.15, 0.2, 0.07, 0.06, 0.5, 0.9, 0.12, 0.03};
constexpr QueryStyle kRealLikeStyle = {0.85, 0.8, 0.25, 0.1, 0.03, 0.2, 0.6, 0.08, 0.02};

// Release days: 2012-01-01 to 2026-01-01, in days since 1970-01-01.
constexpr int32_t kFirstDay = 15340;
constexpr int32_t kLastDay = 20454;

// ASIN-like ids are "B0" + 8 base-36 digits.
constexpr uint64_t kAsinSpace = 2821109907456ULL;  // 36^8
constexpr char kBase36[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

// Shares of the judged pairs after the target (which is always E) that go looking for each
// grade. Searches for E sometimes find only S products (a narrow query in a small category),
// so the E share is set above ESCI's 65% to land near it overall.
constexpr double kSeekExact = 0.74, kSeekSubstitute = 0.11, kSeekComplement = 0.045;
// Random draws tried per judged slot before settling for what was found.
constexpr int kTriesPerSlot = 32;

// Click model: P(click) = examination(position) * attractiveness(grade) * popularity factor.
constexpr double kAttractiveness[] = {0.03, 0.12, 0.25, 0.55};  // indexed by Grade

// Price bounds a shopper types ("under 50").
constexpr int kPriceBounds[] = {5,   10,  15,  20,  25,  30,  40,   50,   60,   75,   100, 150,
                                200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 5000};

// Stream salts; changing one changes that family of fields for every seed.
constexpr uint64_t kLayoutSalt = StableHash("recsys.catalog.layout");
constexpr uint64_t kPopularitySalt = StableHash("recsys.catalog.popularity");
constexpr uint64_t kSpecSalt = StableHash("recsys.catalog.product");
constexpr uint64_t kTitleSalt = StableHash("recsys.catalog.title");
constexpr uint64_t kAsinSalt = StableHash("recsys.catalog.asin");
constexpr uint64_t kQuerySalt = StableHash("recsys.catalog.query");
constexpr uint64_t kSplitSalt = StableHash("recsys.catalog.split");
constexpr uint64_t kColdSalt = StableHash("recsys.catalog.cold");

// exp and log from + - * / only, which IEEE 754 rounds the same everywhere, unlike libm's
// std::exp / std::log, whose last bits may differ between C libraries. About 1e-15 relative
// error, plenty for prices and ranks.
double PortableExp(double x) {
  constexpr double kLn2 = 0.69314718055994530942;
  const double k = std::floor(x / kLn2 + 0.5);
  const double r = x - k * kLn2;  // |r| <= ln(2) / 2
  double sum = 1, term = 1;
  for (int i = 1; i <= 14; ++i) {
    term *= r / i;
    sum += term;
  }
  return std::ldexp(sum, static_cast<int>(k));
}

double PortableLog(double x) {
  constexpr double kLn2 = 0.69314718055994530942;
  constexpr double kSqrtHalf = 0.70710678118654752440;
  int e = 0;
  double m = std::frexp(x, &e);  // x = m 2^e, m in [0.5, 1)
  if (m < kSqrtHalf) {
    m *= 2;
    --e;
  }
  // log(m) = 2 atanh(t), t = (m - 1) / (m + 1), |t| <= 0.172.
  const double t = (m - 1) / (m + 1), t2 = t * t;
  double sum = 0, power = t;
  for (int i = 1; i <= 25; i += 2) {
    sum += power / i;
    power *= t2;
  }
  return e * kLn2 + 2 * sum;
}

// A bijection of [0, 2^42): xor with a key, then multiply-xorshift rounds, each invertible.
uint64_t Permute42(uint64_t x, uint64_t key) {
  constexpr uint64_t kMask = (uint64_t{1} << 42) - 1;
  x = (x ^ key) & kMask;
  x = (x * 0xbf58476d1ce4e5b9ULL) & kMask;
  x ^= x >> 21;
  x = (x * 0x94d049bb133111ebULL) & kMask;
  x ^= x >> 19;
  x = (x * 0x9e3779b97f4a7c15ULL) & kMask;
  return x ^ (x >> 23);
}

int64_t ModInverse(int64_t a, int64_t n) {
  int64_t old_r = a, r = n, old_s = 1, s = 0;
  while (r != 0) {
    const int64_t q = old_r / r;
    old_r -= q * r;
    std::swap(old_r, r);
    old_s -= q * s;
    std::swap(old_s, s);
  }
  return ((old_s % n) + n) % n;
}

// Upper-cases ASCII letters that start a word but for short joining words inside the title:
// "usb c charger with 2-pack cable" -> "Usb C Charger with 2-Pack Cable".
void TitleCase(std::string* s) {
  constexpr std::string_view kJoiningWords[] = {"and ", "by ", "for ", "of ", "with "};
  for (size_t i = 0; i < s->size(); ++i) {
    char& c = (*s)[i];
    const bool starts_word =
        i == 0 || (*s)[i - 1] == ' ' || (*s)[i - 1] == '-' || (*s)[i - 1] == '(';
    if (!starts_word || c < 'a' || c > 'z') continue;
    const bool joining =
        i > 0 && std::any_of(std::begin(kJoiningWords), std::end(kJoiningWords),
                             [&](std::string_view w) { return s->compare(i, w.size(), w) == 0; });
    if (!joining) c = static_cast<char>(c - 'a' + 'A');
  }
}

// Phrases that read after the product type: "charger with cable", "shampoo for curly hair".
bool FollowsNoun(std::string_view phrase) {
  return phrase.rfind("with ", 0) == 0 || phrase.rfind("for ", 0) == 0 ||
         phrase.rfind("compatible ", 0) == 0;
}

void Append(std::string* out, std::string_view separator, std::string_view part) {
  if (part.empty()) return;
  if (!out->empty()) out->append(separator);
  out->append(part);
}

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// "B0" + 8 base-36 digits of a bijection of the row: unique and random-looking. Cycle walking
// keeps the bijection of [0, 2^42) inside [0, 36^8).
std::string AsinOf(int64_t row, uint64_t key) {
  uint64_t code = Permute42(static_cast<uint64_t>(row), key);
  while (code >= kAsinSpace) code = Permute42(code, key);
  std::string id = "B0";
  id.resize(10);
  for (int i = 9; i >= 2; --i, code /= 36) id[i] = kBase36[code % 36];
  return id;
}

// Typos as shoppers make them: a swapped, dropped or doubled letter inside a word of 4+
// letters; one with chance `one`, another with chance `two`.
void AddTypos(std::string* text, double one, double two, RowRng* rng) {
  for (int typos = rng->Chance(one) + rng->Chance(two); typos > 0; --typos) {
    std::vector<std::pair<size_t, size_t>> words;  // [start, end) of letter runs
    for (size_t i = 0; i < text->size();) {
      size_t j = i;
      while (j < text->size() && IsAsciiLetter((*text)[j])) ++j;
      if (j - i >= 4) words.emplace_back(i, j);
      i = j + 1;
    }
    if (words.empty()) return;
    const auto [start, stop] = words[rng->Below(words.size())];
    const size_t at = start + 1 + static_cast<size_t>(rng->Below(stop - start - 2));
    switch (rng->Below(3)) {
      case 0:
        std::swap((*text)[at], (*text)[at + 1]);
        break;
      case 1:
        text->erase(at, 1);
        break;
      default:
        text->insert(at, 1, (*text)[at]);
        break;
    }
  }
}

}  // namespace

// ---- AffinePermutation ----------------------------------------------------------------------

AffinePermutation::AffinePermutation(int64_t n, uint64_t seed) : n_(n) {
  RECSYS_CHECK(n >= 1 && n <= (int64_t{1} << 31),
               "permutation size must be in [1, 2^31], got " << n);
  // A multiplier in the middle half of [0, n) sends neighbouring rows far apart.
  const uint64_t h = Mix64(seed);
  a_ = n_ / 4 + h % std::max<uint64_t>(1, n_ / 2);
  while (std::gcd(a_, n_) != 1) a_ = (a_ + 1) % n_;
  b_ = Mix64(h) % n_;
  a_inverse_ = static_cast<uint64_t>(ModInverse(static_cast<int64_t>(a_), n));
}

int64_t AffinePermutation::Forward(int64_t x) const {
  return static_cast<int64_t>((a_ * static_cast<uint64_t>(x) + b_) % n_);
}

int64_t AffinePermutation::Inverse(int64_t y) const {
  return static_cast<int64_t>(a_inverse_ * ((static_cast<uint64_t>(y) + n_ - b_) % n_) % n_);
}

struct CatalogGenerator::ProductSpec {
  int32_t cell = 0;
  int32_t leaf = 0;
  int32_t noun = 0;         // product type within the leaf
  int32_t brand = -1;       // vocabulary index; -1 = none
  int32_t colour = -1;      // vocabulary index; -1 = none
  int32_t size = -1;        // index into the leaf's sizes; -1 = none
  uint64_t attributes = 0;  // bit i = the leaf's i-th attribute phrase (groups flattened)
  float price = 0;          // USD, rounded to cents
  float rating = 0;         // NaN = unrated
  int32_t release_day = 0;
};

// What a query asks for; -1 / 0 / infinity = not asked.
struct CatalogGenerator::Intent {
  int32_t leaf = 0;
  int32_t noun = 0;
  int32_t first_cell = 0, last_cell = 0;  // the cells that hold every exact match
  int32_t brand = -1, colour = -1, size = -1;
  uint64_t attributes = 0;
  float max_price = std::numeric_limits<float>::infinity();
};

// ---- CatalogGenerator ------------------------------------------------------------------------

CatalogGenerator::CatalogGenerator(const GeneratorOptions& options)
    : options_(options),
      layout_(std::clamp(options.products, int64_t{1}, kMaxProducts),
              HashCombine(options.seed, kLayoutSalt)),
      popularity_(std::clamp(options.products, int64_t{1}, kMaxProducts),
                  HashCombine(options.seed, kPopularitySalt)) {
  RECSYS_CHECK(options.products >= kMinProducts && options.products <= kMaxProducts,
               "products must be in [" << kMinProducts << ", " << kMaxProducts << "], got "
                                       << options.products);
  RECSYS_CHECK(options.queries >= 0 && options.queries <= kMaxQueries,
               "queries must be in [0, " << kMaxQueries << "], got " << options.queries);
  RECSYS_CHECK(options.judged_per_query >= 1 && options.judged_per_query <= kMaxJudgedPerQuery,
               "judged_per_query must be in [1, " << kMaxJudgedPerQuery << "], got "
                                                  << options.judged_per_query);
  RECSYS_CHECK(
      options.cold_fraction >= 0 && options.cold_fraction <= kMaxColdFraction,
      "cold_fraction must be in [0, " << kMaxColdFraction << "], got " << options.cold_fraction);
  RECSYS_CHECK(options.paraphrase_share >= 0 && options.paraphrase_share <= 1,
               "paraphrase_share must be in [0, 1], got " << options.paraphrase_share);

  const std::vector<LeafCategory>& leaves = vocabulary_.leaves();
  const int64_t n = options.products, num_leaves = static_cast<int64_t>(leaves.size());
  // Leaf blocks follow the leaf weights, and every leaf gets at least one product. Within a
  // block, the main product type takes 60% and the others share the rest; brands follow a
  // Zipf-like 1 / (i + 1), with 5% of products unbranded. Integer arithmetic throughout, so
  // that every rank computes the same boundaries.
  int64_t total_weight = 0;
  for (const LeafCategory& leaf : leaves) total_weight += leaf.weight;
  int64_t cumulative = 0;
  for (int32_t l = 0; l < num_leaves; ++l) {
    const LeafCategory& leaf = leaves[l];
    const int64_t begin = l + (n - num_leaves) * cumulative / total_weight;
    cumulative += leaf.weight;
    const int64_t end = l + 1 + (n - num_leaves) * cumulative / total_weight;
    const int64_t num_nouns = static_cast<int64_t>(leaf.nouns.size());
    std::vector<int64_t> brand_weights;
    for (size_t i = 0; i < leaf.brands.size(); ++i) brand_weights.push_back(60000 / (i + 1));
    const int64_t branded = std::accumulate(brand_weights.begin(), brand_weights.end(), int64_t{0});
    brand_weights.push_back(branded * 5 / 95);
    const int64_t brand_total = branded + brand_weights.back();
    const int64_t total = (num_nouns == 1 ? 1 : 5 * (num_nouns - 1)) * brand_total;
    leaf_first_cell_.push_back(static_cast<int32_t>(cell_leaf_.size()));
    int64_t cell_cumulative = 0;
    for (int32_t g = 0; g < num_nouns; ++g) {
      const int64_t noun_weight = num_nouns == 1 ? 1 : g == 0 ? 3 * (num_nouns - 1) : 2;
      for (size_t b = 0; b < brand_weights.size(); ++b) {
        cell_start_.push_back(begin + (end - begin) * cell_cumulative / total);
        cell_cumulative += noun_weight * brand_weights[b];
        cell_leaf_.push_back(l);
        cell_noun_.push_back(g);
        cell_brand_.push_back(b < leaf.brands.size() ? leaf.brands[b] : -1);
      }
    }
  }
  leaf_first_cell_.push_back(static_cast<int32_t>(cell_leaf_.size()));
  cell_start_.push_back(n);

  for (int32_t l = 0; l < num_leaves; ++l) {
    const LeafCategory& leaf = leaves[l];
    std::vector<int32_t> bits{0};
    for (const auto& group : leaf.attributes) {
      bits.push_back(bits.back() + static_cast<int32_t>(group.size()));
    }
    RECSYS_CHECK(bits.back() <= 64, leaf.path << ": more than 64 attribute phrases");
    attribute_bits_.push_back(std::move(bits));

    const double low = PortableLog(leaf.price_low), high = PortableLog(leaf.price_high);
    log_price_mean_.push_back((low + high) / 2);
    log_price_sigma_.push_back((high - low) / 4);

    const std::string_view path = leaf.path;
    const std::string_view department = path.substr(0, path.find(" > "));
    std::vector<int32_t> neighbours;
    for (int32_t other = 0; other < num_leaves; ++other) {
      const std::string_view other_path = leaves[other].path;
      const bool complement = std::count(leaf.complements.begin(), leaf.complements.end(), other);
      if (other != l && !complement && other_path.substr(0, other_path.find(" > ")) == department) {
        neighbours.push_back(other);
      }
    }
    neighbours_.push_back(std::move(neighbours));
  }

  zipf_offset_ = options.regime == Regime::kRealLike ? static_cast<double>(n) : kZipfOffset;
  log_zipf_span_ = PortableLog((static_cast<double>(n) + zipf_offset_) / zipf_offset_);

  std::set<std::string> title_words;
  const auto add_words = [&](const std::string& phrase) {
    for (std::string& w : TextFeaturizer::Tokenize(phrase)) title_words.insert(std::move(w));
  };
  for (const auto& names : vocabulary_.colours()) add_words(names[0]);
  for (const LeafCategory& leaf : leaves) {
    for (const auto& group : leaf.nouns) std::for_each(group.begin(), group.end(), add_words);
    for (const auto& group : leaf.attributes) std::for_each(group.begin(), group.end(), add_words);
    std::for_each(leaf.sizes.begin(), leaf.sizes.end(), add_words);
  }
  for (const auto& names : vocabulary_.colours()) {
    std::vector<std::string> query_only;
    for (size_t i = 1; i < names.size(); ++i) {
      const std::vector<std::string> words = TextFeaturizer::Tokenize(names[i]);
      if (std::none_of(words.begin(), words.end(),
                       [&](const std::string& w) { return title_words.count(w) > 0; })) {
        query_only.push_back(names[i]);
      }
    }
    query_only_colours_.push_back(std::move(query_only));
  }
  // 2^64 * cold_fraction, computed without overflowing (cold_fraction <= 0.5).
  cold_threshold_ = static_cast<uint64_t>(options.cold_fraction * 0x1.0p63) * 2;
  spec_key_ = HashCombine(options.seed, kSpecSalt);
  title_key_ = HashCombine(options.seed, kTitleSalt);
  asin_key_ = HashCombine(options.seed, kAsinSalt);
  query_key_ = HashCombine(options.seed, kQuerySalt);
  split_key_ = HashCombine(options.seed, kSplitSalt);
  cold_key_ = HashCombine(options.seed, kColdSalt);
}

void CatalogGenerator::FillVocabularies(Dataset* dataset) const {
  dataset->brands.assign(1, "");
  dataset->brands.insert(dataset->brands.end(), vocabulary_.brands().begin(),
                         vocabulary_.brands().end());
  dataset->colours.assign(1, "");
  for (const auto& synonyms : vocabulary_.colours()) dataset->colours.push_back(synonyms[0]);
  dataset->categories.assign(1, "");
  for (const LeafCategory& leaf : vocabulary_.leaves()) dataset->categories.push_back(leaf.path);
}

bool CatalogGenerator::IsColdProduct(int64_t row) const {
  return HashCombine(cold_key_, static_cast<uint64_t>(row)) < cold_threshold_;
}

int64_t CatalogGenerator::RandomProductInCells(int32_t first, int32_t last, RowRng* rng) const {
  const int64_t begin = cell_start_[first], size = cell_start_[last] - begin;
  return size > 0 ? layout_.Inverse(begin + rng->Below(size)) : -1;
}

int64_t CatalogGenerator::RandomProductOfLeaf(int32_t leaf, RowRng* rng) const {
  // Never -1: every leaf block holds at least one product.
  return RandomProductInCells(leaf_first_cell_[leaf], leaf_first_cell_[leaf + 1], rng);
}

CatalogGenerator::ProductSpec CatalogGenerator::Describe(int64_t row) const {
  ProductSpec p;
  // The last cell starting at or before the position (empty cells start where the next does).
  const int64_t position = layout_.Forward(row);
  p.cell = static_cast<int32_t>(std::upper_bound(cell_start_.begin(), cell_start_.end(), position) -
                                cell_start_.begin() - 1);
  p.leaf = cell_leaf_[p.cell];
  p.noun = cell_noun_[p.cell];
  p.brand = cell_brand_[p.cell];
  const LeafCategory& leaf = vocabulary_.leaves()[p.leaf];
  RowRng rng(HashCombine(spec_key_, static_cast<uint64_t>(row)));

  // Colours are skewed towards the first entries, as black and white dominate real listings.
  if (leaf.coloured && rng.Chance(0.85)) {
    const double u = rng.Uniform();
    p.colour = static_cast<int32_t>(u * u * u * vocabulary_.colours().size());
  }
  if (!leaf.sizes.empty() && rng.Chance(0.6)) {
    p.size = static_cast<int32_t>(rng.Below(leaf.sizes.size()));
  }

  // Attribute groups are listed most common first (most headphones say "wireless"), and
  // within a group the first phrase is favoured; about two attributes per product.
  const std::vector<int32_t>& bits = attribute_bits_[p.leaf];
  for (size_t g = 0; g < leaf.attributes.size(); ++g) {
    if (!rng.Chance(0.6 / (1.0 + 0.6 * static_cast<double>(g)))) continue;
    const int64_t choice = rng.Chance(0.5) ? 0 : rng.Below(bits[g + 1] - bits[g]);
    p.attributes |= uint64_t{1} << (bits[g] + choice);
  }

  // Log-normal price around the leaf's range, in cents; many prices end in .99.
  double price = PortableExp(log_price_mean_[p.leaf] + log_price_sigma_[p.leaf] * rng.Normal());
  price = rng.Chance(0.4) && price >= 1 ? std::floor(price) + 0.99 : std::round(price * 100) / 100;
  p.price = static_cast<float>(std::max(price, 0.01));

  // Rarely bought products are more often unrated; ratings skew high, as on real shops.
  const double obscurity =
      static_cast<double>(popularity_.Inverse(row)) / static_cast<double>(options_.products);
  const double rating = std::clamp(4.3 + 0.5 * rng.Normal(), 1.0, 5.0);
  p.rating = rng.Chance(0.04 + 0.16 * obscurity) ? std::numeric_limits<float>::quiet_NaN()
                                                 : static_cast<float>(std::round(rating * 10) / 10);
  // More products were released recently than long ago (density grows linearly with time).
  p.release_day =
      kFirstDay + static_cast<int32_t>((kLastDay - kFirstDay) * std::sqrt(rng.Uniform()));
  return p;
}

std::string CatalogGenerator::Title(int64_t row, const ProductSpec& p) const {
  // The same parts in varied orders, as different sellers write them.
  const LeafCategory& leaf = vocabulary_.leaves()[p.leaf];
  RowRng rng(HashCombine(title_key_, static_cast<uint64_t>(row)));
  const std::vector<std::string>& synonyms = leaf.nouns[p.noun];
  const std::string_view noun =
      rng.Chance(0.7) ? synonyms[0] : synonyms[rng.Below(synonyms.size())];
  std::vector<std::string_view> attributes;
  const std::vector<int32_t>& bits = attribute_bits_[p.leaf];
  for (size_t g = 0; g < leaf.attributes.size(); ++g) {
    for (int32_t i = bits[g]; i < bits[g + 1]; ++i) {
      if (p.attributes >> i & 1) attributes.push_back(leaf.attributes[g][i - bits[g]]);
    }
  }
  for (size_t i = 1; i < attributes.size(); ++i) {
    std::swap(attributes[i], attributes[rng.Below(i + 1)]);
  }
  const auto post = std::stable_partition(attributes.begin(), attributes.end(),
                                          [](std::string_view a) { return !FollowsNoun(a); });
  const std::string_view brand =
      p.brand >= 0 ? std::string_view(vocabulary_.brands()[p.brand]) : std::string_view();
  const std::string_view colour =
      p.colour >= 0 ? std::string_view(vocabulary_.colours()[p.colour][0]) : std::string_view();
  const std::string_view size = p.size >= 0 ? std::string_view(leaf.sizes[p.size]) : "";
  std::string model;
  if (rng.Chance(0.3)) {
    model.push_back(kBase36[10 + rng.Below(26)]);
    if (rng.Chance(0.5)) model.push_back(kBase36[10 + rng.Below(26)]);
    model += std::to_string(2 + rng.Below(998));
  }

  std::string title, list;
  title.reserve(96);
  switch (rng.Below(4)) {
    case 0:  // Brand Model Attributes Noun Attributes, Colour, Size
      Append(&title, " ", brand);
      Append(&title, " ", model);
      for (auto a = attributes.begin(); a != post; ++a) Append(&title, " ", *a);
      Append(&title, " ", noun);
      for (auto a = post; a != attributes.end(); ++a) Append(&title, " ", *a);
      Append(&title, ", ", colour);
      Append(&title, ", ", size);
      break;
    case 1:  // Brand Noun - Attribute, Attribute - Colour (Size)
      Append(&title, " ", brand);
      Append(&title, " ", noun);
      for (std::string_view a : attributes) Append(&list, ", ", a);
      Append(&title, " - ", list);
      Append(&title, " - ", colour);
      if (!size.empty()) title.append(" (").append(size).append(")");
      break;
    case 2:  // Attributes Noun Attributes by Brand, Size, Colour
      for (auto a = attributes.begin(); a != post; ++a) Append(&title, " ", *a);
      Append(&title, " ", noun);
      for (auto a = post; a != attributes.end(); ++a) Append(&title, " ", *a);
      Append(&title, " by ", brand);
      Append(&title, ", ", size);
      Append(&title, ", ", colour);
      break;
    default:  // Brand Colour Attributes Noun Model Attributes Size
      Append(&title, " ", brand);
      Append(&title, " ", colour);
      for (auto a = attributes.begin(); a != post; ++a) Append(&title, " ", *a);
      Append(&title, " ", noun);
      Append(&title, " ", model);
      for (auto a = post; a != attributes.end(); ++a) Append(&title, " ", *a);
      Append(&title, " ", size);
      break;
  }
  TitleCase(&title);
  return title;
}

Products CatalogGenerator::MakeProducts(int64_t begin, int64_t end) const {
  RECSYS_CHECK(
      0 <= begin && begin <= end && end <= options_.products,
      "product rows [" << begin << ", " << end << ") outside [0, " << options_.products << ")");
  Products out;
  const size_t n = static_cast<size_t>(end - begin);
  out.id.reserve(n);
  out.title.reserve(n);
  out.brand.reserve(n);
  out.colour.reserve(n);
  out.category.reserve(n);
  out.price.reserve(n);
  out.rating.reserve(n);
  out.release_day.reserve(n);
  for (int64_t row = begin; row < end; ++row) {
    const ProductSpec p = Describe(row);
    out.id.push_back(AsinOf(row, asin_key_));
    out.title.push_back(Title(row, p));
    out.brand.push_back(p.brand + 1);
    out.colour.push_back(p.colour + 1);
    out.category.push_back(p.leaf + 1);
    out.price.push_back(p.price);
    out.rating.push_back(p.rating);
    out.release_day.push_back(p.release_day);
  }
  return out;
}

CatalogGenerator::Intent CatalogGenerator::WriteQuery(const ProductSpec& p, RowRng* rng,
                                                      std::string* text) const {
  // Always the product type (in any synonym); sometimes brand, colour, attributes, size and a
  // price bound, each taken from the target so that the target matches.
  // Drawn only when asked for, so that a share of 0 leaves every other query as it was.
  if (options_.paraphrase_share > 0 && rng->Chance(options_.paraphrase_share)) {
    return WriteParaphrase(p, rng, text);
  }
  const QueryStyle& style = options_.regime == Regime::kRealLike ? kRealLikeStyle : kEsciStyle;
  const LeafCategory& leaf = vocabulary_.leaves()[p.leaf];
  Intent intent = TypeIntent(p);
  const std::vector<std::string>& synonyms = leaf.nouns[p.noun];
  const std::string noun =
      rng->Chance(style.usual_noun) ? synonyms[0] : synonyms[rng->Below(synonyms.size())];
  std::string brand, colour, size, price;
  if (p.brand >= 0 && rng->Chance(style.brand)) {
    intent.brand = p.brand;
    intent.first_cell = p.cell;
    intent.last_cell = p.cell + 1;
    brand = Lower(vocabulary_.brands()[p.brand]);
  }
  if (p.colour >= 0 && rng->Chance(style.colour)) {
    intent.colour = p.colour;
    const std::vector<std::string>& names = vocabulary_.colours()[p.colour];
    colour = names[rng->Below(names.size())];
  }
  std::vector<int32_t> owned;  // the target's attribute bits
  for (int32_t i = 0; i < 64; ++i) {
    if (p.attributes >> i & 1) owned.push_back(i);
  }
  const double a = rng->Uniform();
  const size_t wanted_attributes = std::min<size_t>(a < style.no_attribute    ? 0
                                                    : a < style.one_attribute ? 1
                                                                              : 2,
                                                    owned.size());
  std::vector<std::string> attributes;
  const std::vector<int32_t>& bits = attribute_bits_[p.leaf];
  for (size_t i = 0; i < wanted_attributes; ++i) {
    std::swap(owned[i], owned[i + rng->Below(owned.size() - i)]);
    intent.attributes |= uint64_t{1} << owned[i];
    const size_t group = std::upper_bound(bits.begin(), bits.end(), owned[i]) - bits.begin() - 1;
    attributes.push_back(leaf.attributes[group][owned[i] - bits[group]]);
  }
  if (p.size >= 0 && rng->Chance(style.size)) {
    intent.size = p.size;
    size = leaf.sizes[p.size];
  }
  if (rng->Chance(style.price)) {
    for (int bound : kPriceBounds) {
      if (bound > p.price) {
        intent.max_price = static_cast<float>(bound);
        price = (rng->Chance(0.7) ? "under " : "under $") + std::to_string(bound);
        break;
      }
    }
  }

  // Word order: mostly modifiers before the noun, sometimes the noun first.
  const auto post = std::stable_partition(attributes.begin(), attributes.end(),
                                          [](const std::string& a) { return !FollowsNoun(a); });
  std::vector<std::string> phrases;
  const double order = rng->Uniform();
  if (order < 0.6) {
    phrases = {brand, colour};
    phrases.insert(phrases.end(), attributes.begin(), post);
    phrases.insert(phrases.end(), {noun, size});
    phrases.insert(phrases.end(), post, attributes.end());
  } else if (order < 0.8) {
    phrases = {noun};
    phrases.insert(phrases.end(), attributes.begin(), attributes.end());
    phrases.insert(phrases.end(), {brand, colour, size});
  } else {
    phrases = {brand, noun};
    phrases.insert(phrases.end(), attributes.begin(), attributes.end());
    phrases.insert(phrases.end(), {colour, size});
  }
  phrases.push_back(price);
  text->clear();
  for (const std::string& phrase : phrases) Append(text, " ", phrase);
  if (rng->Chance(0.1)) {
    // Some shoppers type the brand as written and start with a capital.
    if (!brand.empty()) {
      text->replace(text->find(brand), brand.size(), vocabulary_.brands()[p.brand]);
    }
    char& first = (*text)[0];
    if (first >= 'a' && first <= 'z') first = static_cast<char>(first - 'a' + 'A');
  }
  AddTypos(text, style.typo, style.second_typo, rng);
  return intent;
}

CatalogGenerator::Intent CatalogGenerator::TypeIntent(const ProductSpec& p) const {
  Intent intent;
  intent.leaf = p.leaf;
  intent.noun = p.noun;
  // Exact matches are of the target's type: its cells (one per brand) are contiguous.
  const int32_t brand_slots = static_cast<int32_t>(vocabulary_.leaves()[p.leaf].brands.size()) + 1;
  intent.first_cell = leaf_first_cell_[p.leaf] + p.noun * brand_slots;
  intent.last_cell = intent.first_cell + brand_slots;
  return intent;
}

CatalogGenerator::Intent CatalogGenerator::WriteParaphrase(const ProductSpec& p, RowRng* rng,
                                                           std::string* text) const {
  // A paraphrase of the type, maybe after a colour synonym that titles never use: nothing in
  // the query narrows the type further, so every product of the type (and colour) is exact.
  const LeafCategory& leaf = vocabulary_.leaves()[p.leaf];
  Intent intent = TypeIntent(p);
  const std::vector<std::string>& phrases = leaf.paraphrases[p.noun];
  text->clear();
  if (p.colour >= 0 && !query_only_colours_[p.colour].empty() && rng->Chance(0.25)) {
    intent.colour = p.colour;
    const std::vector<std::string>& names = query_only_colours_[p.colour];
    text->append(names[rng->Below(names.size())]).push_back(' ');
  }
  text->append(phrases[rng->Below(phrases.size())]);
  return intent;
}

Grade CatalogGenerator::Judge(const Intent& q, const ProductSpec& p) const {
  if (p.leaf == q.leaf) {
    const bool matches = p.noun == q.noun && (q.brand < 0 || p.brand == q.brand) &&
                         (q.colour < 0 || p.colour == q.colour) &&
                         (q.size < 0 || p.size == q.size) &&
                         (p.attributes & q.attributes) == q.attributes && p.price <= q.max_price;
    return matches ? Grade::kExact : Grade::kSubstitute;
  }
  const std::vector<int32_t>& complements = vocabulary_.leaves()[q.leaf].complements;
  return std::count(complements.begin(), complements.end(), p.leaf) ? Grade::kComplement
                                                                    : Grade::kIrrelevant;
}

void CatalogGenerator::PickJudged(const Intent& intent, int64_t target, bool allow_cold,
                                  RowRng* rng, std::vector<int64_t>* products,
                                  std::vector<Grade>* grades) const {
  products->assign(1, target);
  grades->assign(1, Grade::kExact);
  const std::vector<int32_t>& complements = vocabulary_.leaves()[intent.leaf].complements;
  const std::vector<int32_t>& neighbours = neighbours_[intent.leaf];
  for (int slot = 1; slot < options_.judged_per_query; ++slot) {
    // Decide what this slot looks for and where it looks, then draw until a product of the
    // wanted grade turns up or the tries run out; the grade is always the judged one.
    const double u = rng->Uniform();
    const bool seek_same_leaf = u < kSeekExact + kSeekSubstitute;
    const bool seek_complement = !seek_same_leaf && !complements.empty() &&
                                 u < kSeekExact + kSeekSubstitute + kSeekComplement;
    const Grade wanted = u < kSeekExact    ? Grade::kExact
                         : seek_same_leaf  ? Grade::kSubstitute
                         : seek_complement ? Grade::kComplement
                                           : Grade::kIrrelevant;
    int64_t found = -1;
    Grade found_grade = Grade::kIrrelevant;
    for (int attempt = 0; attempt < kTriesPerSlot; ++attempt) {
      int64_t candidate;
      if (wanted == Grade::kExact && attempt < kTriesPerSlot * 3 / 4) {
        // Exact matches can only be of the asked type and brand: look there first. Never -1:
        // the target is there.
        candidate = RandomProductInCells(intent.first_cell, intent.last_cell, rng);
      } else if (seek_same_leaf) {
        candidate = RandomProductOfLeaf(intent.leaf, rng);
      } else if (seek_complement) {
        candidate = RandomProductOfLeaf(complements[rng->Below(complements.size())], rng);
      } else if (!neighbours.empty() && rng->Chance(0.5)) {
        // Half the irrelevant results come from the same department: harder negatives.
        candidate = RandomProductOfLeaf(neighbours[rng->Below(neighbours.size())], rng);
      } else {
        candidate = rng->Below(options_.products);
      }
      if (std::count(products->begin(), products->end(), candidate) ||
          (!allow_cold && IsColdProduct(candidate))) {
        continue;
      }
      const Grade grade = Judge(intent, Describe(candidate));
      if (found < 0 || grade == wanted) {
        found = candidate;
        found_grade = grade;
      }
      if (grade == wanted) break;
    }
    if (found >= 0) {
      products->push_back(found);
      grades->push_back(found_grade);
    }
  }
}

void CatalogGenerator::MakeQueries(int64_t begin, int64_t end, Queries* queries,
                                   Judgments* pairs) const {
  RECSYS_CHECK(
      0 <= begin && begin <= end && end <= options_.queries,
      "query rows [" << begin << ", " << end << ") outside [0, " << options_.queries << ")");
  *queries = Queries();
  *pairs = Judgments();
  const size_t n = static_cast<size_t>(end - begin);
  queries->id.reserve(n);
  queries->text.reserve(n);
  queries->split.reserve(n);
  const size_t expected_pairs = n * static_cast<size_t>(options_.judged_per_query);
  pairs->query.reserve(expected_pairs);
  pairs->product.reserve(expected_pairs);
  pairs->grade.reserve(expected_pairs);
  pairs->click.reserve(expected_pairs);
  pairs->position.reserve(expected_pairs);

  std::vector<int64_t> judged;
  std::vector<Grade> grades;
  std::vector<std::pair<double, int>> order;
  for (int64_t row = begin; row < end; ++row) {
    const uint64_t split_hash = HashCombine(split_key_, static_cast<uint64_t>(row)) % 10;
    const Split split = split_hash < 8   ? Split::kTrain
                        : split_hash < 9 ? Split::kValid
                                         : Split::kTest;
    RowRng rng(HashCombine(query_key_, static_cast<uint64_t>(row)));

    // The target: a Zipf-Mandelbrot popularity rank; for train and valid queries, the next
    // warm product in popularity order if it is cold.
    const double zipf = zipf_offset_ * PortableExp(rng.Uniform() * log_zipf_span_) - zipf_offset_;
    int64_t rank = std::min(static_cast<int64_t>(zipf), options_.products - 1);
    int64_t target = popularity_.Forward(rank);
    for (int64_t step = 0; split != Split::kTest && IsColdProduct(target); ++step) {
      RECSYS_CHECK(step < options_.products, "every product is cold");
      rank = (rank + 1) % options_.products;
      target = popularity_.Forward(rank);
    }
    std::string text;
    const Intent intent = WriteQuery(Describe(target), &rng, &text);
    PickJudged(intent, target, split == Split::kTest, &rng, &judged, &grades);

    // The result list: grade-sorted with noise, so a few worse results rank above better
    // ones. Clicks: examination falls with position, attraction rises with grade, and
    // popular products draw more clicks.
    order.clear();
    for (size_t i = 0; i < judged.size(); ++i) {
      order.emplace_back(-(static_cast<double>(grades[i]) + 0.8 * rng.Normal()),
                         static_cast<int>(i));
    }
    std::sort(order.begin(), order.end());
    for (size_t position = 0; position < order.size(); ++position) {
      const int i = order[position].second;
      const double examination = 1.0 / (1.0 + 0.5 * static_cast<double>(position));
      const double obscurity = static_cast<double>(popularity_.Inverse(judged[i])) /
                               static_cast<double>(options_.products);
      const double appeal = 0.5 + 0.5 / (1.0 + 20.0 * obscurity);
      const double p_click = examination * kAttractiveness[static_cast<int>(grades[i])] * appeal;
      pairs->query.push_back(static_cast<int32_t>(row));
      pairs->product.push_back(static_cast<int32_t>(judged[i]));
      pairs->grade.push_back(grades[i]);
      pairs->click.push_back(rng.Chance(p_click) ? 1 : 0);
      pairs->position.push_back(static_cast<int16_t>(position));
    }

    queries->id.push_back("Q" + std::to_string(row));
    queries->text.push_back(std::move(text));
    queries->split.push_back(split);
  }
}

}  // namespace recsys::data
