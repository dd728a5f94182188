#include "data/text_featurizer.h"

#include "core/error.h"
#include "core/stable_hash.h"

namespace recsys::data {
namespace {

// One seed per feature kind, so that the word "ab" and the trigram "#ab" (or a unigram and a
// bigram with the same bytes) do not always share a bucket. Changing any of these changes every
// id and invalidates every trained model: tests/data/text_featurizer_test.cc pins them.
constexpr uint64_t kUnigramSeed = StableHash("recsys.text.word_unigram");
constexpr uint64_t kBigramSeed = StableHash("recsys.text.word_bigram");
constexpr uint64_t kTrigramSeed = StableHash("recsys.text.char_trigram");

// Cannot occur inside a word (Tokenize splits on it), so the padded trigrams are unambiguous.
constexpr char kBoundary = '#';

bool IsWordByte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

bool IsContinuationByte(unsigned char c) { return (c & 0xC0) == 0x80; }

// Calls visit(trigram) for each boundary-marked character trigram of word, in order. padded
// and starts are scratch buffers, reused across calls to avoid allocating per word.
template <typename Visit>
void ForEachTrigram(std::string_view word, std::string* padded, std::vector<size_t>* starts,
                    Visit visit) {
  if (word.empty()) return;
  padded->assign(1, kBoundary).append(word).push_back(kBoundary);
  // Byte offsets of the code points, then the end.
  starts->clear();
  for (size_t i = 0; i < padded->size(); ++i) {
    if (i == 0 || !IsContinuationByte(static_cast<unsigned char>((*padded)[i]))) {
      starts->push_back(i);
    }
  }
  starts->push_back(padded->size());
  // Trigram j spans code points j, j + 1, j + 2.
  const std::string_view bytes = *padded;
  for (size_t j = 0; j + 3 < starts->size(); ++j) {
    visit(bytes.substr((*starts)[j], (*starts)[j + 3] - (*starts)[j]));
  }
}

}  // namespace

TextFeaturizer::TextFeaturizer(const TextFeaturizerOptions& options) : options_(options) {
  RECSYS_CHECK(options.num_buckets >= 1 && options.num_buckets <= (int64_t{1} << 62),
               "num_buckets must be in [1, 2^62], got " << options.num_buckets);
  RECSYS_CHECK(options.word_unigrams || options.word_bigrams || options.char_trigrams,
               "at least one feature kind (word unigrams, word bigrams, char trigrams) must be on");
}

std::vector<std::string> TextFeaturizer::Tokenize(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsWordByte(c)) {
      word.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : ch);
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

std::vector<std::string> TextFeaturizer::CharTrigrams(std::string_view word) {
  std::vector<std::string> trigrams;
  std::string padded;
  std::vector<size_t> starts;
  ForEachTrigram(word, &padded, &starts,
                 [&](std::string_view trigram) { trigrams.emplace_back(trigram); });
  return trigrams;
}

void TextFeaturizer::AppendFeatures(std::string_view text, std::vector<int64_t>* ids) const {
  const auto bucket = [this](std::string_view bytes, uint64_t seed) {
    return static_cast<int64_t>(StableHash(bytes, seed) %
                                static_cast<uint64_t>(options_.num_buckets));
  };
  const std::vector<std::string> words = Tokenize(text);
  if (options_.word_unigrams) {
    for (const std::string& w : words) ids->push_back(bucket(w, kUnigramSeed));
  }
  if (options_.word_bigrams) {
    std::string pair;
    for (size_t i = 0; i + 1 < words.size(); ++i) {
      // A space cannot occur inside a word, so "a b" + "c" and "a" + "b c" differ.
      pair.assign(words[i]).append(" ").append(words[i + 1]);
      ids->push_back(bucket(pair, kBigramSeed));
    }
  }
  if (options_.char_trigrams) {
    std::string padded;
    std::vector<size_t> starts;
    for (const std::string& w : words) {
      ForEachTrigram(w, &padded, &starts, [&](std::string_view trigram) {
        ids->push_back(bucket(trigram, kTrigramSeed));
      });
    }
  }
}

std::vector<int64_t> TextFeaturizer::Featurize(std::string_view text) const {
  std::vector<int64_t> ids;
  AppendFeatures(text, &ids);
  return ids;
}

FeatureBatch TextFeaturizer::FeaturizeBatch(const std::vector<std::string>& texts) const {
  FeatureBatch batch;
  batch.offsets.reserve(texts.size());
  for (const std::string& text : texts) {
    batch.offsets.push_back(static_cast<int64_t>(batch.ids.size()));
    AppendFeatures(text, &batch.ids);
  }
  return batch;
}

}  // namespace recsys::data
