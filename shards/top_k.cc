#include "shards/top_k.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <utility>

#include "core/error.h"

namespace recsys::shards {

TopK::TopK(int64_t k) : k_(k), scores_(k), ids_(k) { RECSYS_CHECK(k >= 1, "k = " << k); }

void TopK::PushBlock(const float* scores, const int64_t* ids, int64_t n) {
  int64_t i = 0;
  for (; i < n && size_ < k_; ++i) Push(scores[i], ids[i]);
  for (; i < n; ++i) {
    // Equal scores may still enter on a smaller id: only strictly smaller ones are skipped here.
    if (scores[i] < scores_[0]) continue;
    Push(scores[i], ids[i]);
  }
}

void TopK::Extract(int64_t* ids, float* scores) {
  std::vector<int64_t> order(size_);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return Worse(b, a); });
  for (int64_t i = 0; i < size_; ++i) {
    ids[i] = ids_[order[i]];
    scores[i] = scores_[order[i]];
  }
  std::fill(ids + size_, ids + k_, -1);
  std::fill(scores + size_, scores + k_, -std::numeric_limits<float>::infinity());
  size_ = 0;
}

void TopK::SiftUp(int64_t i) {
  while (i > 0) {
    const int64_t parent = (i - 1) / 2;
    if (!Worse(i, parent)) break;
    std::swap(scores_[i], scores_[parent]);
    std::swap(ids_[i], ids_[parent]);
    i = parent;
  }
}

void TopK::SiftDown(int64_t i) {
  for (;;) {
    const int64_t left = 2 * i + 1;
    if (left >= size_) break;
    int64_t worst = left;
    if (left + 1 < size_ && Worse(left + 1, left)) worst = left + 1;
    if (!Worse(worst, i)) break;
    std::swap(scores_[i], scores_[worst]);
    std::swap(ids_[i], ids_[worst]);
    i = worst;
  }
}

}  // namespace recsys::shards
