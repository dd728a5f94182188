#include "core/row_order.h"

#include <algorithm>

#include "core/error.h"

namespace recsys {

std::vector<uint64_t> SortedRowEntries(const int64_t* rows, int64_t n, int64_t num_rows,
                                       const std::vector<int64_t>& runs) {
  RECSYS_CHECK(n >= 0 && n < (int64_t{1} << 32) && num_rows >= 0 && num_rows <= (int64_t{1} << 32),
               n << " row indices of a table of " << num_rows << " rows: too many");
  std::vector<uint64_t> entries(n);
  for (int64_t i = 0; i < n; ++i) {
    RECSYS_CHECK(rows[i] >= 0 && rows[i] < num_rows,
                 "row " << rows[i] << " is outside a table of " << num_rows << " rows");
    entries[i] = static_cast<uint64_t>(rows[i]) << 32 | static_cast<uint64_t>(i);
  }
  if (!runs.empty()) {
    for (size_t r = 1; r < runs.size(); ++r) {
      const int64_t end = r + 1 < runs.size() ? runs[r + 1] : n;
      RECSYS_CHECK(runs[r - 1] <= runs[r] && runs[r] <= end, "runs are not in order");
      std::inplace_merge(entries.begin(), entries.begin() + runs[r], entries.begin() + end);
    }
    return entries;
  }
  if (std::is_sorted(entries.begin(), entries.end())) return entries;  // e.g. coalesced already
  constexpr int kBits = 11;
  constexpr size_t kBuckets = size_t{1} << kBits;
  std::vector<uint64_t> scratch(n);
  for (int shift = 32; num_rows > 0 && (num_rows - 1) >> (shift - 32) > 0; shift += kBits) {
    std::vector<size_t> start(kBuckets + 1, 0);
    for (uint64_t e : entries) ++start[((e >> shift) & (kBuckets - 1)) + 1];
    for (size_t b = 1; b <= kBuckets; ++b) start[b] += start[b - 1];
    for (uint64_t e : entries) scratch[start[(e >> shift) & (kBuckets - 1)]++] = e;
    entries.swap(scratch);
  }
  return entries;
}

}  // namespace recsys
