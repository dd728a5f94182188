#pragma once
// The in-memory dataset: a product catalogue, queries and judged (query, product) pairs, stored
// column-wise (one vector per field) so that it maps one-to-one onto dataset.h5 and onto MPI
// buffers. The file layout is documented in README.md ("dataset.h5").

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace recsys::data {

// ESCI relevance grades; the numeric value orders them (higher = more relevant).
enum class Grade : uint8_t { kIrrelevant = 0, kComplement = 1, kSubstitute = 2, kExact = 3 };
enum class Split : uint8_t { kTrain = 0, kValid = 1, kTest = 2 };

char GradeLetter(Grade grade);       // 'I', 'C', 'S', 'E'
const char* SplitName(Split split);  // "train", "valid", "test"

// Marks a missing release day (missing price and rating are NaN).
constexpr int32_t kUnknownDay = INT32_MIN;

struct Products {
  std::vector<std::string> id;       // external id (ASIN-like), unique
  std::vector<std::string> title;    // UTF-8
  std::vector<int32_t> brand;        // index into Dataset::brands; 0 = unknown
  std::vector<int32_t> colour;       // index into Dataset::colours; 0 = unknown
  std::vector<int32_t> category;     // index into Dataset::categories; 0 = unknown
  std::vector<float> price;          // US dollars; NaN = unknown
  std::vector<float> rating;         // mean stars in [1, 5]; NaN = unknown
  std::vector<int32_t> release_day;  // days since 1970-01-01; kUnknownDay = unknown

  size_t size() const { return id.size(); }
  void Append(const Products& other);
};

struct Queries {
  std::vector<std::string> id;    // external id, unique
  std::vector<std::string> text;  // UTF-8, as the shopper typed it
  std::vector<Split> split;

  size_t size() const { return id.size(); }
  void Append(const Queries& other);
};

// Judged pairs, one row per (query, product) judgement, grouped by query.
struct Judgments {
  std::vector<int32_t> query;    // row in Queries
  std::vector<int32_t> product;  // row in Products
  std::vector<Grade> grade;
  std::vector<uint8_t> click;     // 1 if the shopper clicked it (synthetic data); 0 otherwise
  std::vector<int16_t> position;  // 0-based position shown in the result list; -1 = unknown

  size_t size() const { return query.size(); }
  // Appends other's rows with their query / product rows shifted by the given offsets.
  void Append(const Judgments& other, int32_t query_offset, int32_t product_offset);
};

struct Dataset {
  // Vocabularies of the categorical product fields; entry 0 is always "" (unknown).
  // Categories are full paths: "Electronics > Audio > Headphones".
  std::vector<std::string> brands{""}, colours{""}, categories{""};
  Products products;
  Queries queries;
  Judgments pairs;
  std::string source;  // where it came from: "synthetic seed=7 products=..." or the input path

  // Throws recsys::Error naming the first inconsistency (column sizes, out-of-range indices,
  // duplicate ids). Called after loading and before writing.
  void Validate() const;
};

// Per product row (size products.size()): 1 for a cold-start product, one never judged for a
// train or valid query (the model never sees it while training or selecting), 0 otherwise.
std::vector<uint8_t> ColdStartProducts(const Dataset& dataset);

// Human-readable counts (products, queries per split, pairs per grade, clicks, vocabularies,
// cold-start products, field coverage), as printed by `recsys_data inspect`.
void PrintSummary(const Dataset& dataset, std::ostream& out);

// The dataset.h5 format. Write is atomic (temporary file, then rename); Read validates.
void WriteDataset(const Dataset& dataset, const std::string& path);
Dataset ReadDataset(const std::string& path);

}  // namespace recsys::data
