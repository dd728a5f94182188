#pragma once
// Synthetic embeddings for tests and benchmarks: clustered unit vectors, reproducible row by row.

#include <cstdint>
#include <vector>

namespace recsys::shards {

// Unit vectors drawn around `components` random unit centres: row i is centre c(i) plus Gaussian
// noise of expected norm `spread`, L2-normalised, with c(i) and the noise pure functions of
// (seed, i). Any rank can make any slice, and the same rows come out on every machine.
class GaussianMixture {
 public:
  GaussianMixture(int64_t dim, int64_t components, double spread, uint64_t seed);

  // Rows [begin, begin + count): size count * dim.
  std::vector<float> Rows(int64_t begin, int64_t count) const;

 private:
  // Fills out (size dim_) with standard normal values for stream `stream`.
  void Normals(uint64_t stream, double* out) const;

  int64_t dim_;
  int64_t components_;
  double spread_;
  uint64_t seed_;
  std::vector<double> centres_;  // size components * dim, unit rows
};

}  // namespace recsys::shards
