#include "data/judged_csv_writer.h"

#include <cmath>
#include <cstdio>
#include <string_view>

#include "core/error.h"
#include "core/stable_hash.h"

namespace recsys::data {
namespace {

constexpr uint64_t kRaterSalt = StableHash("recsys.judged_csv.raters");

// P(score 1), P(score 1 or 2) of one rater, per grade I, C, S, E.
constexpr double kRaterCdf[4][2] = {{0.80, 0.97}, {0.50, 0.92}, {0.50, 0.90}, {0.04, 0.34}};

// Appends a CSV field, quoted when it holds a comma, a quote or a line break.
void AppendField(std::string_view field, std::string* out) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(field);
    return;
  }
  out->push_back('"');
  for (const char c : field) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

// numerator / denominator rounded half up to two decimals, without trailing zeros:
// 8 / 3 -> "2.67", 10 / 4 -> "2.5", 9 / 3 -> "3". Integer arithmetic: the same on every machine.
std::string Decimal(int64_t numerator, int64_t denominator) {
  const int64_t hundredths = (200 * numerator + denominator) / (2 * denominator);
  std::string text = std::to_string(hundredths / 100);
  const int64_t fraction = hundredths % 100;
  if (fraction != 0) {
    text += '.';
    text += static_cast<char>('0' + fraction / 10);
    if (fraction % 10 != 0) text += static_cast<char>('0' + fraction % 10);
  }
  return text;
}

void WriteAtomically(const std::string& path, const std::string& content) {
  const std::string temporary = path + ".tmp";
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  RECSYS_CHECK(file != nullptr, path << ": cannot create " << temporary);
  const bool written = std::fwrite(content.data(), 1, content.size(), file) == content.size();
  const bool closed = std::fclose(file) == 0;
  if (!written || !closed || std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    RECSYS_THROW(path << ": cannot write the file");
  }
}

}  // namespace

void WriteJudgedCsv(const Dataset& dataset, uint64_t seed, const std::string& path) {
  const Judgments& pairs = dataset.pairs;
  std::string out = "query_id,query,product_id,product_title,relevance\n";
  out.reserve(pairs.size() * 80);
  const uint64_t key = HashCombine(seed, kRaterSalt);
  for (size_t i = 0; i < pairs.size(); ++i) {
    uint64_t state = HashCombine(key, i);
    const auto uniform = [&state] {
      state += 0x9e3779b97f4a7c15ULL;
      return static_cast<double>(Mix64(state) >> 11) * 0x1.0p-53;
    };
    const double* cdf = kRaterCdf[static_cast<int>(pairs.grade[i])];
    const int raters = uniform() < 0.01 ? 4 : 3;
    int64_t sum = 0;
    for (int r = 0; r < raters; ++r) {
      const double u = uniform();
      sum += u < cdf[0] ? 1 : u < cdf[1] ? 2 : 3;
    }
    const int32_t q = pairs.query[i], p = pairs.product[i];
    AppendField(dataset.queries.id[q], &out);
    out.push_back(',');
    AppendField(dataset.queries.text[q], &out);
    out.push_back(',');
    AppendField(dataset.products.id[p], &out);
    out.push_back(',');
    AppendField(dataset.products.title[p], &out);
    out.push_back(',');
    out += Decimal(sum, raters);
    out.push_back('\n');
  }
  WriteAtomically(path, out);
}

void WriteCatalogCsv(const Dataset& dataset, const std::string& path) {
  const Products& products = dataset.products;
  std::string out = "product_id,product_title,brand,colour,category,price,rating\n";
  out.reserve(products.size() * 100);
  for (size_t i = 0; i < products.size(); ++i) {
    AppendField(products.id[i], &out);
    out.push_back(',');
    AppendField(products.title[i], &out);
    out.push_back(',');
    AppendField(dataset.brands[products.brand[i]], &out);
    out.push_back(',');
    AppendField(dataset.colours[products.colour[i]], &out);
    out.push_back(',');
    AppendField(dataset.categories[products.category[i]], &out);
    out.push_back(',');
    // Prices are whole cents and ratings tenths of a star, so rounding recovers them exactly.
    if (!std::isnan(products.price[i])) {
      out += Decimal(std::llround(static_cast<double>(products.price[i]) * 100), 100);
    }
    out.push_back(',');
    if (!std::isnan(products.rating[i])) {
      out += Decimal(std::llround(static_cast<double>(products.rating[i]) * 10), 10);
    }
    out.push_back('\n');
  }
  WriteAtomically(path, out);
}

}  // namespace recsys::data
