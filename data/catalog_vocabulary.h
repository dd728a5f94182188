#pragma once
// The hand-written vocabulary behind the synthetic catalogue (data/catalog_generator.h): a
// category tree shaped like Amazon's, with each leaf's product types and their synonyms,
// attribute phrases, size or pack phrases, typical price range and complementary leaves;
// colours with synonyms; and a few thousand brand names made from syllables. It has no
// options and no randomness that depends on a seed: every generator sees the same vocabulary.
//
// Indices here are 0-based and have no "unknown" entry; Dataset vocabularies put "" at 0, so
// a Dataset index is the index here plus one.

#include <cstdint>
#include <string>
#include <vector>

namespace recsys::data {

// One leaf of the category tree and everything needed to write its products and the queries
// that look for them. All phrases are lower case ASCII.
struct LeafCategory {
  std::string path;  // "Electronics > Audio > Headphones"
  int weight = 1;    // relative share of the catalogue
  // Product types; each is a list of synonyms with the usual title word first:
  // {{"headphones", "headset", "earphones"}, {"earbuds", "ear buds"}}.
  std::vector<std::vector<std::string>> nouns;
  // Attribute groups; the phrases within a group exclude each other (a product is "wired" or
  // "wireless", never both): {{"wireless", "wired"}, {"noise cancelling"}}.
  std::vector<std::vector<std::string>> attributes;
  std::vector<std::string> sizes;       // size or pack phrases; a product has at most one
  float price_low = 1, price_high = 2;  // typical price range in USD (roughly +-2 sigma)
  bool coloured = false;                // whether its products come in colours
  std::vector<int32_t> complements;     // leaves bought with it (phone -> phone case)
  std::vector<int32_t> brands;          // indices into brands(), the most common first
  // Per product type (same order as nouns), phrases shoppers type that no title of this leaf
  // contains: none of their words is a word of the leaf's nouns, attributes, sizes, brands or
  // of any colour name. Paraphrase queries use them.
  std::vector<std::vector<std::string>> paraphrases;
};

class CatalogVocabulary {
 public:
  // Builds the vocabulary (a few milliseconds). Deterministic: no seed, no global state.
  CatalogVocabulary();

  const std::vector<LeafCategory>& leaves() const { return leaves_; }  // 40-80 leaves
  // Colours, each a list of synonyms with the usual title word first: {"grey", "gray"}.
  const std::vector<std::vector<std::string>>& colours() const { return colours_; }
  const std::vector<std::string>& brands() const { return brands_; }  // distinct, capitalised

 private:
  std::vector<LeafCategory> leaves_;
  std::vector<std::vector<std::string>> colours_;
  std::vector<std::string> brands_;
};

}  // namespace recsys::data
