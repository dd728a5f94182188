#pragma once
// Searches among the centroids: nearest centroid of each row (k-means, building the index) and
// the nprobe clusters of each query (the router's first step).

#include <cstdint>
#include <vector>

namespace recsys::shards {

// Rows are scored against the centroids in blocks of this many, one sgemm per block, counted
// from the first row passed. The block boundaries decide which rows share a BLAS call, and so the
// last bit of their scores: see kmeans.h for why ranks' row ranges start on these boundaries.
constexpr int64_t kAssignBlockRows = 256;

// For each of the n rows of x (size n * d): assign[i] = the centroid (of k; centroids size
// k * d) with the largest inner product, ties to the smaller index, and score[i] = that product.
// assign and score have size n. Not collective.
void NearestCentroids(const float* x, int64_t n, const float* centroids, int64_t k, int64_t d,
                      int32_t* assign, float* score);

// Each query's nprobe clusters, best first (larger inner product, ties to the smaller cluster):
// returns size nq * nprobe. queries size nq * d, centroids size k * d, 1 <= nprobe <= k.
// Not collective.
std::vector<int32_t> ProbeClusters(const float* queries, int64_t nq, const float* centroids,
                                   int64_t k, int64_t d, int64_t nprobe);

}  // namespace recsys::shards
