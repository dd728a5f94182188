#include "data/judgment_loaders.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "core/stable_hash.h"

namespace recsys::data {
namespace {

// ESCI's labels, letters and words, in LabelMap::Parse's syntax.
constexpr char kEsciLabels[] = "E=3,Exact=3,S=2,Substitute=2,C=1,Complement=1,I=0,Irrelevant=0";

// The column names of one file layout; an empty name marks an optional column left unused.
struct Layout {
  std::string query_id, query, product_id, title, brand, colour, label, split;
};

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

// Index of the column called name; -1 for an optional column whose name is empty.
int Column(const CsvReader& reader, const std::string& name, const char* role, bool required) {
  if (name.empty()) {
    RECSYS_CHECK(!required, "no column name given for the " << role << " of " << reader.path());
    return -1;
  }
  const int index = reader.FindColumn(name);
  if (index < 0) {
    // The first columns only: a header can be megabytes long.
    constexpr size_t kListed = 20;
    const std::vector<std::string>& header = reader.header();
    std::string columns;
    for (size_t i = 0; i < std::min(header.size(), kListed); ++i) {
      columns += (i ? ", " : "") + Excerpt(header[i], 40);
    }
    if (header.size() > kListed) {
      columns += ", ... (" + std::to_string(header.size()) + " columns)";
    }
    RECSYS_THROW(reader.Where() << ": no column '" << Excerpt(name) << "' (" << role
                                << ") in the header; its columns are: " << columns);
  }
  return index;
}

Split ParseSplit(const std::string& value, const CsvReader& reader, const std::string& column) {
  const std::string lower = Lower(value);
  if (lower == "train") return Split::kTrain;
  if (lower == "valid") return Split::kValid;
  if (lower == "test") return Split::kTest;
  RECSYS_THROW(reader.Where() << ": unknown split '" << Excerpt(value) << "' in column '" << column
                              << "' (expected train, valid or test)");
}

// A query written as train goes to test when StableHash(key) lies in the first test_fraction
// of the hash range and to valid in the next valid_fraction: deterministic on every machine, and
// a query keeps its split when other queries are added or removed.
Split CarveSplit(std::string_view key, double valid_fraction, double test_fraction) {
  const double unit = static_cast<double>(StableHash(key) >> 11) * 0x1.0p-53;  // in [0, 1)
  if (unit < test_fraction) return Split::kTest;
  if (unit < test_fraction + valid_fraction) return Split::kValid;
  return Split::kTrain;
}

// Index of value in *vocabulary, adding it when new; "" is index 0 (unknown).
int32_t Intern(const std::string& value, std::vector<std::string>* vocabulary,
               std::unordered_map<std::string, int32_t>* index) {
  if (value.empty()) return 0;
  const auto [it, inserted] = index->try_emplace(value, static_cast<int32_t>(vocabulary->size()));
  if (inserted) vocabulary->push_back(value);
  return it->second;
}

// The products of options' catalogue, appended to dataset (which holds no products yet) with
// their vocabularies; *product_rows maps each id to its row.
void LoadCatalog(const CatalogOptions& options, const Layout& judged, Dataset* dataset,
                 std::unordered_map<std::string, int32_t>* product_rows) {
  CsvReader reader(options.path, options.delimiter, options.max_record_bytes);
  const int id_column = Column(
      reader, options.product_id_column.empty() ? judged.product_id : options.product_id_column,
      "catalogue product id", true);
  const int title_column =
      Column(reader, options.title_column.empty() ? judged.title : options.title_column,
             "catalogue title", true);
  const int brand_column = Column(reader, options.brand_column, "catalogue brand", false);
  const int colour_column = Column(reader, options.colour_column, "catalogue colour", false);
  const int category_column = Column(reader, options.category_column, "catalogue category", false);
  const int price_column = Column(reader, options.price_column, "catalogue price", false);
  const int rating_column = Column(reader, options.rating_column, "catalogue rating", false);
  std::unordered_map<std::string, int32_t> brand_ids, colour_ids, category_ids;
  std::vector<int64_t> lines;  // where each product is
  Products& products = dataset->products;
  constexpr float kUnknown = std::numeric_limits<float>::quiet_NaN();
  const auto number = [&](int column, const char* what, double low, double high) {
    if (column < 0 || reader.fields()[column].empty()) return kUnknown;
    const std::string& text = reader.fields()[column];
    double value = 0;
    if (!ParseNumber(text, &value) || value < low || value > high) {
      RECSYS_THROW(reader.Where() << ": " << what << " '" << Excerpt(text) << "' in column '"
                                  << Excerpt(reader.header()[column]) << "' is not a number in ["
                                  << low << ", " << high << "] (empty means unknown)");
    }
    return static_cast<float>(value);
  };
  const std::string none;
  const auto text = [&](int column) -> const std::string& {
    return column >= 0 ? reader.fields()[column] : none;
  };
  while (reader.Next()) {
    const std::string& id = reader.fields()[id_column];
    if (id.empty()) {
      RECSYS_THROW(reader.Where() << ": empty value in column '"
                                  << Excerpt(reader.header()[id_column]) << "'");
    }
    const auto [it, added] = product_rows->try_emplace(id, static_cast<int32_t>(products.size()));
    if (!added) {
      RECSYS_THROW(reader.Where() << ": product id '" << Excerpt(id)
                                  << "' is in the catalogue twice "
                                  << "(also on line " << lines[it->second] << ")");
    }
    lines.push_back(reader.line());
    products.id.push_back(id);
    products.title.push_back(reader.fields()[title_column]);
    products.brand.push_back(Intern(text(brand_column), &dataset->brands, &brand_ids));
    products.colour.push_back(Intern(text(colour_column), &dataset->colours, &colour_ids));
    products.category.push_back(Intern(text(category_column), &dataset->categories, &category_ids));
    products.price.push_back(number(price_column, "price", 0, HUGE_VAL));
    products.rating.push_back(number(rating_column, "rating", 1, 5));
    products.release_day.push_back(kUnknownDay);
  }
  if (products.size() == 0) RECSYS_THROW(reader.Where() << ": no data rows after the header");
}

// Loads any judged-pairs layout; splits the file never names are carved from its train queries
// with the fractions.
Dataset LoadJudgedFile(const std::string& path, char delimiter, int64_t max_record_bytes,
                       const Layout& layout, const LabelMap& labels, double valid_fraction,
                       double test_fraction, const CatalogOptions& catalog) {
  RECSYS_CHECK(valid_fraction >= 0 && test_fraction >= 0 && valid_fraction + test_fraction <= 1,
               "split fractions valid=" << valid_fraction << " test=" << test_fraction
                                        << " must be >= 0 with a sum <= 1");
  Dataset dataset;
  dataset.source = path;
  Queries& queries = dataset.queries;
  Products& products = dataset.products;
  std::unordered_map<std::string, int32_t> query_rows, product_rows, brand_ids, colour_ids;
  if (!catalog.path.empty()) {
    LoadCatalog(catalog, layout, &dataset, &product_rows);
    // Judged-only products extend the catalogue's vocabularies.
    for (size_t i = 1; i < dataset.brands.size(); ++i) {
      brand_ids[dataset.brands[i]] = static_cast<int32_t>(i);
    }
    for (size_t i = 1; i < dataset.colours.size(); ++i) {
      colour_ids[dataset.colours[i]] = static_cast<int32_t>(i);
    }
  }
  const size_t catalogued = products.size();

  CsvReader reader(path, delimiter, max_record_bytes);
  const int query_id_column = Column(reader, layout.query_id, "query id", false);
  const int query_column = Column(reader, layout.query, "query text", true);
  const int product_column = Column(reader, layout.product_id, "product id", true);
  const int title_column = Column(reader, layout.title, "product title", true);
  const int brand_column = Column(reader, layout.brand, "brand", false);
  const int colour_column = Column(reader, layout.colour, "colour", false);
  const int label_column = Column(reader, layout.label, "label", true);
  const int split_column = Column(reader, layout.split, "split", false);
  const int key_column = query_id_column >= 0 ? query_id_column : query_column;

  std::vector<int64_t> query_lines;  // where each query first appears
  struct Row {
    int32_t query, product;
    Grade grade;
    int64_t line;
  };
  std::vector<Row> rows;
  int64_t conflicts = 0, first_conflict_line = 0;
  int64_t catalogue_conflicts = 0, first_catalogue_conflict_line = 0;
  bool named[3] = {false, false, false};  // whether the file names each split
  const std::string no_value;

  while (reader.Next()) {
    const std::vector<std::string>& fields = reader.fields();
    const std::string& key = fields[key_column];
    const std::string& text = fields[query_column];
    const std::string& product_id = fields[product_column];
    if (key.empty() || text.empty() || product_id.empty()) {
      const int empty = key.empty() ? key_column : text.empty() ? query_column : product_column;
      RECSYS_THROW(reader.Where() << ": empty value in column '" << Excerpt(reader.header()[empty])
                                  << "'");
    }
    const Grade grade = labels.Map(fields[label_column], reader.Where(), layout.label);
    const Split written =
        split_column >= 0 ? ParseSplit(fields[split_column], reader, layout.split) : Split::kTrain;

    const auto [query_it, new_query] =
        query_rows.try_emplace(key, static_cast<int32_t>(queries.size()));
    const int32_t query = query_it->second;
    if (new_query) {
      queries.id.push_back(key);
      queries.text.push_back(text);
      queries.split.push_back(written);
      query_lines.push_back(reader.line());
      named[static_cast<int>(written)] = true;
    } else if (queries.text[query] != text) {
      RECSYS_THROW(reader.Where() << ": query id '" << Excerpt(key) << "' has text '"
                                  << Excerpt(text) << "' here but '" << Excerpt(queries.text[query])
                                  << "' on line " << query_lines[query]);
    } else if (queries.split[query] != written) {
      RECSYS_THROW(reader.Where() << ": query '" << Excerpt(key) << "' is in split '"
                                  << SplitName(written) << "' here but '"
                                  << SplitName(queries.split[query]) << "' on line "
                                  << query_lines[query]);
    }

    const std::string& title = fields[title_column];
    const std::string& brand = brand_column >= 0 ? fields[brand_column] : no_value;
    const std::string& colour = colour_column >= 0 ? fields[colour_column] : no_value;
    const auto [product_it, new_product] =
        product_rows.try_emplace(product_id, static_cast<int32_t>(products.size()));
    const int32_t product = product_it->second;
    if (new_product) {
      products.id.push_back(product_id);
      products.title.push_back(title);
      products.brand.push_back(Intern(brand, &dataset.brands, &brand_ids));
      products.colour.push_back(Intern(colour, &dataset.colours, &colour_ids));
      products.category.push_back(0);
      products.price.push_back(std::numeric_limits<float>::quiet_NaN());
      products.rating.push_back(std::numeric_limits<float>::quiet_NaN());
      products.release_day.push_back(kUnknownDay);
    } else if (static_cast<size_t>(product) < catalogued) {
      // The catalogue's fields win; only a title that says otherwise is worth a warning.
      if (!title.empty() && title != products.title[product] && catalogue_conflicts++ == 0) {
        first_catalogue_conflict_line = reader.line();
      }
    } else if (products.title[product] != title ||
               dataset.brands[products.brand[product]] != brand ||
               dataset.colours[products.colour[product]] != colour) {
      if (conflicts++ == 0) first_conflict_line = reader.line();
    }
    rows.push_back({query, product, grade, reader.line()});
  }
  if (rows.empty()) RECSYS_THROW(reader.Where() << ": no data rows after the header");
  if (conflicts > 0) {
    RECSYS_WARN(path << ": " << conflicts << " rows repeat a product id with another title, brand"
                     << " or colour (first on line " << first_conflict_line
                     << "); the first occurrence of each product was kept");
  }
  if (catalogue_conflicts > 0) {
    RECSYS_WARN(path << ": " << catalogue_conflicts << " rows give a product of the catalogue "
                     << catalog.path << " another title (first on line "
                     << first_catalogue_conflict_line << "); the catalogue's fields were kept");
  }

  // Carve the splits the file never names from its train queries.
  const double carve_valid = named[static_cast<int>(Split::kValid)] ? 0.0 : valid_fraction;
  const double carve_test = named[static_cast<int>(Split::kTest)] ? 0.0 : test_fraction;
  if (carve_valid > 0 || carve_test > 0) {
    int64_t moved[3] = {0, 0, 0};
    for (size_t q = 0; q < queries.size(); ++q) {
      if (queries.split[q] != Split::kTrain) continue;
      queries.split[q] = CarveSplit(queries.id[q], carve_valid, carve_test);
      ++moved[static_cast<int>(queries.split[q])];
    }
    if (split_column >= 0) {
      RECSYS_INFO(path << ": column '" << layout.split << "' names no "
                       << (carve_valid > 0 && carve_test > 0 ? "valid or test"
                           : carve_valid > 0                 ? "valid"
                                                             : "test")
                       << " query; carved from the train queries by hash: "
                       << moved[static_cast<int>(Split::kValid)] << " valid, "
                       << moved[static_cast<int>(Split::kTest)] << " test");
    }
  }

  // Group rows by query with a stable counting sort: queries are numbered in order of first
  // appearance, so this keeps both that order and file order within a query.
  std::vector<size_t> group_begin(queries.size() + 1, 0);
  for (const Row& row : rows) ++group_begin[row.query + 1];
  for (size_t q = 0; q < queries.size(); ++q) group_begin[q + 1] += group_begin[q];
  std::vector<size_t> order(rows.size());
  std::vector<size_t> next(group_begin.begin(), group_begin.end() - 1);
  for (size_t i = 0; i < rows.size(); ++i) order[next[rows[i].query]++] = i;

  Judgments& pairs = dataset.pairs;
  std::vector<std::pair<int32_t, int64_t>> group;  // (product, line) of one query's rows
  for (size_t q = 0; q < queries.size(); ++q) {
    group.clear();
    for (size_t k = group_begin[q]; k < group_begin[q + 1]; ++k) {
      const Row& row = rows[order[k]];
      group.emplace_back(row.product, row.line);
      pairs.query.push_back(row.query);
      pairs.product.push_back(row.product);
      pairs.grade.push_back(row.grade);
      pairs.click.push_back(0);
      pairs.position.push_back(-1);
    }
    std::sort(group.begin(), group.end());
    for (size_t k = 1; k < group.size(); ++k) {
      if (group[k].first == group[k - 1].first) {
        RECSYS_THROW(path << ":" << group[k].second << ": query '" << Excerpt(queries.id[q])
                          << "' and product '" << Excerpt(products.id[group[k].first])
                          << "' are judged twice (also on line " << group[k - 1].second << ")");
      }
    }
  }
  dataset.Validate();
  return dataset;
}

}  // namespace

Dataset LoadEsci(const EsciOptions& options) {
  const Layout layout{"query_id",      "query",         "product_id", "product_title",
                      "product_brand", "product_color", "esci_label", "split"};
  return LoadJudgedFile(options.path, options.delimiter, options.max_record_bytes, layout,
                        LabelMap::Parse(kEsciLabels), options.valid_fraction, 0.0, options.catalog);
}

Dataset LoadJudgments(const JudgmentsOptions& options) {
  const Layout layout{options.query_id_column, options.query_column, options.product_id_column,
                      options.title_column,    options.brand_column, options.colour_column,
                      options.label_column,    options.split_column};
  return LoadJudgedFile(options.path, options.delimiter, options.max_record_bytes, layout,
                        options.labels, options.valid_fraction, options.test_fraction,
                        options.catalog);
}

}  // namespace recsys::data
