#include "core/latency.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace recsys {

LatencySummary SummarizeLatencies(std::vector<double> samples) {
  LatencySummary out;
  out.samples = samples.size();
  if (samples.empty()) return out;
  std::sort(samples.begin(), samples.end());
  // Nearest rank: the smallest sample with at least p of the samples at or below it.
  auto percentile = [&](double p) {
    const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(samples.size())));
    return samples[std::max<size_t>(rank, 1) - 1];
  };
  out.p50 = percentile(0.50);
  out.p99 = percentile(0.99);
  out.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / samples.size();
  out.max = samples.back();
  return out;
}

}  // namespace recsys
