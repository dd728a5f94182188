#include "shards/centroid_search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "core/stable_hash.h"
#include "shards/inner_products.h"

namespace recsys::shards {
namespace {

// Small integers: every inner product is exact in float, and ties are common.
std::vector<float> Integers(int64_t n, int64_t d, uint64_t seed) {
  std::vector<float> v(n * d);
  for (int64_t i = 0; i < n * d; ++i) v[i] = static_cast<float>(HashCombine(seed, i) % 5) - 2;
  return v;
}

double Dot(const float* a, const float* b, int64_t d) {
  double s = 0;
  for (int64_t j = 0; j < d; ++j) s += double(a[j]) * b[j];
  return s;
}

TEST(CentroidSearchTest, InnerProductsMatchTheDefinitionForOneAndManyRows) {
  const int64_t d = 7;
  const std::vector<float> x = Integers(5, d, 1), y = Integers(9, d, 2);
  for (int64_t nx : {1, 5}) {
    std::vector<float> out(nx * 9);
    InnerProducts(x.data(), nx, y.data(), 9, d, out.data());
    for (int64_t i = 0; i < nx; ++i) {
      for (int64_t j = 0; j < 9; ++j) {
        EXPECT_EQ(out[i * 9 + j], Dot(&x[i * d], &y[j * d], d)) << i << "," << j;
      }
    }
  }
}

TEST(CentroidSearchTest, NearestCentroidTiesGoToTheSmallerCentroid) {
  const int64_t d = 6, k = 9, n = 3 * kAssignBlockRows + 17;  // several blocks and a partial one
  std::vector<float> centroids = Integers(k, d, 3);
  std::copy(centroids.begin() + 2 * d, centroids.begin() + 3 * d, centroids.begin() + 7 * d);
  const std::vector<float> x = Integers(n, d, 4);
  std::vector<int32_t> assign(n);
  std::vector<float> score(n);
  NearestCentroids(x.data(), n, centroids.data(), k, d, assign.data(), score.data());
  for (int64_t i = 0; i < n; ++i) {
    int32_t best = 0;
    for (int32_t c = 1; c < k; ++c) {
      if (Dot(&x[i * d], &centroids[c * d], d) > Dot(&x[i * d], &centroids[best * d], d)) best = c;
    }
    ASSERT_EQ(assign[i], best) << "row " << i;
    ASSERT_EQ(score[i], Dot(&x[i * d], &centroids[best * d], d));
    ASSERT_NE(assign[i], 7) << "centroid 7 duplicates centroid 2 and never wins";
  }
}

TEST(CentroidSearchTest, ProbesAreBestFirstWithTiesToTheSmallerCluster) {
  const int64_t d = 5, k = 40, nq = 300;
  const std::vector<float> centroids = Integers(k, d, 5), queries = Integers(nq, d, 6);
  for (int64_t nprobe : {int64_t{1}, int64_t{7}, k}) {
    const std::vector<int32_t> probes =
        ProbeClusters(queries.data(), nq, centroids.data(), k, d, nprobe);
    ASSERT_EQ(static_cast<int64_t>(probes.size()), nq * nprobe);
    for (int64_t q = 0; q < nq; ++q) {
      std::vector<int32_t> order(k);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return Dot(&queries[q * d], &centroids[a * d], d) >
               Dot(&queries[q * d], &centroids[b * d], d);
      });
      ASSERT_TRUE(std::equal(order.begin(), order.begin() + nprobe, probes.begin() + q * nprobe))
          << "query " << q << " nprobe " << nprobe;
    }
  }
  EXPECT_THROW(ProbeClusters(queries.data(), nq, centroids.data(), k, d, k + 1), Error);
  EXPECT_THROW(ProbeClusters(queries.data(), nq, centroids.data(), k, d, 0), Error);
}

}  // namespace
}  // namespace recsys::shards
