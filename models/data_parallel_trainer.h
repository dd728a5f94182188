#pragma once
// The one data-parallel training step every model of the system uses (the two-tower recall model
// now, the FM and DCN rankers later).
//
// Protocol of a step, identical on every rank (all of it COLLECTIVE over the communicator):
//  1. The caller computes this rank's share of the loss: the sum of its examples' losses divided
//     by the GLOBAL batch size. The global loss (the batch mean) is then the sum of the shares,
//     and its gradient the sum of the ranks' gradients, whatever the number of ranks.
//  2. Step() runs backward; the dense gradients are summed over the ranks in fused buckets, so
//     every rank holds the whole dense gradient.
//  3. Sparse embedding gradients are reduce-scattered by row owner (dist::OwnedRows): each rank
//     receives the summed gradient of the touched rows it owns, and only those.
//  4. The gradient is clipped by its global norm: the dense part's norm is the same everywhere,
//     the sparse parts' squared norms are summed over the owners (with the loss, for logging, in
//     the same all-reduce).
//  5. LazyAdam updates the dense parameters (every rank, identically) and each rank's own touched
//     rows, writing the updated rows into the message that then sends them to every rank
//     (dist::UpdatedRowsShare).
// Rank 0's initial parameters are broadcast at construction, so all ranks hold the same
// parameters after every step, equal (to float rounding) to those one rank would compute on
// the same global batches. The sparse tables' Adam moments are current only in the rows a rank
// owns; Save() gathers them.
//
// The communicator carries the gradients, so it must match the model's device: MPI for a CPU
// model, NCCL (dist::Backend::kNccl) for a CUDA one.

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/hdf5_file.h"
#include "dist/communicator.h"
#include "models/lazy_adam.h"

namespace recsys::models {

enum class LrDecay { kConstant, kLinear, kCosine };
// "constant", "linear", "cosine"; throws listing them otherwise.
LrDecay ParseLrDecay(const std::string& name);

struct TrainerOptions {
  double learning_rate = 1e-3;       // peak learning rate
  int64_t warmup_steps = 100;        // linear warm-up from 0 to the peak over these steps
  LrDecay decay = LrDecay::kCosine;  // after warm-up, down to 0 at total_steps
  double clip_norm = 1.0;            // clip the gradient's global L2 norm to this; 0 = no clipping
  LazyAdamOptions adam;
  int64_t bucket_bytes = int64_t{4} << 20;  // fused dense all-reduce bucket size
};

// The learning rate at step (0-based) of total_steps. Not collective; pure.
double ScheduledLearningRate(const TrainerOptions& options, int64_t step, int64_t total_steps);

class DataParallelTrainer {
 public:
  // COLLECTIVE over comm: broadcasts rank 0's parameters and buffers into model. model must
  // outlive the trainer. sparse_parameters: names (as model.named_parameters() gives them) of
  // the parameters whose gradients are row-sparse [rows, cols] tables; every other parameter's
  // gradient is dense. total_steps (>= 1) is what the learning-rate schedule spans.
  DataParallelTrainer(torch::nn::Module& model, const std::vector<std::string>& sparse_parameters,
                      const TrainerOptions& options, int64_t total_steps, dist::Communicator& comm);

  // COLLECTIVE. One optimisation step on this rank's share of the loss (see the protocol above;
  // a rank whose share does not require grad, e.g. an empty slice, contributes zero gradients).
  // Returns the global loss: the sum of every rank's local_loss.
  double Step(const torch::Tensor& local_loss);

  int64_t step() const { return step_; }
  // The learning rate the next Step() uses.
  double learning_rate() const;
  // The global gradient norm before clipping, at the last Step().
  double last_gradient_norm() const { return last_norm_; }

  // Seconds the last Step() spent in each phase: backward (2), gradient exchange (2 and 3),
  // clipping plus the optimiser update (4 and 5), and sending the updated rows (5). For
  // benchmarks.
  struct StepSeconds {
    double backward = 0, exchange = 0, update = 0, share = 0;
  };
  const StepSeconds& last_step_seconds() const { return last_seconds_; }

  // Optimiser state under "optimizer/"; the step is stored by the caller in the checkpoint's
  // CheckpointInfo::step. Save is COLLECTIVE: it gathers the row-sharded moments onto rank 0,
  // which passes the writer (the other ranks pass nullptr). Load is not collective: every rank
  // reads the whole state, so a checkpoint loads on any number of ranks.
  void Save(H5Writer* out);
  void Load(const H5Reader& in, int64_t step);

 private:
  struct Param {
    std::string name;
    torch::Tensor tensor;
    bool sparse;
  };
  TrainerOptions options_;
  int64_t total_steps_;
  dist::Communicator& comm_;
  std::vector<Param> params_;
  torch::Device device_ = torch::kCPU;  // where the parameters (and the communicator) live
  LazyAdam adam_;
  int64_t step_ = 0;
  double last_norm_ = 0;
  StepSeconds last_seconds_;
};

}  // namespace recsys::models
