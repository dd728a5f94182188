#include "shards/centroid_search.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "shards/inner_products.h"
#include "shards/top_k.h"

namespace recsys::shards {
namespace {

// Index of the first largest of row[0 .. k). Eight running maxima keep the scan free of one long
// dependency chain (std::max_element is about 5x slower here); the second pass stops at the
// first element equal to the maximum, so ties go to the smaller index.
int64_t FirstMax(const float* row, int64_t k) {
  constexpr int kLanes = 8;
  float lanes[kLanes];
  std::fill(lanes, lanes + kLanes, -std::numeric_limits<float>::infinity());
  int64_t j = 0;
  for (; j + kLanes <= k; j += kLanes) {
    for (int l = 0; l < kLanes; ++l) lanes[l] = std::max(lanes[l], row[j + l]);
  }
  float best = *std::max_element(lanes, lanes + kLanes);
  for (; j < k; ++j) best = std::max(best, row[j]);
  int64_t i = 0;
  while (i + 1 < k && row[i] != best) ++i;
  return i;
}

}  // namespace

void NearestCentroids(const float* x, int64_t n, const float* centroids, int64_t k, int64_t d,
                      int32_t* assign, float* score) {
  RECSYS_CHECK(k >= 1 && k <= INT32_MAX, "k = " << k);
  std::vector<float> scores(std::min(n, kAssignBlockRows) * k);
  for (int64_t begin = 0; begin < n; begin += kAssignBlockRows) {
    const int64_t rows = std::min(kAssignBlockRows, n - begin);
    InnerProducts(x + begin * d, rows, centroids, k, d, scores.data());
    for (int64_t i = 0; i < rows; ++i) {
      const float* row = scores.data() + i * k;
      const int64_t best = FirstMax(row, k);
      assign[begin + i] = static_cast<int32_t>(best);
      score[begin + i] = row[best];
    }
  }
}

std::vector<int32_t> ProbeClusters(const float* queries, int64_t nq, const float* centroids,
                                   int64_t k, int64_t d, int64_t nprobe) {
  RECSYS_CHECK(nprobe >= 1 && nprobe <= k, "nprobe " << nprobe << " not in [1, " << k << "]");
  std::vector<int32_t> probes(nq * nprobe);
  std::vector<int64_t> cluster_ids(k);
  std::iota(cluster_ids.begin(), cluster_ids.end(), 0);
  // One query at a time (a matrix-vector product each): the same arithmetic for a query whatever
  // else is in the batch, so its probes never depend on the other queries.
  std::vector<float> scores(k);
  TopK top(nprobe);
  std::vector<int64_t> best(nprobe);
  std::vector<float> best_scores(nprobe);
  for (int64_t q = 0; q < nq; ++q) {
    InnerProducts(queries + q * d, 1, centroids, k, d, scores.data());
    top.PushBlock(scores.data(), cluster_ids.data(), k);
    top.Extract(best.data(), best_scores.data());
    std::copy(best.begin(), best.end(), probes.begin() + q * nprobe);
  }
  return probes;
}

}  // namespace recsys::shards
