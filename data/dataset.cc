#include "data/dataset.h"

#include <cmath>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <unordered_set>

#include "core/error.h"
#include "core/hdf5_file.h"

namespace recsys::data {

char GradeLetter(Grade grade) { return "ICSE"[static_cast<int>(grade)]; }

const char* SplitName(Split split) {
  static const char* kNames[] = {"train", "valid", "test"};
  return kNames[static_cast<int>(split)];
}

namespace {
template <typename T>
void AppendTo(std::vector<T>& to, const std::vector<T>& from) {
  to.insert(to.end(), from.begin(), from.end());
}
}  // namespace

void Products::Append(const Products& other) {
  AppendTo(id, other.id);
  AppendTo(title, other.title);
  AppendTo(brand, other.brand);
  AppendTo(colour, other.colour);
  AppendTo(category, other.category);
  AppendTo(price, other.price);
  AppendTo(rating, other.rating);
  AppendTo(release_day, other.release_day);
}

void Queries::Append(const Queries& other) {
  AppendTo(id, other.id);
  AppendTo(text, other.text);
  AppendTo(split, other.split);
}

void Judgments::Append(const Judgments& other, int32_t query_offset, int32_t product_offset) {
  for (int32_t q : other.query) query.push_back(q + query_offset);
  for (int32_t p : other.product) product.push_back(p + product_offset);
  AppendTo(grade, other.grade);
  AppendTo(click, other.click);
  AppendTo(position, other.position);
}

namespace {

void CheckSize(size_t size, size_t expected, const char* column) {
  RECSYS_CHECK(size == expected,
               "column '" << column << "' has " << size << " rows, expected " << expected);
}

void CheckIndices(const std::vector<int32_t>& indices, size_t limit, const char* column) {
  for (size_t i = 0; i < indices.size(); ++i) {
    RECSYS_CHECK(indices[i] >= 0 && static_cast<size_t>(indices[i]) < limit,
                 "column '" << column << "' row " << i << ": index " << indices[i]
                            << " is outside [0, " << limit << ")");
  }
}

void CheckUnique(const std::vector<std::string>& ids, const char* column) {
  std::unordered_set<std::string_view> seen;
  seen.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    RECSYS_CHECK(seen.insert(ids[i]).second,
                 "column '" << column << "' row " << i << ": duplicate id '" << ids[i] << "'");
  }
}

}  // namespace

void Dataset::Validate() const {
  for (const auto* vocab : {&brands, &colours, &categories}) {
    RECSYS_CHECK(!vocab->empty() && vocab->front().empty(),
                 "vocabularies must start with the unknown entry \"\"");
  }
  const size_t n = products.size();
  CheckSize(products.title.size(), n, "products/title");
  CheckSize(products.brand.size(), n, "products/brand");
  CheckSize(products.colour.size(), n, "products/colour");
  CheckSize(products.category.size(), n, "products/category");
  CheckSize(products.price.size(), n, "products/price");
  CheckSize(products.rating.size(), n, "products/rating");
  CheckSize(products.release_day.size(), n, "products/release_day");
  CheckIndices(products.brand, brands.size(), "products/brand");
  CheckIndices(products.colour, colours.size(), "products/colour");
  CheckIndices(products.category, categories.size(), "products/category");
  CheckUnique(products.id, "products/id");
  for (size_t i = 0; i < n; ++i) {
    float rating = products.rating[i];
    RECSYS_CHECK(std::isnan(rating) || (rating >= 1.0f && rating <= 5.0f),
                 "products/rating row " << i << ": " << rating << " is outside [1, 5]");
    float price = products.price[i];
    RECSYS_CHECK(std::isnan(price) || price >= 0.0f,
                 "products/price row " << i << ": negative price " << price);
  }

  const size_t q = queries.size();
  CheckSize(queries.text.size(), q, "queries/text");
  CheckSize(queries.split.size(), q, "queries/split");
  CheckUnique(queries.id, "queries/id");
  for (size_t i = 0; i < q; ++i) {
    RECSYS_CHECK(static_cast<int>(queries.split[i]) <= static_cast<int>(Split::kTest),
                 "queries/split row " << i << ": invalid split " << int(queries.split[i]));
  }

  const size_t p = pairs.size();
  CheckSize(pairs.product.size(), p, "pairs/product");
  CheckSize(pairs.grade.size(), p, "pairs/grade");
  CheckSize(pairs.click.size(), p, "pairs/click");
  CheckSize(pairs.position.size(), p, "pairs/position");
  CheckIndices(pairs.query, q, "pairs/query");
  CheckIndices(pairs.product, n, "pairs/product");
  for (size_t i = 0; i < p; ++i) {
    RECSYS_CHECK(static_cast<int>(pairs.grade[i]) <= static_cast<int>(Grade::kExact),
                 "pairs/grade row " << i << ": invalid grade " << int(pairs.grade[i]));
    // Grouped by query: a query's pairs are contiguous, queries in increasing row order.
    RECSYS_CHECK(i == 0 || pairs.query[i] >= pairs.query[i - 1],
                 "pairs are not grouped by query at row " << i);
  }
}

