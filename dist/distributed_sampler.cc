#include "dist/distributed_sampler.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "core/error.h"
#include "core/stable_hash.h"

namespace recsys::dist {

Slice SliceOf(int64_t total, int rank, int world) {
  RECSYS_CHECK(total >= 0 && world >= 1 && rank >= 0 && rank < world,
               "total=" << total << " rank=" << rank << " world=" << world);
  const int64_t base = total / world;
  const int64_t extra = total % world;
  Slice s;
  s.begin = rank * base + std::min<int64_t>(rank, extra);
  s.end = s.begin + base + (rank < extra ? 1 : 0);
  return s;
}

DistributedSampler::DistributedSampler(int64_t num_examples, int64_t global_batch, int rank,
                                       int world, uint64_t seed)
    : num_examples_(num_examples),
      global_batch_(global_batch),
      rank_(rank),
      world_(world),
      seed_(seed) {
  RECSYS_CHECK(num_examples >= 0, "num_examples=" << num_examples);
  RECSYS_CHECK(global_batch >= 1, "global_batch=" << global_batch);
  RECSYS_CHECK(world >= 1 && rank >= 0 && rank < world, "rank=" << rank << " world=" << world);
}

int64_t DistributedSampler::steps_per_epoch() const {
  return (num_examples_ + global_batch_ - 1) / global_batch_;
}

int64_t DistributedSampler::GlobalBatchSize(int64_t step) const {
  RECSYS_CHECK(step >= 0 && step < steps_per_epoch(),
               "step " << step << " outside [0, " << steps_per_epoch() << ")");
  return std::min(global_batch_, num_examples_ - step * global_batch_);
}

const std::vector<int64_t>& DistributedSampler::EpochOrder(int64_t epoch) {
  if (epoch == cached_epoch_) return order_;
  order_.resize(num_examples_);
  std::iota(order_.begin(), order_.end(), int64_t{0});
  // Fisher-Yates with a counter-based generator: draw i picks from [0, i].
  const uint64_t key = HashCombine(seed_, static_cast<uint64_t>(epoch));
  for (int64_t i = num_examples_ - 1; i > 0; --i) {
    const uint64_t r = Mix64(key ^ static_cast<uint64_t>(i));
    // The modulo's bias is below 2^-30 for any catalogue this system holds.
    std::swap(order_[i], order_[static_cast<int64_t>(r % static_cast<uint64_t>(i + 1))]);
  }
  cached_epoch_ = epoch;
  return order_;
}

std::vector<int64_t> DistributedSampler::GlobalBatch(int64_t epoch, int64_t step) {
  const int64_t first = step * global_batch_;
  const int64_t size = GlobalBatchSize(step);
  const std::vector<int64_t>& order = EpochOrder(epoch);
  return std::vector<int64_t>(order.begin() + first, order.begin() + first + size);
}

std::vector<int64_t> DistributedSampler::LocalBatch(int64_t epoch, int64_t step) {
  const Slice slice = SliceOf(GlobalBatchSize(step), rank_, world_);
  const std::vector<int64_t>& order = EpochOrder(epoch);
  const int64_t first = step * global_batch_;
  return std::vector<int64_t>(order.begin() + first + slice.begin,
                              order.begin() + first + slice.end);
}

}  // namespace recsys::dist
