#pragma once
// Adam for models with sparse embedding tables. A parameter whose gradient is dense gets
// torch::optim::Adam's update; one whose gradient is a coalesced row-sparse tensor gets the same
// update on the rows it holds only, leaving the other rows and their moments untouched ("lazy"
// Adam, as PyTorch's SparseAdam does). LibTorch's Adam refuses sparse gradients and C++ has no
// SparseAdam; updating every row of a 2^18 x 64 table each step would cost three quarters of the
// step (see TRAINING_REFERENCE.md).
//
// One class serves both kinds so that all optimiser state lives in one place and is saved to and
// restored from a checkpoint by parameter name.

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/hdf5_file.h"

namespace recsys::models {

struct LazyAdamOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

class LazyAdam {
 public:
  // params: the parameters to update, with their names (used in checkpoints).
  LazyAdam(std::vector<std::pair<std::string, torch::Tensor>> params,
           const LazyAdamOptions& options);

  // One update with learning rate lr from each parameter's grad(): skipped when undefined;
  // row-wise when sparse (must be coalesced, one sparse dimension). Bias correction uses the
  // number of Step() calls so far, for dense and sparse parameters alike. Not collective.
  // updated_rows: for the sparse parameters it names, a contiguous [gradient rows, cols] tensor
  // (the parameter's dtype and device; undefined = none) that receives the updated rows too, in
  // the gradient's row order: what the data-parallel trainer sends to the other ranks, written
  // while the row is at hand instead of read back from the table.
  void Step(double lr, const std::map<std::string, torch::Tensor>& updated_rows = {});

  int64_t steps() const { return steps_; }

  // The first and second moments of the parameter called name (tensors sharing the optimiser's
  // storage); throws when there is none.
  std::pair<torch::Tensor, torch::Tensor> moments(const std::string& name) const;

  // First and second moments as "<group>/m/<name>" and "<group>/v/<name>"; the step count is the
  // caller's to store (it is the trainer's step).
  void Save(H5Writer& out, const std::string& group) const;
  void Load(const H5Reader& in, const std::string& group, int64_t steps);

 private:
  struct Slot {
    std::string name;
    torch::Tensor param, m, v;
  };
  LazyAdamOptions options_;
  std::vector<Slot> slots_;
  int64_t steps_ = 0;
};

}  // namespace recsys::models
