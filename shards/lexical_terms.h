#pragma once
// What the lexical index sees of a text, and the BM25 formula: the one place both are defined,
// for the index builder, the query side and any evaluation that scores by BM25.
//
// Terms: data::TextFeaturizer::Tokenize's words (ASCII lower-cased; split at every ASCII byte
// that is not a letter or digit; UTF-8 sequences kept as letters), each then stemmed.
//
// BM25 (Okapi, Lucene's idf, which is never negative). For a query with distinct terms t the
// score of product d is
//   sum_t idf(t) * tf(t, d) * (k1 + 1) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl)),
//   idf(t) = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5)),
// with tf the term's count in d's title, |d| the title's term count, avgdl the mean of |d| over
// the catalogue, N the catalogue size and df(t) the number of titles holding t. N, df and avgdl
// are the whole catalogue's, whichever rank holds d.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace recsys::shards {

enum class Stemmer {
  kNone,
  // English plurals only: Harman's "S" stemmer ("-ies" -> "-y" except "-eies", "-aies"; "-es" ->
  // "-e" except "-aes", "-ees", "-oes"; "-s" -> "" except "-us", "-ss"), where "-sses", "-xes",
  // "-ches", "-shes", "-zzes" lose "-es" ("boxes" -> "box", "watches" -> "watch") and "-ies"
  // needs five bytes ("ties" -> "tie"). Words of three bytes or fewer and words with a digit
  // stay as they are.
  kPlural,
};

// "none", "plural"; ParseStemmer throws recsys::Error for any other name.
const char* StemmerName(Stemmer stemmer);
Stemmer ParseStemmer(const std::string& name);

// One word, as Tokenize returns it, stemmed.
std::string Stem(std::string word, Stemmer stemmer);

// The terms of a text, in text order, repeats kept.
std::vector<std::string> LexicalTerms(std::string_view text, Stemmer stemmer);

// Defaults measured on the validation queries (README, "Lexical index"): b 0.5 rather than the
// usual 0.75, since titles are short and their length says little about their topic.
struct Bm25Parameters {
  double k1 = 1.2;  // >= 0: how fast repeated terms saturate
  double b = 0.5;   // in [0, 1]: how much a long title is penalised
};

// Throws recsys::Error unless k1 >= 0 and 0 <= b <= 1.
void CheckBm25Parameters(const Bm25Parameters& parameters);

// idf(t) for a catalogue of n products of which df hold the term (1 <= df <= n).
double Bm25Idf(int64_t n, int64_t df);

// The term-frequency factor tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / mean_length)) of a
// term occurring tf >= 1 times in a title of length terms; mean_length > 0.
double Bm25TermFactor(int64_t tf, int64_t length, double mean_length, const Bm25Parameters& p);

}  // namespace recsys::shards
