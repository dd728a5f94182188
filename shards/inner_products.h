#pragma once
// The one dense kernel of the index: blocks of inner products by BLAS.

#include <cstdint>

namespace recsys::shards {

// out (size nx * ny, row-major) = x (size nx * d) times y (size ny * d) transposed:
// out[i * ny + j] = <x_i, y_j>. One BLAS call (sgemv when nx == 1, else sgemm), so the same
// buffers always give the same bits; a pair's score may differ in the last bit between calls
// with different nx (the kernels sum in different orders).
void InnerProducts(const float* x, int64_t nx, const float* y, int64_t ny, int64_t d, float* out);

}  // namespace recsys::shards
