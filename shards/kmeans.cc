#include "shards/kmeans.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "core/error.h"
#include "core/progress.h"
#include "core/stable_hash.h"
#include "dist/collective_try.h"
#include "shards/centroid_search.h"

namespace recsys::shards {
namespace {

// Fixed-point unit of the cluster sums: 2^-30. |component| <= 1 for unit vectors, so 2^33 points
// fit in an int64 sum.
constexpr double kFixedScale = 1073741824.0;
constexpr double kNormTolerance = 1e-3;
// Relative perturbation of a split centroid (FAISS uses the same).
constexpr double kSplitEps = 1.0 / 1024;

// Writes v (size d) / |v| as float into out; returns false (out untouched) when v is zero.
bool NormalizeInto(const double* v, int64_t d, float* out) {
  double norm2 = 0;
  for (int64_t j = 0; j < d; ++j) norm2 += v[j] * v[j];
  if (norm2 == 0) return false;
  const double inv = 1.0 / std::sqrt(norm2);
  for (int64_t j = 0; j < d; ++j) out[j] = static_cast<float>(v[j] * inv);
  return true;
}

void NormalizeFloat(float* x, int64_t d) {
  std::vector<double> v(x, x + d);
  NormalizeInto(v.data(), d, x);
}

// Step 1 of the protocol: the k positions with the smallest keys, and their vectors.
std::vector<float> InitialCentroids(const float* points, int64_t n, int64_t offset, int64_t d,
                                    int64_t k, uint64_t seed, dist::Communicator& comm) {
  std::vector<std::pair<uint64_t, int64_t>> keys(n);  // (key, local index)
  for (int64_t i = 0; i < n; ++i) keys[i] = {HashCombine(seed, offset + i), i};
  const int64_t proposals = std::min(n, k);
  std::partial_sort(keys.begin(), keys.begin() + proposals, keys.end());
  std::vector<int64_t> local_keys(proposals);
  std::vector<float> local_vectors(proposals * d);
  for (int64_t p = 0; p < proposals; ++p) {
    local_keys[p] = static_cast<int64_t>(keys[p].first);
    std::copy(points + keys[p].second * d, points + (keys[p].second + 1) * d,
              local_vectors.begin() + p * d);
  }
  const std::vector<int64_t> all_keys = dist::AllGatherV(comm, local_keys);
  const std::vector<float> all_vectors = dist::AllGatherV(comm, local_vectors);
  // Keys are distinct for distinct positions with overwhelming probability; equal keys would
  // still be ordered the same way on every rank (by their place in rank order).
  std::vector<int64_t> order(all_keys.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return static_cast<uint64_t>(all_keys[a]) < static_cast<uint64_t>(all_keys[b]);
  });
  std::vector<float> centroids(k * d);
  for (int64_t j = 0; j < k; ++j) {
    std::copy(all_vectors.begin() + order[j] * d, all_vectors.begin() + (order[j] + 1) * d,
              centroids.begin() + j * d);
    NormalizeFloat(centroids.data() + j * d, d);
  }
  return centroids;
}

// Step 5: gives every empty cluster half of the currently largest one. Returns the splits made.
int64_t SplitIntoEmptyClusters(std::vector<int64_t>& counts, std::vector<float>& centroids,
                               int64_t d) {
  const int64_t k = static_cast<int64_t>(counts.size());
  int64_t splits = 0;
  std::vector<double> a(d), b(d);
  for (int64_t ci = 0; ci < k; ++ci) {
    if (counts[ci] != 0) continue;
    const int64_t cj = std::max_element(counts.begin(), counts.end()) - counts.begin();
    if (counts[cj] < 2) break;  // nothing left to split (fewer points than clusters)
    for (int64_t j = 0; j < d; ++j) {
      const double sign = j % 2 == 0 ? 1.0 : -1.0;
      a[j] = centroids[cj * d + j] * (1 + sign * kSplitEps);
      b[j] = centroids[cj * d + j] * (1 - sign * kSplitEps);
    }
    NormalizeInto(a.data(), d, centroids.data() + ci * d);
    NormalizeInto(b.data(), d, centroids.data() + cj * d);
    counts[ci] = counts[cj] / 2;
    counts[cj] -= counts[ci];
    ++splits;
  }
  return splits;
}

}  // namespace

