#pragma once
// The answer to a batch of top-k searches, in FAISS's buffer layout.

#include <cstdint>
#include <vector>

namespace recsys::shards {

// Row q (ids[q * k .. q * k + k), and scores likewise) holds query q's neighbours, best first:
// larger inner product first, equal scores by smaller id. When fewer than k vectors were scanned
// (k larger than the probed clusters, or larger than the index) the row ends with id -1 and score
// -infinity: such a row has fewer than k results.
struct SearchResult {
  int64_t nq = 0;
  int64_t k = 0;
  std::vector<int64_t> ids;   // size nq * k: product ids (rows of the dataset), or -1
  std::vector<float> scores;  // size nq * k: inner products, or -infinity

  // Number of real results in row q (k minus the padding).
  int64_t Count(int64_t q) const {
    int64_t n = 0;
    while (n < k && ids[q * k + n] >= 0) ++n;
    return n;
  }
};

}  // namespace recsys::shards
