#pragma once
// The recall stages as library functions: training the two-tower model (`recsys_train --stage
// recall`) and embedding the catalogue with it (`--stage embed`). Plain option structs, no
// LibTorch in this header: launch/ includes it without paying torch's compile time.

#include <cstdint>
#include <string>
#include <vector>

#include "dist/communicator.h"

namespace recsys::models {

// The four training variants (their examples, negatives and losses: models/recall_objective.h).
enum class RecallVariant { kBase, kPointwise, kPairwise, kListwise };
const char* VariantName(RecallVariant variant);  // "base", "pointwise", "pairwise", "listwise"
// One variant's name, or "all" for the four in the order above; throws listing the choices.
std::vector<RecallVariant> ParseVariants(const std::string& name);

// RUN/checkpoints/two_tower_<variant>.h5
std::string RecallCheckpointPath(const std::string& run, RecallVariant variant);

// Of the variants named by `variants` (ParseVariants' syntax) whose checkpoint exists in run,
// the one with the best validation Recall@K stored in its checkpoint (ties: the earlier in
// base, pointwise, pairwise, listwise order). The variant the embed stage and serving use when
// none is named. Throws naming the folder when none of them has a checkpoint. Not collective.
RecallVariant BestTrainedVariant(const std::string& run, const std::string& variants);

struct RecallTrainOptions {
  std::string data;                // dataset.h5 to train on (train split; valid for early stopping)
  std::string out;                 // run folder; writes out/checkpoints/two_tower_<variant>.h5
  std::string variant = "all";     // base | pointwise | pairwise | listwise | all
  int64_t epochs = 10;             // at most this many passes over the variant's examples
  int64_t batch_size = 512;        // GLOBAL judged pairs per step, split over the ranks; a
                                   // list-wise step takes whole lists adding up to about this
  int64_t random_negatives = 256;  // random catalogue products shared by each global batch
  double margin = 0.2;             // pairwise hinge margin (on cosines)
  double learning_rate = 0.02;     // peak learning rate (Adam; row-wise for embedding tables)
  int64_t warmup_steps = 100;      // linear warm-up steps (at most a tenth of the run)
  std::string lr_decay = "cosine";  // after warm-up, to 0 at the last step: cosine|linear|constant
  double clip_norm = 1.0;           // clip the global gradient norm; 0 = off
  int64_t dim = 64;                 // embedding size = width of the text n-gram tables
  int64_t hidden = 128;             // tower MLP hidden width
  bool tie_text = true;             // one text table shared by the query and product towers
  int64_t num_buckets = int64_t{1} << 18;  // hashed text feature buckets
  double temperature = 0.05;       // score = cosine / temperature (initial value when learned)
  bool learn_temperature = false;  // learn the temperature
  int recall_k = 50;               // early stopping watches Recall@recall_k on the valid split
  int64_t patience = 2;            // stop after this many epochs without improvement; 0 = never
  uint64_t seed = 1;               // same seed, same data and ranks -> same run
  int threads = 1;                 // torch intra-op threads per rank
  bool resume = false;  // continue from the variant's checkpoint when it exists (same config)
  bool resume_changed_config = false;  // resume even when the training configuration changed
  int64_t max_steps = 0;  // stop after this many global steps and write a checkpoint; 0 = no limit
  std::string device = "cpu";  // cpu (MPI gradients) | cuda (NCCL gradients; CUDA LibTorch only)
};

// What one variant's training did.
struct RecallTrainReport {
  RecallVariant variant = RecallVariant::kBase;
  std::string checkpoint;        // where the model was written
  int64_t examples = 0;          // training examples per epoch
  int64_t steps = 0;             // global steps done in total (including resumed ones)
  int64_t epochs = 0;            // epochs completed
  double best_valid_recall = 0;  // best Recall@recall_k on the valid split
  bool stopped_early = false;
  double samples_per_second = 0;  // global training throughput of this call (no validation)
};

// Throws recsys::Error naming the first flag of options out of range (as TrainRecall would before
// training). Not collective.
void CheckRecallTrainOptions(const RecallTrainOptions& options);

// COLLECTIVE over comm (MPI; every rank calls it with the same options). Trains each variant
// named by options.variant data-parallel over comm's ranks with the shared training loop
// (models/training_loop.h): rank 0 logs progress and writes the best checkpoint
// (two_tower_<variant>.h5, what later stages use) and the last one (two_tower_<variant>.last.h5,
// what --resume continues from, exactly where it stopped), and the training curve
// RUN/results/curves/two_tower_<variant>.csv. Returns one report per variant, the same on every
// rank.
std::vector<RecallTrainReport> TrainRecall(const RecallTrainOptions& options,
                                           dist::Communicator& comm);

struct EmbedOptions {
  std::string data;                  // dataset.h5 whose catalogue is embedded
  std::string out;                   // run folder: reads its checkpoint, writes out/vectors.h5
  std::string variant = "pairwise";  // which variant's checkpoint to use
  std::string checkpoint;            // explicit checkpoint path (default: from out and variant)
  std::string vectors;               // explicit output path (default: out/vectors.h5)
  int threads = 1;                   // torch intra-op threads per rank
};

// COLLECTIVE over comm (MPI). Every rank embeds its slice of the catalogue with the product
// tower; rank 0 gathers the slices and writes vectors.h5 (data/vector_file.h) with the model
// version "two_tower_<variant>-<parameter hash>", which it returns (on every rank). The file is
// bit-identical for any number of ranks.
std::string EmbedCatalogue(const EmbedOptions& options, dist::Communicator& comm);

}  // namespace recsys::models
