#include "shards/inner_products.h"

#include <cblas.h>

#include <climits>

#include "core/error.h"

namespace recsys::shards {

void InnerProducts(const float* x, int64_t nx, const float* y, int64_t ny, int64_t d, float* out) {
  RECSYS_CHECK(nx >= 0 && ny >= 0 && d > 0 && nx <= INT_MAX && ny <= INT_MAX && d <= INT_MAX,
               "nx=" << nx << " ny=" << ny << " d=" << d);
  if (nx == 0 || ny == 0) return;
  const int m = static_cast<int>(nx), n = static_cast<int>(ny), k = static_cast<int>(d);
  if (nx == 1) {
    // y (ny x d) times x: streams y once, without sgemm's packing copy.
    cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.0f, y, k, x, 1, 0.0f, out, 1);
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, x, k, y, k, 0.0f, out, n);
  }
}

}  // namespace recsys::shards
