#pragma once
// Selection of the k best (score, id) pairs among many: the in-cluster scan, centroid search and
// the router's merge all use it, so every stage orders results the same way.

#include <cstdint>
#include <vector>

namespace recsys::shards {

// The k best (score, id) pairs offered so far. "Better" means a larger score, or an equal score
// and a smaller id; ids offered to one TopK must be distinct. Kept as a binary heap whose top is
// the worst pair kept, so a candidate that cannot enter costs one comparison.
class TopK {
 public:
  // k >= 1.
  explicit TopK(int64_t k);

  // Offers one candidate.
  void Push(float score, int64_t id) {
    if (size_ < k_) {
      scores_[size_] = score;
      ids_[size_] = id;
      SiftUp(size_++);
    } else if (score > scores_[0] || (score == scores_[0] && id < ids_[0])) {
      scores_[0] = score;
      ids_[0] = id;
      SiftDown(0);
    }
  }

  // Offers n candidates: (scores[i], ids[i]) for i < n. Most candidates of a long scan fail the
  // threshold test and cost one comparison each.
  void PushBlock(const float* scores, const int64_t* ids, int64_t n);

  // Writes the kept pairs best first to ids and scores (size k each), padding the rest with -1
  // and -infinity, and empties this TopK for reuse.
  void Extract(int64_t* ids, float* scores);

  int64_t size() const { return size_; }

 private:
  // Whether slot a holds a worse pair than slot b (the heap keeps the worst on top).
  bool Worse(int64_t a, int64_t b) const {
    return scores_[a] < scores_[b] || (scores_[a] == scores_[b] && ids_[a] > ids_[b]);
  }
  void SiftUp(int64_t i);
  void SiftDown(int64_t i);

  int64_t k_;
  int64_t size_ = 0;
  std::vector<float> scores_;
  std::vector<int64_t> ids_;
};

}  // namespace recsys::shards