dist::Slice BlockAlignedSlice(int64_t rows, int parts, int part) {
  RECSYS_CHECK(rows >= 0 && parts >= 1 && part >= 0 && part < parts,
               "rows=" << rows << " parts=" << parts << " part=" << part);
  const int64_t blocks = (rows + kAssignBlockRows - 1) / kAssignBlockRows;
  const int64_t first = blocks * part / parts;
  const int64_t last = blocks * (part + 1) / parts;
  return {std::min(rows, first * kAssignBlockRows), std::min(rows, last * kAssignBlockRows)};
}

KMeansResult TrainKMeans(const float* points, int64_t n, int64_t d, const KMeansOptions& options,
                         dist::Communicator& comm) {
  const std::vector<int64_t> counts_per_rank = dist::AllGatherCounts(comm, n);
  const int64_t total = std::accumulate(counts_per_rank.begin(), counts_per_rank.end(), int64_t{0});
  int64_t offset = 0;
  for (int r = 0; r < comm.rank(); ++r) offset += counts_per_rank[r];
  const int64_t k = options.k;
  dist::CollectiveTry(comm, [&] {
    RECSYS_CHECK(d > 0 && k >= 1 && k <= total && options.iterations >= 0,
                 "k-means: need 1 <= k <= points and iterations >= 0; got k="
                     << k << ", " << total << " points, iterations=" << options.iterations);
    int64_t start = 0;
    for (size_t r = 0; r < counts_per_rank.size(); ++r) {
      RECSYS_CHECK(start % kAssignBlockRows == 0 || start == total,
                   "k-means: rank " << r << "'s block starts at point " << start
                                    << ", not a multiple of " << kAssignBlockRows
                                    << " (use BlockAlignedSlice)");
      start += counts_per_rank[r];
    }
    for (int64_t i = 0; i < n; ++i) {
      double norm2 = 0;
      for (int64_t j = 0; j < d; ++j) norm2 += double(points[i * d + j]) * points[i * d + j];
      const double norm = std::sqrt(norm2);
      RECSYS_CHECK(
          std::abs(norm - 1) <= kNormTolerance,
          "k-means needs L2-normalised points; point " << offset + i << " has norm " << norm);
    }
  });

  KMeansResult result;
  result.centroids = InitialCentroids(points, n, offset, d, k, options.seed, comm);
  std::vector<int32_t> assign(n);
  std::vector<float> score(n);
  std::vector<int64_t> sums(k * (d + 1));  // per cluster: d fixed-point sums, then the count
  std::vector<double> mean(d);
  Progress progress("k-means", options.iterations, "iterations",
                    options.show_progress && comm.rank() == 0);
  for (int t = 0; t < options.iterations; ++t) {
    NearestCentroids(points, n, result.centroids.data(), k, d, assign.data(), score.data());
    double objective = 0;
    for (int64_t i = 0; i < n; ++i) objective += 1.0 - score[i];
    result.objective.push_back(dist::AllReduceValue(comm, objective));

    std::fill(sums.begin(), sums.end(), 0);
    for (int64_t i = 0; i < n; ++i) {
      int64_t* sum = sums.data() + assign[i] * (d + 1);
      const float* x = points + i * d;
      // double(x) * 2^30 is exact; truncation makes it the same integer everywhere.
      for (int64_t j = 0; j < d; ++j) sum[j] += static_cast<int64_t>(x[j] * kFixedScale);
      ++sum[d];
    }
    dist::AllReduce(comm, sums);

    std::vector<int64_t> counts(k);
    for (int64_t c = 0; c < k; ++c) {
      const int64_t* sum = sums.data() + c * (d + 1);
      counts[c] = sum[d];
      if (counts[c] == 0) continue;
      for (int64_t j = 0; j < d; ++j) mean[j] = static_cast<double>(sum[j]) / counts[c];
      // A zero mean (points that cancel out) keeps the old centroid.
      NormalizeInto(mean.data(), d, result.centroids.data() + c * d);
    }
    result.splits += SplitIntoEmptyClusters(counts, result.centroids, d);
    progress.Update(t + 1);
  }
  progress.Finish();
  return result;
}

}  // namespace recsys::shards
