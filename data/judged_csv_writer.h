#pragma once
// Writes a dataset as the files a real product-search judgment set comes in: a titles-only judged
// CSV with numeric relevance grades, and a product catalogue CSV. `recsys_data convert --format
// judgments` reads them back (README.md, "The real-like regime").

#include <cstdint>
#include <string>

#include "data/dataset.h"

namespace recsys::data {

// Columns query_id, query, product_id, product_title, relevance; one row per judged pair, in
// pair order. relevance is the mean of simulated raters' scores 1 (irrelevant) .. 3 (relevant),
// written with at most two decimals (1, 1.33, 2.5, 2.67, 3): three raters per pair, four on
// about 1% of them, each scoring from the pair's grade with noise (an exact product mostly 3, a
// substitute mostly 2, complements and irrelevant products mostly 1). The raters are a pure
// function of (seed, pair row), so the file is the same bytes for the same dataset and seed.
// Written atomically (a temporary name, then a rename). Throws recsys::Error naming the path.
void WriteJudgedCsv(const Dataset& dataset, uint64_t seed, const std::string& path);

// Columns product_id, product_title, brand, colour, category, price, rating; one row per
// product, in row order; unknown values are empty; price with two decimals, rating with one.
// Written atomically.
void WriteCatalogCsv(const Dataset& dataset, const std::string& path);

}  // namespace recsys::data
