#include "shards/cluster_balance.h"

#include <algorithm>
#include <functional>
#include <numeric>
#include <queue>
#include <utility>

#include "core/error.h"

namespace recsys::shards {

std::vector<int32_t> BalanceClusters(const std::vector<int64_t>& sizes, int ranks) {
  RECSYS_CHECK(ranks >= 1, "ranks = " << ranks);
  std::vector<int64_t> order(sizes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return sizes[a] > sizes[b]; });
  // (load, rank) min-heap: the least loaded rank, ties to the smaller rank.
  using Load = std::pair<int64_t, int32_t>;
  std::priority_queue<Load, std::vector<Load>, std::greater<Load>> least;
  for (int32_t r = 0; r < ranks; ++r) least.push({0, r});
  std::vector<int32_t> owners(sizes.size());
  for (int64_t c : order) {
    auto [load, rank] = least.top();
    least.pop();
    owners[c] = rank;
    least.push({load + sizes[c], rank});
  }
  return owners;
}

std::vector<int64_t> RankLoads(const std::vector<int64_t>& sizes,
                               const std::vector<int32_t>& owners, int ranks) {
  std::vector<int64_t> loads(ranks, 0);
  for (size_t c = 0; c < sizes.size(); ++c) loads[owners[c]] += sizes[c];
  return loads;
}

double Imbalance(const std::vector<int64_t>& loads) {
  const int64_t total = std::accumulate(loads.begin(), loads.end(), int64_t{0});
  if (total == 0) return 1.0;
  const int64_t largest = *std::max_element(loads.begin(), loads.end());
  return static_cast<double>(largest) * loads.size() / total;
}

}  // namespace recsys::shards
