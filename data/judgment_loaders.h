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
//  - a header without data rows is an error;
//  - splits: a split that the file never names (no split column names none) is carved from
//    the file's train queries: those whose StableHash(query id) falls in the split's fraction
//    of the hash range (test first, then valid) move to it. So a split column with only train
//    and test rows still gets a valid split, and a query keeps its split when other queries are
//    added or removed;
//  - with a catalogue (CatalogOptions) the products are the catalogue's rows, in file order,
//    followed by the judged products absent from it, in order of first appearance; a judged
//    product that is in the catalogue keeps the catalogue's fields, and judged rows that give it
//    another (non-empty) title are counted and reported in one warning.
// Every error is a recsys::Error whose message starts with "path:line:".

#include <string>

#include "data/csv_reader.h"
#include "data/dataset.h"
#include "data/label_map.h"

namespace recsys::data {

// A product catalogue without judgments: one product per row, joined to the judged file by
// product id. Required: the product id and title columns; the others are unused when their
// name is empty, and an error when named but missing from the header. Empty brand, colour,
// category, price or rating mean unknown; a price must be a number >= 0 and a rating a number
// in [1, 5]. A product id given twice is an error naming both lines.
struct CatalogOptions {
  std::string path;  // empty: no catalogue
  char delimiter = CsvReader::kDetectDelimiter;
  int64_t max_record_bytes = CsvReader::kDefaultMaxRecordBytes;  // see CsvReader
  std::string product_id_column;  // empty: the judged file's product id column name
  std::string title_column;       // empty: the judged file's title column name
  std::string brand_column, colour_column, category_column, price_column, rating_column;
};

// ESCI: columns query_id, query, product_id, product_title, product_brand, product_color,
// esci_label, split (all required). esci_label is E/S/C/I or exact/substitute/complement/
// irrelevant, case-insensitively; split is train or test (valid is accepted too).
struct EsciOptions {
  std::string path;
  char delimiter = CsvReader::kDetectDelimiter;                  // ',' or '\t'
  int64_t max_record_bytes = CsvReader::kDefaultMaxRecordBytes;  // see CsvReader
  // ESCI has no validation split: when no row says valid, train queries whose
  // StableHash(query_id) falls in this fraction of the hash range become valid. 0 keeps train
  // as it is.
  double valid_fraction = 0.1;
  CatalogOptions catalog;  // optional
};

// Reads an ESCI-layout file; Dataset::source is options.path.
Dataset LoadEsci(const EsciOptions& options);

// A judged query-product file with user-named columns. Required columns: query text, product
// id, product title (values may be empty), label. Optional ones are unused when their name is
// empty, and an error when named but missing from the header.
struct JudgmentsOptions {
  std::string path;
  char delimiter = CsvReader::kDetectDelimiter;                  // ',' or '\t'
  int64_t max_record_bytes = CsvReader::kDefaultMaxRecordBytes;  // see CsvReader
  std::string query_column = "query";
  std::string product_id_column = "product_id";
  std::string title_column = "product_title";
  std::string label_column = "label";
  std::string query_id_column;  // empty: the query text identifies the query
  std::string brand_column;
  std::string colour_column;
  std::string split_column;  // values train / valid / test, case-insensitive
  // Label text -> grade (LabelMap's rules; the default: labels are the grades 0..3).
  LabelMap labels;
  // The shares of the hash range carved from the train queries into valid and into test when
  // the file names no valid (no test) query. Without a split column every query is train and
  // neither split is named, so both are carved.
  double valid_fraction = 0.1;
  double test_fraction = 0.1;
  CatalogOptions catalog;  // optional
};

// Reads a judged query-product file; Dataset::source is options.path.
Dataset LoadJudgments(const JudgmentsOptions& options);

}  // namespace recsys::data
