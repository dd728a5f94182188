#include "core/numeric_checks.h"

#include <unistd.h>

#include <cmath>
#include <thread>

#include "core/error.h"

namespace recsys {

void CheckCount(const std::string& name, int64_t value, int64_t min, int64_t max) {
  if (max == std::numeric_limits<int64_t>::max()) {
    RECSYS_CHECK(value >= min, name << " must be at least " << min << ", is " << value);
  } else {
    RECSYS_CHECK(value >= min && value <= max,
                 name << " must be between " << min << " and " << max << ", is " << value);
  }
}

void CheckFinite(const std::string& name, double value) {
  RECSYS_CHECK(std::isfinite(value), name << " must be a finite number, is " << value);
}

void CheckPositive(const std::string& name, double value) {
  RECSYS_CHECK(std::isfinite(value) && value > 0,
               name << " must be a finite number above 0, is " << value);
}

void CheckNonNegative(const std::string& name, double value) {
  RECSYS_CHECK(std::isfinite(value) && value >= 0,
               name << " must be a finite number at least 0, is " << value);
}

void CheckThreads(const std::string& name, int64_t value) {
  const int64_t cores = std::max(1u, std::thread::hardware_concurrency());
  RECSYS_CHECK(value >= 1 && value <= cores, name << " must be between 1 and " << cores
                                                  << " (the hardware threads of this machine), is "
                                                  << value);
}

double PhysicalMemoryBytes() {
  return static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

void CheckFitsInMemory(const std::string& what, double bytes) {
  const double memory = PhysicalMemoryBytes();
  RECSYS_CHECK(bytes <= memory, what << " needs " << bytes / (1 << 30) << " GiB, more than the "
                                     << memory / (1 << 30) << " GiB of memory of this machine");
}

void CheckFiniteRows(const std::string& name, const float* values, int64_t rows, int64_t dim,
                     int64_t row_offset) {
  const int64_t n = rows * dim;
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(values[i])) {
      RECSYS_THROW(name << ": row " << row_offset + i / dim << ", column " << i % dim << " is "
                        << values[i] << " (expected finite values)");
    }
  }
}

}  // namespace recsys
