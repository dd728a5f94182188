// Terms and the BM25 formula: the plural stemmer's rules, tokenisation shared with the towers,
// idf and the tf factor against numbers worked out by hand.

#include "shards/lexical_terms.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "tests/test_util.h"

namespace recsys::shards {
namespace {

using recsys::testing::ErrorOf;
using recsys::testing::Mentions;

TEST(LexicalTermsTest, PluralStemmerRules) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"batteries", "battery"}, {"boxes", "box"},   {"watches", "watch"}, {"dishes", "dish"},
      {"glasses", "glass"},     {"cases", "case"},  {"shoes", "shoe"},    {"phones", "phone"},
      {"ties", "tie"},          {"series", "sery"}, {"bus", "bus"},       {"dress", "dress"},
      {"gas", "gas"},           {"toes", "toe"},    {"trees", "tree"},    {"4pcs", "4pcs"},
      {"cable", "cable"},       {"café", "café"},   {"zaes", "zae"},      {"", ""}};
  for (const auto& [word, stem] : cases) {
    EXPECT_EQ(Stem(word, Stemmer::kPlural), stem) << word;
    EXPECT_EQ(Stem(word, Stemmer::kNone), word) << word;
  }
}

TEST(LexicalTermsTest, TermsAreTheFeaturizerWordsStemmed) {
  EXPECT_EQ(LexicalTerms("USB-C Cables, 2 Pack!", Stemmer::kPlural),
            (std::vector<std::string>{"usb", "c", "cable", "2", "pack"}));
  EXPECT_EQ(LexicalTerms("USB-C Cables cables", Stemmer::kNone),
            (std::vector<std::string>{"usb", "c", "cables", "cables"}));
  EXPECT_TRUE(LexicalTerms("  ,.; ", Stemmer::kPlural).empty());
}

TEST(LexicalTermsTest, StemmerNamesRoundTrip) {
  for (Stemmer s : {Stemmer::kNone, Stemmer::kPlural}) EXPECT_EQ(ParseStemmer(StemmerName(s)), s);
  EXPECT_TRUE(Mentions(ErrorOf([] { ParseStemmer("porter"); }), {"unknown stemmer 'porter'"}));
}

TEST(LexicalTermsTest, FormulaAgainstHandComputedValues) {
  // N = 4, df = 1: ln(1 + 3.5 / 1.5) = ln(10 / 3).
  EXPECT_DOUBLE_EQ(Bm25Idf(4, 1), std::log(10.0 / 3.0));
  // df = N: ln(1 + 0.5 / (N + 0.5)) stays positive.
  EXPECT_GT(Bm25Idf(4, 4), 0.0);
  EXPECT_DOUBLE_EQ(Bm25Idf(4, 4), std::log(1.0 + 0.5 / 4.5));
  // tf 2 in a title of 3 terms, avgdl 2, k1 1.2, b 0.75: 2 * 2.2 / (2 + 1.2 * (0.25 + 1.125)).
  EXPECT_DOUBLE_EQ(Bm25TermFactor(2, 3, 2.0, {1.2, 0.75}), 4.4 / (2 + 1.2 * 1.375));
  // b = 0: no length normalisation; k1 = 0: tf does not count.
  EXPECT_DOUBLE_EQ(Bm25TermFactor(1, 100, 2.0, {1.2, 0.0}), 1.0);
  EXPECT_DOUBLE_EQ(Bm25TermFactor(5, 3, 2.0, {0.0, 0.75}), 1.0);
  EXPECT_TRUE(Mentions(ErrorOf([] { CheckBm25Parameters({1.2, 1.5}); }), {"0 <= b <= 1", "b=1.5"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { CheckBm25Parameters({-1, 0.5}); }), {"k1 >= 0"}));
}

}  // namespace
}  // namespace recsys::shards
