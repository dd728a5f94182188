#include "data/text_featurizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/error.h"
#include "core/stable_hash.h"

namespace recsys::data {
namespace {

using Strings = std::vector<std::string>;

TextFeaturizer OnlyTrigrams() {
  TextFeaturizerOptions o;
  o.word_unigrams = false;
  o.word_bigrams = false;
  return TextFeaturizer(o);
}

TEST(TextFeaturizerTest, TokenizeLowerCasesAndSplitsOnAsciiPunctuation) {
  EXPECT_EQ(TextFeaturizer::Tokenize("Sony WH-1000XM4, Wireless  (Black)!"),
            (Strings{"sony", "wh", "1000xm4", "wireless", "black"}));
  EXPECT_EQ(TextFeaturizer::Tokenize("  under $50\t2-pack\n"),
            (Strings{"under", "50", "2", "pack"}));
  EXPECT_EQ(TextFeaturizer::Tokenize("ABCXYZ abcxyz 0123456789"),
            (Strings{"abcxyz", "abcxyz", "0123456789"}));
}

TEST(TextFeaturizerTest, TokenizeKeepsUtf8AsLetters) {
  // Only ASCII is lower-cased; "É" stays as it is.
  EXPECT_EQ(TextFeaturizer::Tokenize("Café CRÈME-brûlée"), (Strings{"café", "crÈme", "brûlée"}));
  EXPECT_EQ(TextFeaturizer::Tokenize("ソニー ワイヤレスヘッドホン/黒"),
            (Strings{"ソニー", "ワイヤレスヘッドホン", "黒"}));
}

TEST(TextFeaturizerTest, EmptyAndPunctuationOnlyTextHaveNoFeatures) {
  TextFeaturizer f;
  EXPECT_TRUE(TextFeaturizer::Tokenize("").empty());
  EXPECT_TRUE(f.Featurize("").empty());
  EXPECT_TRUE(f.Featurize(" ,.;:!?-()[]{}#$%&*+/<=>@\\^_`|~\"'\t\n").empty());
  EXPECT_TRUE(TextFeaturizer::CharTrigrams("").empty());
}

TEST(TextFeaturizerTest, TrigramsHaveBoundaryMarkers) {
  EXPECT_EQ(TextFeaturizer::CharTrigrams("abc"), (Strings{"#ab", "abc", "bc#"}));
  EXPECT_EQ(TextFeaturizer::CharTrigrams("ab"), (Strings{"#ab", "ab#"}));
  EXPECT_EQ(TextFeaturizer::CharTrigrams("a"), (Strings{"#a#"}));
}

TEST(TextFeaturizerTest, TrigramsCountCodePointsNotBytes) {
  EXPECT_EQ(TextFeaturizer::CharTrigrams("café"), (Strings{"#ca", "caf", "afé", "fé#"}));
  // Five code points, fifteen bytes.
  EXPECT_EQ(TextFeaturizer::CharTrigrams("ヘッドホン"),
            (Strings{"#ヘッ", "ヘッド", "ッドホ", "ドホン", "ホン#"}));
  EXPECT_EQ(OnlyTrigrams().Featurize("café").size(), 4u);
  EXPECT_EQ(OnlyTrigrams().Featurize("ヘッドホン").size(), 5u);
  // A 4-byte code point (an emoji) is one code point too.
  EXPECT_EQ(TextFeaturizer::CharTrigrams("a\xF0\x9F\x8E\xA7"),
            (Strings{"#a\xF0\x9F\x8E\xA7", "a\xF0\x9F\x8E\xA7#"}));
}

TEST(TextFeaturizerTest, FeatureCountsAndOrder) {
  TextFeaturizer all;
  // 3 words, 2 bigrams, 3 + 3 + 2 trigrams.
  const std::vector<int64_t> ids = all.Featurize("Big red ox");
  ASSERT_EQ(ids.size(), 3u + 2u + 3u + 3u + 2u);

  TextFeaturizerOptions only_words;
  only_words.word_bigrams = false;
  only_words.char_trigrams = false;
  TextFeaturizerOptions only_bigrams = only_words;
  only_bigrams.word_unigrams = false;
  only_bigrams.word_bigrams = true;
  const std::vector<int64_t> unigrams = TextFeaturizer(only_words).Featurize("Big red ox");
  const std::vector<int64_t> bigrams = TextFeaturizer(only_bigrams).Featurize("Big red ox");
  const std::vector<int64_t> trigrams = OnlyTrigrams().Featurize("Big red ox");
  std::vector<int64_t> expected = unigrams;
  expected.insert(expected.end(), bigrams.begin(), bigrams.end());
  expected.insert(expected.end(), trigrams.begin(), trigrams.end());
  EXPECT_EQ(ids, expected);
  // Case and punctuation do not matter; word order does (through bigrams and order).
  EXPECT_EQ(all.Featurize("BIG, red... OX!"), ids);
  EXPECT_NE(all.Featurize("red big ox"), ids);
}

TEST(TextFeaturizerTest, IdsAreInRange) {
  for (int64_t buckets : {int64_t{1}, int64_t{7}, int64_t{1000}, int64_t{1} << 18}) {
    TextFeaturizerOptions o;
    o.num_buckets = buckets;
    TextFeaturizer f(o);
    for (const char* text : {"wireless noise cancelling headphones", "café crème", "x", "2-pack"}) {
      for (int64_t id : f.Featurize(text)) {
        EXPECT_GE(id, 0);
        EXPECT_LT(id, buckets);
      }
    }
  }
}

TEST(TextFeaturizerTest, SameTextSameIds) {
  TextFeaturizer a, b;
  const std::string text = "Stainless Steel Water Bottle 32 oz, Insulated";
  EXPECT_EQ(a.Featurize(text), a.Featurize(text));
  EXPECT_EQ(a.Featurize(text), b.Featurize(text));
}

// Pins exact ids: they must be the same on every machine, compiler and rank, and a change of
// hash or seed silently invalidates every trained embedding table. If this fails, the change
// is a format break, not a test to update casually.
TEST(TextFeaturizerTest, GoldenIds) {
  TextFeaturizer f;
  // 2 unigrams, 1 bigram, 8 + 10 trigrams.
  EXPECT_EQ(f.Featurize("Wireless Headphones"),
            (std::vector<int64_t>{208701, 212351, 102546, 240870, 247447, 122129, 60628,
                                  128820, 262079, 16774,  20943,  136441, 74055,  172421,
                                  239177, 6583,   226163, 45377,  121301, 103885, 113584}));
  // The recipe behind the first ids: StableHash of the bytes with the kind's seed, mod buckets.
  EXPECT_EQ(f.Featurize("wireless")[0],
            static_cast<int64_t>(StableHash("wireless", StableHash("recsys.text.word_unigram")) %
                                 (1 << 18)));
  EXPECT_EQ(
      OnlyTrigrams().Featurize("wireless")[0],
      static_cast<int64_t>(StableHash("#wi", StableHash("recsys.text.char_trigram")) % (1 << 18)));
}

TEST(TextFeaturizerTest, TypoChangesTrigramsOnlyPartly) {
  const std::vector<int64_t> a = OnlyTrigrams().Featurize("headphones");
  const std::vector<int64_t> b = OnlyTrigrams().Featurize("headphnoes");
  const std::set<int64_t> sa(a.begin(), a.end()), sb(b.begin(), b.end());
  std::vector<int64_t> common;
  std::set_intersection(sa.begin(), sa.end(), sb.begin(), sb.end(), std::back_inserter(common));
  const double jaccard =
      static_cast<double>(common.size()) / (sa.size() + sb.size() - common.size());
  EXPECT_GT(jaccard, 0.3);
  EXPECT_LT(jaccard, 1.0);
}

TEST(TextFeaturizerTest, BatchIsCsrOfSingleTexts) {
  TextFeaturizer f;
  const Strings texts = {"usb c charger", "", "...", "Sofa couch", "ヘッドホン"};
  const FeatureBatch batch = f.FeaturizeBatch(texts);
  ASSERT_EQ(batch.offsets.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    const int64_t end =
        i + 1 < texts.size() ? batch.offsets[i + 1] : static_cast<int64_t>(batch.ids.size());
    const std::vector<int64_t> slice(batch.ids.begin() + batch.offsets[i], batch.ids.begin() + end);
    EXPECT_EQ(slice, f.Featurize(texts[i])) << "text " << i;
  }
  EXPECT_EQ(batch.offsets[1], batch.offsets[2]);  // empty text: empty range
  const FeatureBatch empty = f.FeaturizeBatch({});
  EXPECT_TRUE(empty.ids.empty());
  EXPECT_TRUE(empty.offsets.empty());
}

TEST(TextFeaturizerTest, RejectsBadOptions) {
  TextFeaturizerOptions o;
  o.num_buckets = 0;
  try {
    TextFeaturizer f(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("num_buckets must be in [1, 2^62], got 0"),
              std::string::npos)
        << e.what();
  }
  TextFeaturizerOptions none;
  none.word_unigrams = none.word_bigrams = none.char_trigrams = false;
  EXPECT_THROW(TextFeaturizer{none}, Error);
}

}  // namespace
}  // namespace recsys::data