std::vector<uint8_t> ColdStartProducts(const Dataset& d) {
  std::vector<uint8_t> cold(d.products.size(), 1);
  for (size_t i = 0; i < d.pairs.size(); ++i) {
    if (d.queries.split[d.pairs.query[i]] != Split::kTest) cold[d.pairs.product[i]] = 0;
  }
  return cold;
}

void PrintSummary(const Dataset& d, std::ostream& out) {
  auto percent = [](size_t part, size_t whole) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(1) << (whole ? 100.0 * part / whole : 0.0) << "%";
    return s.str();
  };
  const size_t n = d.products.size();
  size_t priced = 0, rated = 0, dated = 0, branded = 0, coloured = 0, categorised = 0;
  double title_bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    priced += !std::isnan(d.products.price[i]);
    rated += !std::isnan(d.products.rating[i]);
    dated += d.products.release_day[i] != kUnknownDay;
    branded += d.products.brand[i] != 0;
    coloured += d.products.colour[i] != 0;
    categorised += d.products.category[i] != 0;
    title_bytes += d.products.title[i].size();
  }
  size_t per_split[3] = {0, 0, 0};
  for (Split s : d.queries.split) ++per_split[static_cast<int>(s)];
  size_t per_grade[4] = {0, 0, 0, 0}, clicks = 0;
  std::vector<bool> judged(n, false);
  for (size_t i = 0; i < d.pairs.size(); ++i) {
    ++per_grade[static_cast<int>(d.pairs.grade[i])];
    clicks += d.pairs.click[i];
    judged[d.pairs.product[i]] = true;
  }
  const std::vector<uint8_t> cold = ColdStartProducts(d);
  size_t judged_count = 0, cold_judged = 0;
  for (size_t i = 0; i < n; ++i) {
    judged_count += judged[i];
    cold_judged += judged[i] && cold[i];
  }

  out << "source:     " << d.source << "\n";
  out << "products:   " << n << " (mean title " << std::fixed << std::setprecision(1)
      << (n ? title_bytes / n : 0.0) << " bytes; with brand " << percent(branded, n) << ", colour "
      << percent(coloured, n) << ", category " << percent(categorised, n) << ", price "
      << percent(priced, n) << ", rating " << percent(rated, n) << ", release date "
      << percent(dated, n) << ")\n";
  out << "vocabulary: " << d.brands.size() - 1 << " brands, " << d.colours.size() - 1
      << " colours, " << d.categories.size() - 1 << " categories\n";
  out << "queries:    " << d.queries.size() << " (train " << per_split[0] << ", valid "
      << per_split[1] << ", test " << per_split[2] << ")\n";
  const size_t p = d.pairs.size();
  out << "pairs:      " << p << " (E " << percent(per_grade[3], p) << ", S "
      << percent(per_grade[2], p) << ", C " << percent(per_grade[1], p) << ", I "
      << percent(per_grade[0], p) << "); clicks " << clicks << " (" << percent(clicks, p) << ")\n";
  out << "judged:     " << judged_count << " products; " << cold_judged
      << " of them only in test queries (cold start)\n";
}

