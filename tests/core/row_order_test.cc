#include "core/row_order.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "core/error.h"

namespace recsys {
namespace {

std::vector<std::pair<int64_t, int64_t>> Unpacked(const std::vector<uint64_t>& entries) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (uint64_t e : entries) out.emplace_back(RowOf(e), PositionOf(e));
  return out;
}

TEST(RowOrderTest, SortsByRowThenPositionForAnyTableSize) {
  std::mt19937_64 random(3);
  for (int64_t num_rows : {1, 2, 7, 2048, 2049, 262144, 5000000}) {
    std::vector<int64_t> rows(3000);
    for (int64_t& r : rows) r = static_cast<int64_t>(random() % num_rows);
    std::vector<std::pair<int64_t, int64_t>> expected;
    for (size_t i = 0; i < rows.size(); ++i) expected.emplace_back(rows[i], i);
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(Unpacked(SortedRowEntries(rows.data(), rows.size(), num_rows)), expected)
        << num_rows << " rows";
  }
}

TEST(RowOrderTest, MergesSortedRunsKeepingRunOrderForEqualRows) {
  const std::vector<int64_t> rows = {1, 4, 9, 0, 4, 5, 4};  // runs at 0, 3 and 6
  const std::vector<std::pair<int64_t, int64_t>> expected = {{0, 3}, {1, 0}, {4, 1}, {4, 4},
                                                             {4, 6}, {5, 5}, {9, 2}};
  EXPECT_EQ(Unpacked(SortedRowEntries(rows.data(), rows.size(), 10, {0, 3, 6})), expected);
  EXPECT_TRUE(SortedRowEntries(rows.data(), 0, 10).empty());
}

TEST(RowOrderTest, RefusesRowsOutsideTheTable) {
  const std::vector<int64_t> rows = {0, 10};
  try {
    SortedRowEntries(rows.data(), rows.size(), 10);
    ADD_FAILURE() << "row 10 of a 10-row table was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("row 10 is outside a table of 10 rows"), std::string::npos)
        << e.what();
  }
  const std::vector<int64_t> negative = {-1};
  EXPECT_THROW(SortedRowEntries(negative.data(), 1, 10), Error);
}

}  // namespace
}  // namespace recsys
