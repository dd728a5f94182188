#include "shards/gaussian_mixture.h"

#include <cmath>

#include "core/error.h"
#include "core/stable_hash.h"

namespace recsys::shards {
namespace {
constexpr double kTwoPi = 6.283185307179586;

// A uniform double in (0, 1) from 64 random bits.
double Uniform(uint64_t bits) {
  return (static_cast<double>(bits >> 11) + 0.5) / 9007199254740992.0;
}

void Normalize(double* v, int64_t d) {
  double norm2 = 0;
  for (int64_t j = 0; j < d; ++j) norm2 += v[j] * v[j];
  const double inv = 1.0 / std::sqrt(norm2);
  for (int64_t j = 0; j < d; ++j) v[j] *= inv;
}
}  // namespace

GaussianMixture::GaussianMixture(int64_t dim, int64_t components, double spread, uint64_t seed)
    : dim_(dim), components_(components), spread_(spread), seed_(seed) {
  RECSYS_CHECK(dim >= 1 && components >= 1 && spread >= 0,
               "dim=" << dim << " components=" << components << " spread=" << spread);
  centres_.resize(components * dim);
  for (int64_t c = 0; c < components; ++c) {
    Normals(HashCombine(seed_, ~static_cast<uint64_t>(c)), centres_.data() + c * dim);
    Normalize(centres_.data() + c * dim, dim);
  }
}

void GaussianMixture::Normals(uint64_t stream, double* out) const {
  // Box-Muller on a counter-based stream: value j needs nothing but (stream, j).
  for (int64_t j = 0; j < dim_; j += 2) {
    const double u1 = Uniform(HashCombine(stream, 2 * j));
    const double u2 = Uniform(HashCombine(stream, 2 * j + 1));
    const double r = std::sqrt(-2.0 * std::log(u1));
    out[j] = r * std::cos(kTwoPi * u2);
    if (j + 1 < dim_) out[j + 1] = r * std::sin(kTwoPi * u2);
  }
}

std::vector<float> GaussianMixture::Rows(int64_t begin, int64_t count) const {
  std::vector<float> rows(count * dim_);
  std::vector<double> v(dim_);
  const double scale = spread_ / std::sqrt(static_cast<double>(dim_));
  for (int64_t i = 0; i < count; ++i) {
    const uint64_t row = static_cast<uint64_t>(begin + i);
    const int64_t c = static_cast<int64_t>(HashCombine(seed_, row) % components_);
    Normals(HashCombine(seed_ + 1, row), v.data());
    for (int64_t j = 0; j < dim_; ++j) v[j] = centres_[c * dim_ + j] + scale * v[j];
    Normalize(v.data(), dim_);
    for (int64_t j = 0; j < dim_; ++j) rows[i * dim_ + j] = static_cast<float>(v[j]);
  }
  return rows;
}

}  // namespace recsys::shards
