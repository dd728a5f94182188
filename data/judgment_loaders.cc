#include "data/judgment_loaders.h"

#include <algorithm>
#include <cctype>
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

// ESCI's labels, letters and words, in ParseLabelMap's syntax.
constexpr char kEsciLabels[] = "E=3,Exact=3,S=2,Substitute=2,C=1,Complement=1,I=0,Irrelevant=0";
// The labels of a file without a label map: the grades themselves.
constexpr char kGradeLabels[] = "0=0,1=1,2=2,3=3";

// The column names of one file layout; an empty name marks an optional column left unused.
struct Layout {
  std::string query_id, query, product_id, title, brand, colour, label, split;
};

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

std::string_view Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

// Index of the column called name; -1 for an optional column whose name is empty.
int Column(const CsvReader& reader, const std::string& name, const char* role, bool required) {
  if (name.empty()) {
    RECSYS_CHECK(!required, "no column name given for the " << role << " of " << reader.path());
    return -1;
  }
  const int index = reader.FindColumn(name);
  if (index < 0) {
    std::string columns;
    for (const std::string& column : reader.header()) {
      columns += (columns.empty() ? "" : ", ") + column;
    }
    RECSYS_THROW(reader.Where() << ": no column '" << name << "' (" << role
                                << ") in the header; its columns are: " << columns);
  }
  return index;
}

Grade ParseLabel(const std::map<std::string, Grade>& labels, const std::string& label,
                 const CsvReader& reader, const std::string& column) {
  const auto it = labels.find(Lower(label));
  if (it == labels.end()) {
    std::string known;
    for (const auto& entry : labels) known += (known.empty() ? "" : ", ") + entry.first;
    RECSYS_THROW(reader.Where() << ": unknown label '" << label << "' in column '" << column
                                << "' (known labels, case-insensitive: " << known << ")");
  }
  return it->second;
}

Split ParseSplit(const std::string& value, const CsvReader& reader, const std::string& column) {
  const std::string lower = Lower(value);
  if (lower == "train") return Split::kTrain;
  if (lower == "valid") return Split::kValid;
  if (lower == "test") return Split::kTest;
  RECSYS_THROW(reader.Where() << ": unknown split '" << value << "' in column '" << column
                              << "' (expected train, valid or test)");
}

