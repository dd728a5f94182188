#pragma once
// The one rule for numbers that come from outside (flags, files), checked before anything is
// allocated or trained on:
//   - counts and sizes lie in [min, max] (CheckCount); a size whose allocation cannot fit in this
//     machine's memory is refused (CheckFitsInMemory), as are more threads than cores
//     (CheckThreads);
//   - real-valued options are finite and in range (CheckFinite, CheckPositive, CheckNonNegative):
//     NaN and infinity never pass;
//   - arrays of floats read or written (vectors, centroids, queries) hold finite values only
//     (CheckFiniteRows), and a failure names the row.
// Counts that the data bounds (results per query, negatives drawn from the catalogue) are clamped
// by their callers to what the data holds, with a note, rather than refused.
// Every check throws recsys::Error with a message naming `name` (the flag or file), the value
// and what was expected. Not collective.

#include <cstdint>
#include <limits>
#include <string>

namespace recsys {

void CheckCount(const std::string& name, int64_t value, int64_t min,
                int64_t max = std::numeric_limits<int64_t>::max());
void CheckFinite(const std::string& name, double value);
void CheckPositive(const std::string& name, double value);     // finite and > 0
void CheckNonNegative(const std::string& name, double value);  // finite and >= 0
// 1 .. the hardware threads of this machine (std::thread::hardware_concurrency()).
void CheckThreads(const std::string& name, int64_t value);

// This machine's physical memory in bytes.
double PhysicalMemoryBytes();
// Throws when `bytes` (what `what` needs, e.g. "--buckets 100000000000 x --dim 64") exceeds
// the physical memory.
void CheckFitsInMemory(const std::string& what, double bytes);

// values: rows x dim, row-major. Throws "NAME: row R, column C is nan (expected finite values)"
// at the first NaN or infinity. row_offset is added to the row number in the message (a slice of
// a larger array).
void CheckFiniteRows(const std::string& name, const float* values, int64_t rows, int64_t dim,
                     int64_t row_offset = 0);

}  // namespace recsys
