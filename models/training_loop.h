#pragma once
// The one training loop every model of the system uses (the two-tower variants, FM, DCN):
// epochs of data-parallel steps (models/data_parallel_trainer.h), a validation metric after each
// epoch, early stopping, best and last checkpoints, resume, progress with an ETA and a per-epoch
// training curve. What is learned, and from which examples, is the objective's business.
//
// Checkpoints (models/checkpoint.h's format plus the loop's state):
//   <checkpoint>        the best epoch so far by the validation metric: what later stages use
//   <checkpoint stem>.last.h5   the state after the latest epoch (or the step max_steps stopped
//                       at): what a resumed run continues from, exactly where it stopped
// Both hold the model, the optimiser moments, @step, @epoch, @steps_per_epoch,
// @best_valid_metric, @epochs_without_improvement, @valid_metric (the metric's name) and
// @train_seconds (time in training steps so far, resumed runs included), and training/keys,
// training/values: the training configuration (TrainingConfig below), compared on resume.

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "models/checkpoint.h"
#include "models/data_parallel_trainer.h"

namespace recsys::models {

// What a model is trained on. Examples are numbered 0 .. num_examples() - 1; the loop draws
// global batches of them (dist::DistributedSampler: the same on any number of ranks).
class TrainingObjective {
 public:
  virtual ~TrainingObjective() = default;
  virtual int64_t num_examples() const = 0;
  // COLLECTIVE over comm (the gradient communicator). batch: the global batch's example
  // indices, the same on every rank. Returns this rank's share of the batch's loss, such that
  // the shares sum to the global batch's loss (see DataParallelTrainer's protocol). step: the
  // global step; epoch: the current epoch (both may seed sampling).
  virtual torch::Tensor LocalLoss(const std::vector<int64_t>& batch, int64_t step, int64_t epoch,
                                  dist::Communicator& comm) = 0;
  // COLLECTIVE over comm (the MPI communicator). The validation metric (higher is better), the
  // same on every rank.
  virtual double Validate(dist::Communicator& comm) = 0;
};

// The communicator gradients travel on and the device the model lives on: the caller's MPI
// communicator on the CPU; NCCL over the same ranks, one GPU each, for "cuda".
struct GradientPath {
  std::unique_ptr<dist::Communicator> owned;  // NCCL, when training on CUDA
  dist::Communicator* comm = nullptr;
  torch::Device device = torch::kCPU;
};
// COLLECTIVE over comm for "cuda" (starts NCCL). device: "cpu" | "cuda"; throws otherwise, or
// when this build or machine has no CUDA.
GradientPath MakeGradientPath(const std::string& device, dist::Communicator& comm);

struct TrainingLoopOptions {
  std::string name;          // in logs: "two_tower_base", "fm", ...
  std::string checkpoint;    // the best checkpoint's path; the last one is beside it
  CheckpointInfo model;      // the checkpoint's @model and config (step and epoch are the loop's)
  std::string metric_name;   // the validation metric's name in logs and files ("recall@50")
  int64_t epochs = 10;       // at most this many passes over the examples (>= 1)
  int64_t batch_size = 512;  // GLOBAL examples per step
  int64_t patience = 2;      // stop after this many epochs without improvement; 0 = never
  int64_t max_steps = 0;     // stop after this many global steps; 0 = no limit
  bool resume = false;       // continue from the last checkpoint when it exists
  // Resume even when the stored training configuration differs from this run's (a warning
  // lists the differences); otherwise such a resume is refused.
  bool resume_changed_config = false;
  uint64_t seed = 1;       // the sampler's order of examples
  TrainerOptions trainer;  // warm-up is capped at a tenth of the run
  std::string curve;       // CSV of epoch, step, loss, metric, seconds (rank 0); "" = none
  // What else changes the result and is the caller's to know (margin, negatives, loss, ...):
  // stored in the checkpoints with the loop's own settings (TrainingConfig) and compared on resume.
  ModelConfig training;
  // More string attributes for both checkpoints' root ("ranker_name" -> "dcn-4").
  std::map<std::string, std::string> attributes;
};

struct TrainingLoopReport {
  std::string checkpoint;        // the best checkpoint
  int64_t examples = 0;          // examples per epoch
  int64_t steps = 0;             // global steps done in total (including resumed ones)
  int64_t epochs = 0;            // epochs completed
  double best_valid_metric = 0;  // best validation metric (0 before any epoch completed)
  bool stopped_early = false;
  double train_seconds = 0;  // time in training steps (resumed runs included), without validation
                             // and checkpoints
  double samples_per_second = 0;  // global training throughput of this call
};

// The training configuration a checkpoint stores: options.training plus the loop's and trainer's
// settings that change the result (batch size, epochs, patience, seed, learning rate, warm-up,
// decay, clipping). Not max_steps: stopping and resuming is what it is for.
ModelConfig TrainingConfig(const TrainingLoopOptions& options);

// The last checkpoint's path for a best checkpoint's path: a/b.h5 -> a/b.last.h5.
std::string LastCheckpointPath(const std::string& checkpoint);

// COLLECTIVE over comm (MPI) and gradients.comm (the same ranks). Trains model (on
// gradients.device) with objective; sparse_parameters as DataParallelTrainer takes them.
// Rank 0 writes the checkpoints and logs; whether to resume is decided on rank 0 (from the last
// checkpoint's existence) and broadcast, so every rank takes the same path. A checkpoint of
// another model or configuration refuses to resume, naming every difference; so does one of
// another training configuration, unless resume_changed_config (both checked on rank 0, the
// outcome shared with every rank). Throws on every rank, naming the step and epoch, when the
// loss, the gradient norm or a parameter becomes NaN or infinite; nothing is saved then. Returns
// the same report on every rank, after the best checkpoint exists.
TrainingLoopReport RunTrainingLoop(torch::nn::Module& model,
                                   const std::vector<std::string>& sparse_parameters,
                                   TrainingObjective& objective, const TrainingLoopOptions& options,
                                   const GradientPath& gradients, dist::Communicator& comm);

}  // namespace recsys::models