// A query written as train goes to test when StableHash(key) lies in the first test_fraction
// of the hash range and to valid in the next valid_fraction: deterministic on every machine, and
// a query keeps its split when other queries are added or removed.
Split AssignSplit(Split written, std::string_view key, double valid_fraction,
                  double test_fraction) {
  if (written != Split::kTrain) return written;
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

// Loads any judged-pairs layout; train queries are re-split by AssignSplit with the fractions.
Dataset LoadJudgedFile(const std::string& path, char delimiter, const Layout& layout,
                       const std::map<std::string, Grade>& labels, double valid_fraction,
                       double test_fraction) {
  RECSYS_CHECK(valid_fraction >= 0 && test_fraction >= 0 && valid_fraction + test_fraction <= 1,
               "split fractions valid=" << valid_fraction << " test=" << test_fraction
                                        << " must be >= 0 with a sum <= 1");
  CsvReader reader(path, delimiter);
  const int query_id_column = Column(reader, layout.query_id, "query id", false);
  const int query_column = Column(reader, layout.query, "query text", true);
  const int product_column = Column(reader, layout.product_id, "product id", true);
  const int title_column = Column(reader, layout.title, "product title", true);
  const int brand_column = Column(reader, layout.brand, "brand", false);
  const int colour_column = Column(reader, layout.colour, "colour", false);
  const int label_column = Column(reader, layout.label, "label", true);
  const int split_column = Column(reader, layout.split, "split", false);
  const int key_column = query_id_column >= 0 ? query_id_column : query_column;

  Dataset dataset;
  dataset.source = path;
  Queries& queries = dataset.queries;
  Products& products = dataset.products;
  std::unordered_map<std::string, int32_t> query_rows, product_rows, brand_ids, colour_ids;
  std::vector<int64_t> query_lines;   // where each query first appears
  std::vector<Split> written_splits;  // each query's split as the file gives it
  struct Row {
    int32_t query, product;
    Grade grade;
    int64_t line;
  };
  std::vector<Row> rows;
  int64_t conflicts = 0, first_conflict_line = 0;
  const std::string no_value;

  while (reader.Next()) {
    const std::vector<std::string>& fields = reader.fields();
    const std::string& key = fields[key_column];
    const std::string& text = fields[query_column];
    const std::string& product_id = fields[product_column];
    if (key.empty() || text.empty() || product_id.empty()) {
      const int empty = key.empty() ? key_column : text.empty() ? query_column : product_column;
      RECSYS_THROW(reader.Where() << ": empty value in column '" << reader.header()[empty] << "'");
    }
    const Grade grade = ParseLabel(labels, fields[label_column], reader, layout.label);
    const Split written =
        split_column >= 0 ? ParseSplit(fields[split_column], reader, layout.split) : Split::kTrain;

    const auto [query_it, new_query] =
        query_rows.try_emplace(key, static_cast<int32_t>(queries.size()));
    const int32_t query = query_it->second;
    if (new_query) {
      queries.id.push_back(key);
      queries.text.push_back(text);
      queries.split.push_back(AssignSplit(written, key, valid_fraction, test_fraction));
      written_splits.push_back(written);
      query_lines.push_back(reader.line());
    } else if (queries.text[query] != text) {
      RECSYS_THROW(reader.Where() << ": query id '" << key << "' has text '" << text
                                  << "' here but '" << queries.text[query] << "' on line "
                                  << query_lines[query]);
    } else if (written_splits[query] != written) {
      RECSYS_THROW(reader.Where() << ": query '" << key << "' is in split '" << SplitName(written)
                                  << "' here but '" << SplitName(written_splits[query])
                                  << "' on line " << query_lines[query]);
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
        RECSYS_THROW(path << ":" << group[k].second << ": query '" << queries.id[q]
                          << "' and product '" << products.id[group[k].first]
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
  return LoadJudgedFile(options.path, options.delimiter, layout, ParseLabelMap(kEsciLabels),
                        options.valid_fraction, 0.0);
}

Dataset LoadJudgments(const JudgmentsOptions& options) {
  const Layout layout{options.query_id_column, options.query_column, options.product_id_column,
                      options.title_column,    options.brand_column, options.colour_column,
                      options.label_column,    options.split_column};
  const std::map<std::string, Grade> labels =
      ParseLabelMap(options.label_map.empty() ? kGradeLabels : options.label_map);
  // A split column is the whole truth; only without one are queries split by hash.
  const bool by_hash = options.split_column.empty();
  return LoadJudgedFile(options.path, options.delimiter, layout, labels,
                        by_hash ? options.valid_fraction : 0.0,
                        by_hash ? options.test_fraction : 0.0);
}

std::map<std::string, Grade> ParseLabelMap(const std::string& text) {
  if (Trim(text).empty()) RECSYS_THROW("label map is empty (expected e.g. Exact=3,Irrelevant=0)");
  std::map<std::string, Grade> labels;
  const std::string_view all(text);
  size_t begin = 0;
  for (;;) {
    const size_t comma = std::min(all.find(',', begin), all.size());
    const std::string_view entry = Trim(all.substr(begin, comma - begin));
    const size_t equals = entry.find('=');
    if (equals == std::string_view::npos) {
      RECSYS_THROW("label map '" << text << "': entry '" << entry
                                 << "' is not LABEL=GRADE (e.g. Exact=3)");
    }
    const std::string label = Lower(Trim(entry.substr(0, equals)));
    const std::string_view grade = Trim(entry.substr(equals + 1));
    if (label.empty())
      RECSYS_THROW("label map '" << text << "': entry '" << entry << "' has an empty label");
    if (grade.size() != 1 || grade[0] < '0' || grade[0] > '3') {
      RECSYS_THROW("label map '" << text << "': grade '" << grade << "' of label '" << label
                                 << "' is not one of 0, 1, 2, 3");
    }
    if (!labels.emplace(label, static_cast<Grade>(grade[0] - '0')).second) {
      RECSYS_THROW("label map '" << text << "': label '" << label
                                 << "' is given twice (labels are case-insensitive)");
    }
    if (comma == all.size()) return labels;
    begin = comma + 1;
  }
}

}  // namespace recsys::data
