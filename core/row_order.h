#pragma once
// Ordering the row indices of sparse (embedding-table) gradients: rows of a table of num_rows
// rows, repeated wherever a batch used a row more than once. Summing a gradient's equal rows, in a
// fixed order, starts from this order.

#include <cstdint>
#include <vector>

namespace recsys {

// An entry packs a row and the position where it occurred: row << 32 | position.
inline int64_t RowOf(uint64_t entry) { return static_cast<int64_t>(entry >> 32); }
inline int64_t PositionOf(uint64_t entry) { return static_cast<int64_t>(entry & 0xffffffffu); }

// The entries of rows[0, n) sorted by row, equal rows in position order. A stable LSD radix sort
// on the row bits, 11 at a time (two passes for a 2^18-row table): n log n comparisons cost as
// much as a whole forward pass for the ~20K rows of a batch. runs: when rows is a concatenation of
// runs that are each sorted already (rows received from several ranks), where each run starts
// (runs[0] = 0); they are merged instead. Throws when a row is outside [0, num_rows), or when n or
// num_rows exceeds 2^32.
std::vector<uint64_t> SortedRowEntries(const int64_t* rows, int64_t n, int64_t num_rows,
                                       const std::vector<int64_t>& runs = {});

}  // namespace recsys
