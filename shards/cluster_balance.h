#pragma once
// Which rank owns which cluster.

#include <cstdint>
#include <vector>

namespace recsys::shards {

// Owners of clusters of the given sizes (vectors per cluster) over ranks ranks: largest cluster
// first (ties: smaller cluster id) onto the least loaded rank (ties: smaller rank). Deterministic,
// so every rank computes the same map. Returns size sizes.size(), values in [0, ranks).
// Not collective.
std::vector<int32_t> BalanceClusters(const std::vector<int64_t>& sizes, int ranks);

// Vectors each rank owns under owners: size ranks.
std::vector<int64_t> RankLoads(const std::vector<int64_t>& sizes,
                               const std::vector<int32_t>& owners, int ranks);

// Largest rank load over the mean load (1.0 is perfect balance; 1.0 for an empty index).
double Imbalance(const std::vector<int64_t>& loads);

}  // namespace recsys::shards
