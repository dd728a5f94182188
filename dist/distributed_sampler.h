#pragma once
// Which training examples each rank processes at each step of data-parallel training.
//
// An epoch visits every example once in an order shuffled from (seed, epoch). Consecutive runs
// of global_batch positions of that order form the global batches (the last one may be
// smaller); each global batch is cut into world contiguous slices, rank r taking the r-th. So
// the global batch of a step is the same whatever the number of ranks: N ranks together
// compute exactly what one rank computes alone, which is what makes N-rank training reproduce
// 1-rank training.
//
// The shuffle uses its own generator built on recsys::Mix64 (not std::shuffle, whose algorithm
// the standard leaves to the library), so the order is the same on every machine.

#include <cstdint>
#include <vector>

namespace recsys::dist {

// Rows [begin, end) of a block of `total` rows that rank `rank` of `world` owns when the block is
// cut into contiguous slices as even as possible (the first total % world ranks get one more).
struct Slice {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
};
Slice SliceOf(int64_t total, int rank, int world);

class DistributedSampler {
 public:
  // num_examples >= 0, global_batch >= 1, 0 <= rank < world. Not collective: every rank builds
  // its own from the same arguments (and its rank).
  DistributedSampler(int64_t num_examples, int64_t global_batch, int rank, int world,
                     uint64_t seed);

  int64_t num_examples() const { return num_examples_; }
  int64_t global_batch() const { return global_batch_; }
  // ceil(num_examples / global_batch): the last step of an epoch may be smaller.
  int64_t steps_per_epoch() const;

  // Size of global batch `step` (in [0, steps_per_epoch())) of any epoch.
  int64_t GlobalBatchSize(int64_t step) const;

  // The example indices (in [0, num_examples)) of global batch `step` of epoch `epoch`, the
  // same on every rank: what a loss needs that looks at the whole batch (in-batch negatives).
  std::vector<int64_t> GlobalBatch(int64_t epoch, int64_t step);

  // This rank's example indices for step `step` of epoch `epoch`: its slice (SliceOf) of the
  // global batch. May be empty when the batch has fewer examples than
  // there are ranks; the rank must still take part in the step's collectives.
  std::vector<int64_t> LocalBatch(int64_t epoch, int64_t step);

  // The whole epoch's order (a permutation of [0, num_examples)).
  const std::vector<int64_t>& EpochOrder(int64_t epoch);

 private:
  int64_t num_examples_, global_batch_;
  int rank_, world_;
  uint64_t seed_;
  int64_t cached_epoch_ = -1;
  std::vector<int64_t> order_;
};

}  // namespace recsys::dist
