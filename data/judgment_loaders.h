#pragma once
// Loaders for judged search data: the Amazon ESCI shopping-queries layout, and a generic judged
// query-product CSV whose columns the user names. Both read CSV or TSV (see CsvReader), find
// columns by name (order free, extra columns ignored) and return a validated Dataset whose pairs
// are grouped by query: queries in order of first appearance, a query's pairs in file order.
//
// Shared rules:
//  - a product id seen again keeps its first title, brand and colour; later rows that disagree
//    are counted and reported in one warning, since ESCI repeats a product across locales;
//  - a query id seen again must have the same text and split, else the error names both lines;
//  - a (query, product) pair judged twice is an error naming both lines;
//  - empty brand / colour mean unknown (vocabulary index 0); category, price, rating and release
//    day are unknown; clicks are 0 and positions -1;
//  - a header without data rows is an error.
// Every error is a recsys::Error whose message starts with "path:line:".

#include <map>
#include <string>

#include "data/csv_reader.h"
#include "data/dataset.h"

namespace recsys::data {

// ESCI: columns query_id, query, product_id, product_title, product_brand, product_color,
// esci_label, split (all required). esci_label is E/S/C/I or exact/substitute/complement/
// irrelevant, case-insensitively; split is train or test (valid is accepted too).
struct EsciOptions {
  std::string path;
  char delimiter = CsvReader::kDetectDelimiter;  // ',' or '\t'
  // ESCI has no validation split: train queries whose StableHash(query_id) falls in this
  // fraction of the hash range become valid. 0 keeps train as it is.
  double valid_fraction = 0.1;
};

// Reads an ESCI-layout file; Dataset::source is options.path.
Dataset LoadEsci(const EsciOptions& options);

// A judged query-product file with user-named columns. Required columns: query text, product
// id, product title (values may be empty), label. Optional ones are unused when their name is
// empty, and an error when named but missing from the header.
struct JudgmentsOptions {
  std::string path;
  char delimiter = CsvReader::kDetectDelimiter;  // ',' or '\t'
  std::string query_column = "query";
  std::string product_id_column = "product_id";
  std::string title_column = "product_title";
  std::string label_column = "label";
  std::string query_id_column;  // empty: the query text identifies the query
  std::string brand_column;
  std::string colour_column;
  std::string split_column;  // values train / valid / test, case-insensitive
  // Label text -> grade, in ParseLabelMap's syntax. Empty: labels are the grades 0..3.
  std::string label_map;
  // Without a split column, queries go to test or valid by StableHash of their id: these
  // fractions of the hash range; the rest is train.
  double valid_fraction = 0.1;
  double test_fraction = 0.1;
};

// Reads a judged query-product file; Dataset::source is options.path.
Dataset LoadJudgments(const JudgmentsOptions& options);

// Parses "Exact=3,Substitute=2,Complement=1,Irrelevant=0" or "0=0,1=0,2=2,3=3,4=3": entries
// LABEL=GRADE separated by commas, spaces around either side ignored, grades 0..3. Labels match
// case-insensitively, so the keys are returned in lower case. Throws recsys::Error for an empty
// map, an entry without '=', an empty label, a grade outside 0..3, and a label given twice.
std::map<std::string, Grade> ParseLabelMap(const std::string& text);

}  // namespace recsys::data
