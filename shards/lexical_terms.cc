#include "shards/lexical_terms.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "data/text_featurizer.h"

namespace recsys::shards {
namespace {
bool EndsWith(const std::string& word, std::string_view suffix) {
  return word.size() >= suffix.size() &&
         word.compare(word.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

const char* StemmerName(Stemmer stemmer) {
  switch (stemmer) {
    case Stemmer::kNone:
      return "none";
    case Stemmer::kPlural:
      return "plural";
  }
  return "?";
}

Stemmer ParseStemmer(const std::string& name) {
  for (Stemmer s : {Stemmer::kNone, Stemmer::kPlural}) {
    if (name == StemmerName(s)) return s;
  }
  RECSYS_THROW("unknown stemmer '" << name << "' (known: none, plural)");
}

std::string Stem(std::string word, Stemmer stemmer) {
  if (stemmer == Stemmer::kNone || word.size() <= 3 ||
      std::any_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return word;
  }
  if (word.size() > 4 && EndsWith(word, "ies") && !EndsWith(word, "eies") &&
      !EndsWith(word, "aies")) {
    word.replace(word.size() - 3, 3, "y");
  } else if (EndsWith(word, "sses") || EndsWith(word, "xes") || EndsWith(word, "ches") ||
             EndsWith(word, "shes") || EndsWith(word, "zzes")) {
    word.resize(word.size() - 2);
  } else if (EndsWith(word, "es") && !EndsWith(word, "aes") && !EndsWith(word, "ees") &&
             !EndsWith(word, "oes")) {
    word.pop_back();
  } else if (EndsWith(word, "s") && !EndsWith(word, "us") && !EndsWith(word, "ss")) {
    word.pop_back();
  }
  return word;
}

std::vector<std::string> LexicalTerms(std::string_view text, Stemmer stemmer) {
  std::vector<std::string> words = data::TextFeaturizer::Tokenize(text);
  for (std::string& w : words) w = Stem(std::move(w), stemmer);
  return words;
}

void CheckBm25Parameters(const Bm25Parameters& p) {
  RECSYS_CHECK(p.k1 >= 0 && p.b >= 0 && p.b <= 1,
               "BM25 needs k1 >= 0 and 0 <= b <= 1, got k1=" << p.k1 << " b=" << p.b);
}

double Bm25Idf(int64_t n, int64_t df) {
  return std::log(1.0 + (static_cast<double>(n) - df + 0.5) / (df + 0.5));
}

double Bm25TermFactor(int64_t tf, int64_t length, double mean_length, const Bm25Parameters& p) {
  const double t = static_cast<double>(tf);
  return t * (p.k1 + 1.0) / (t + p.k1 * (1.0 - p.b + p.b * length / mean_length));
}

}  // namespace recsys::shards