// ---- dataset.h5 -----------------------------------------------------------------------------
namespace {
constexpr int64_t kFormatVersion = 1;

template <typename Enum>
std::vector<uint8_t> ToBytes(const std::vector<Enum>& values) {
  std::vector<uint8_t> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) out[i] = static_cast<uint8_t>(values[i]);
  return out;
}

template <typename Enum>
std::vector<Enum> FromBytes(const std::vector<uint8_t>& values) {
  std::vector<Enum> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) out[i] = static_cast<Enum>(values[i]);
  return out;
}
}  // namespace

void WriteDataset(const Dataset& d, const std::string& path) {
  d.Validate();
  H5Writer w(path);
  w.WriteStrings("vocab/brands", d.brands);
  w.WriteStrings("vocab/colours", d.colours);
  w.WriteStrings("vocab/categories", d.categories);

  w.WriteStrings("products/id", d.products.id);
  w.WriteStrings("products/title", d.products.title);
  w.Write("products/brand", d.products.brand);
  w.Write("products/colour", d.products.colour);
  w.Write("products/category", d.products.category);
  w.Write("products/price", d.products.price);
  w.Write("products/rating", d.products.rating);
  w.Write("products/release_day", d.products.release_day);

  w.WriteStrings("queries/id", d.queries.id);
  w.WriteStrings("queries/text", d.queries.text);
  w.Write("queries/split", ToBytes(d.queries.split));

  w.Write("pairs/query", d.pairs.query);
  w.Write("pairs/product", d.pairs.product);
  w.Write("pairs/grade", ToBytes(d.pairs.grade));
  w.Write("pairs/click", d.pairs.click);
  w.Write("pairs/position", d.pairs.position);

  w.SetFormat("recsys-dataset", kFormatVersion);
  w.SetAttribute("/", "source", d.source);
  w.Commit();
}

Dataset ReadDataset(const std::string& path) {
  H5Reader r(path);
  r.CheckFormat("recsys-dataset", kFormatVersion);
  Dataset d;
  d.brands = r.ReadStrings("vocab/brands");
  d.colours = r.ReadStrings("vocab/colours");
  d.categories = r.ReadStrings("vocab/categories");

  d.products.id = r.ReadStrings("products/id");
  d.products.title = r.ReadStrings("products/title");
  d.products.brand = r.Read<int32_t>("products/brand");
  d.products.colour = r.Read<int32_t>("products/colour");
  d.products.category = r.Read<int32_t>("products/category");
  d.products.price = r.Read<float>("products/price");
  d.products.rating = r.Read<float>("products/rating");
  d.products.release_day = r.Read<int32_t>("products/release_day");

  d.queries.id = r.ReadStrings("queries/id");
  d.queries.text = r.ReadStrings("queries/text");
  d.queries.split = FromBytes<Split>(r.Read<uint8_t>("queries/split"));

  d.pairs.query = r.Read<int32_t>("pairs/query");
  d.pairs.product = r.Read<int32_t>("pairs/product");
  d.pairs.grade = FromBytes<Grade>(r.Read<uint8_t>("pairs/grade"));
  d.pairs.click = r.Read<uint8_t>("pairs/click");
  d.pairs.position = r.Read<int16_t>("pairs/position");

  d.source = r.StringAttribute("/", "source");
  try {
    d.Validate();
  } catch (const Error& e) {
    RECSYS_THROW(path << ": invalid dataset: " << e.what());
  }
  return d;
}

}  // namespace recsys::data
