#pragma once
// Hashed bag-of-features for short texts (queries and product titles), the input of both towers
// of the two-tower model. A text becomes a list of bucket ids in [0, num_buckets): word unigrams,
// word bigrams and character trigrams, each kind hashed with its own seed into one shared bucket
// space. The ids depend only on the text and the options (recsys::StableHash), so every machine
// and rank computes the same ids and a trained embedding table stays valid everywhere.
//
// Ids are int64_t because that is the index type torch::nn::EmbeddingBag takes by default: the
// vectors can be wrapped by torch::from_blob(..., torch::kLong) without a conversion pass.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace recsys::data {

struct TextFeaturizerOptions {
  int64_t num_buckets = int64_t{1} << 18;  // ids are in [0, num_buckets)
  bool word_unigrams = true;
  bool word_bigrams = true;   // adjacent word pairs
  bool char_trigrams = true;  // per word, with '#' marking its start and end
};

// Many texts' ids in CSR form, as torch::nn::EmbeddingBag(input, offsets) takes them with
// include_last_offset = false: text i's ids are ids[offsets[i], offsets[i + 1]), where
// offsets[n] is taken to be ids.size(). A text without features (empty or punctuation only)
// has an empty range, which EmbeddingBag turns into a zero vector.
struct FeatureBatch {
  std::vector<int64_t> ids;      // size: total number of ids
  std::vector<int64_t> offsets;  // size n: start of each text's ids, non-decreasing
};

class TextFeaturizer {
 public:
  // Throws recsys::Error unless 1 <= num_buckets <= 2^62 and at least one kind is enabled.
  explicit TextFeaturizer(const TextFeaturizerOptions& options = {});

  const TextFeaturizerOptions& options() const { return options_; }

  // The ids of one text, in this order: word unigrams (one per word), word bigrams (one per
  // adjacent pair), character trigrams (word by word, one per code point of the word), each
  // in text order. Repeated features give repeated ids, so EmbeddingBag's sum counts them.
  std::vector<int64_t> Featurize(std::string_view text) const;

  // Appends Featurize(text) to *ids, so that callers can build their own batches without
  // a temporary vector per text.
  void AppendFeatures(std::string_view text, std::vector<int64_t>* ids) const;

  // Featurize() of every text, concatenated; offsets.size() == texts.size().
  FeatureBatch FeaturizeBatch(const std::vector<std::string>& texts) const;

  // The words the features are built from: ASCII letters are lower-cased, every ASCII byte
  // that is not a letter or digit separates words, and bytes >= 0x80 (UTF-8 multi-byte
  // sequences) count as letters and are kept as they are, so "Café WH-1000XM4" gives
  // {"café", "wh", "1000xm4"} and text without spaces (Japanese) is one word.
  static std::vector<std::string> Tokenize(std::string_view text);

  // The character trigrams of one word (as Tokenize returns it) with boundary markers:
  // "café" -> {"#ca", "caf", "afé", "fé#"}. Counted in UTF-8 code points, so a word of L code
  // points has L trigrams; a stray continuation byte stays with the code point before it.
  static std::vector<std::string> CharTrigrams(std::string_view word);

 private:
  TextFeaturizerOptions options_;
};

}  // namespace recsys::data
