#pragma once
// Summaries of measured latencies: percentiles by the nearest-rank rule, as benchmarks and the
// evaluation report them.

#include <chrono>
#include <cstddef>
#include <vector>

namespace recsys {

struct LatencySummary {
  double p50 = 0, p99 = 0, mean = 0, max = 0;  // in the unit of the samples
  size_t samples = 0;
};

// Milliseconds from start to now on the steady clock.
inline double MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// Percentiles of samples (any order; empty gives all zeros). Pure.
LatencySummary SummarizeLatencies(std::vector<double> samples);

}  // namespace recsys
