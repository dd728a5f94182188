#include "models/recall_training.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "data/vector_file.h"
#include "models/checkpoint.h"
#include "models/metrics.h"
#include "models/recall_objective.h"
#include "models/training_loop.h"
#include "models/two_tower.h"
#include "models/two_tower_embedder.h"

namespace recsys::models {

const char* VariantName(RecallVariant variant) {
  switch (variant) {
    case RecallVariant::kBase:
      return "base";
    case RecallVariant::kPointwise:
      return "pointwise";
    case RecallVariant::kPairwise:
      return "pairwise";
    case RecallVariant::kListwise:
      return "listwise";
  }
  return "?";
}

std::vector<RecallVariant> ParseVariants(const std::string& name) {
  const std::vector<RecallVariant> all = {RecallVariant::kBase, RecallVariant::kPointwise,
                                          RecallVariant::kPairwise, RecallVariant::kListwise};
  if (name == "all") return all;
  for (RecallVariant v : all) {
    if (name == VariantName(v)) return {v};
  }
  RECSYS_THROW("unknown variant '" << name
                                   << "' (choose base, pointwise, pairwise, listwise, all)");
}

std::string RecallCheckpointPath(const std::string& run, RecallVariant variant) {
  return (std::filesystem::path(run) / "checkpoints" /
          (std::string("two_tower_") + VariantName(variant) + ".h5"))
      .string();
}

RecallVariant BestTrainedVariant(const std::string& run, const std::string& variants) {
  bool found = false;
  RecallVariant best = RecallVariant::kBase;
  double best_recall = -1;
  for (RecallVariant v : ParseVariants(variants)) {
    const std::string path = RecallCheckpointPath(run, v);
    if (!std::filesystem::exists(path)) continue;
    const double recall = H5Reader(path).DoubleAttribute("/", "best_valid_metric");
    if (!found || recall > best_recall) {
      found = true;
      best = v;
      best_recall = recall;
    }
  }
  RECSYS_CHECK(found, "no two-tower checkpoint of variant(s) '"
                          << variants << "' in " << (std::filesystem::path(run) / "checkpoints")
                          << ": run the recall stage first");
  return best;
}

namespace {

constexpr char kModelName[] = "two_tower";

TwoTowerOptions ModelOptions(const RecallTrainOptions& o, const data::Dataset& dataset) {
  int32_t newest = 0;
  for (int32_t day : dataset.products.release_day) {
    if (day != data::kUnknownDay) newest = std::max(newest, day);
  }
  return TwoTowerOptions()
      .num_buckets(o.num_buckets)
      .dim(o.dim)
      .hidden(o.hidden)
      .tie_text(o.tie_text)
      .num_brands(static_cast<int64_t>(dataset.brands.size()))
      .num_categories(static_cast<int64_t>(dataset.categories.size()))
      .num_colours(static_cast<int64_t>(dataset.colours.size()))
      .reference_day(newest)
      .temperature(o.temperature)
      .learn_temperature(o.learn_temperature);
}

ModelConfig RecallConfig(const TwoTowerOptions& options, RecallVariant variant) {
  ModelConfig config = ToConfig(options);
  config["variant"] = VariantName(variant);
  return config;
}

RecallTrainReport TrainVariant(const RecallTrainOptions& o, RecallVariant variant,
                               const data::Dataset& dataset, dist::Communicator& comm) {
  const std::string name = std::string(kModelName) + "_" + VariantName(variant);
  GradientPath gradients = MakeGradientPath(o.device, comm);
  const TwoTowerOptions model_options = ModelOptions(o, dataset);
  torch::manual_seed(o.seed);
  TwoTower model(model_options);
  model->to(gradients.device);
  const TwoTowerFeaturizer featurizer(model_options);
  RecallObjectiveOptions objective_options;
  objective_options.random_negatives = o.random_negatives;
  objective_options.margin = o.margin;
  objective_options.recall_k = o.recall_k;
  objective_options.seed = o.seed;
  const std::unique_ptr<RecallObjective> objective =
      MakeRecallObjective(variant, model, featurizer, dataset, objective_options);
  RECSYS_CHECK(objective->num_examples() > 0,
               name << ": the train split of " << o.data << " has no training examples");
  // Without valid queries every epoch scores 0, so early stopping would end the run after
  // `patience` epochs and keep the first one: refuse instead of training for nothing.
  RECSYS_CHECK(!JudgedQueries(dataset, data::Split::kValid).empty() || o.patience == 0,
               name << ": the valid split of " << o.data
                    << " has no judged query, and early stopping (--patience " << o.patience
                    << ") selects epochs on it; give the data a valid split (recsys_data convert "
                       "--valid-fraction) or train without early stopping (--patience 0)");

  TrainingLoopOptions loop;
  loop.name = name;
  loop.checkpoint = RecallCheckpointPath(o.out, variant);
  loop.model = {kModelName, RecallConfig(model_options, variant)};
  loop.metric_name = "recall@" + std::to_string(o.recall_k);
  loop.epochs = o.epochs;
  loop.batch_size = objective->ExamplesPerBatch(o.batch_size);
  loop.patience = o.patience;
  loop.max_steps = o.max_steps;
  loop.resume = o.resume;
  loop.seed = o.seed;
  loop.trainer.learning_rate = o.learning_rate;
  loop.trainer.warmup_steps = o.warmup_steps;
  loop.trainer.decay = ParseLrDecay(o.lr_decay);
  loop.trainer.clip_norm = o.clip_norm;
  loop.curve = (std::filesystem::path(o.out) / "results" / "curves" / (name + ".csv")).string();
  if (comm.rank() == 0) {
    RECSYS_INFO(name << ": " << o.random_negatives << " random negatives per batch");
  }
  const TrainingLoopReport done =
      RunTrainingLoop(*model, model->sparse_parameters(), *objective, loop, gradients, comm);

  RecallTrainReport report;
  report.variant = variant;
  report.checkpoint = done.checkpoint;
  report.examples = done.examples;
  report.steps = done.steps;
  report.epochs = done.epochs;
  report.best_valid_recall = done.best_valid_metric;
  report.stopped_early = done.stopped_early;
  report.samples_per_second = done.samples_per_second;
  return report;
}

}  // namespace

void CheckRecallTrainOptions(const RecallTrainOptions& options) {
  RECSYS_CHECK(options.epochs >= 1, "--epochs must be at least 1, is " << options.epochs);
  RECSYS_CHECK(options.batch_size >= 1,
               "--batch-size must be at least 1, is " << options.batch_size);
  RECSYS_CHECK(options.threads >= 1, "--threads must be at least 1, is " << options.threads);
  RECSYS_CHECK(options.recall_k >= 1, "--recall-k must be at least 1, is " << options.recall_k);
  RECSYS_CHECK(options.dim >= 1, "--dim must be at least 1, is " << options.dim);
  RECSYS_CHECK(options.hidden >= 1, "--hidden must be at least 1, is " << options.hidden);
  RECSYS_CHECK(options.num_buckets >= 1,
               "--buckets must be at least 1, is " << options.num_buckets);
  RECSYS_CHECK(options.temperature > 0,
               "--temperature must be positive, is " << options.temperature);
  RECSYS_CHECK(options.learning_rate > 0, "--lr must be positive, is " << options.learning_rate);
  RECSYS_CHECK(!options.out.empty(), "no output folder given");
  ParseVariants(options.variant);
  ParseLrDecay(options.lr_decay);
}

std::vector<RecallTrainReport> TrainRecall(const RecallTrainOptions& options,
                                           dist::Communicator& comm) {
  CheckRecallTrainOptions(options);
  const std::vector<RecallVariant> variants = ParseVariants(options.variant);
  torch::set_num_threads(options.threads);
  const data::Dataset dataset = data::ReadDataset(options.data);
  std::vector<RecallTrainReport> reports;
  for (RecallVariant v : variants) reports.push_back(TrainVariant(options, v, dataset, comm));
  return reports;
}

std::string EmbedCatalogue(const EmbedOptions& options, dist::Communicator& comm) {
  RECSYS_CHECK(options.threads >= 1, "--threads must be at least 1, is " << options.threads);
  torch::set_num_threads(options.threads);
  std::string checkpoint = options.checkpoint;
  if (checkpoint.empty()) {
    const std::vector<RecallVariant> variants = ParseVariants(options.variant);
    RECSYS_CHECK(variants.size() == 1, "embed needs one variant, not '" << options.variant << "'");
    checkpoint = RecallCheckpointPath(options.out, variants[0]);
  }
  const std::string path = options.vectors.empty()
                               ? (std::filesystem::path(options.out) / "vectors.h5").string()
                               : options.vectors;
  const std::unique_ptr<TwoTowerEmbedder> embedder = TwoTowerEmbedder::Load(checkpoint);
  const data::Dataset dataset = data::ReadDataset(options.data);
  const auto products = static_cast<int64_t>(dataset.products.size());
  const dist::Slice mine = EmbeddingSlice(products, comm.rank(), comm.size());
  Progress progress("embedding", products, "products", comm.rank() == 0);
  const std::vector<float> local = embedder->EmbedProducts(dataset, mine.begin, mine.end);
  const std::vector<float> all = dist::GatherV(comm, local, /*root=*/0);
  progress.Update(products);
  progress.Finish();
  if (comm.rank() == 0) {
    if (std::filesystem::path(path).has_parent_path()) {
      std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    }
    data::WriteVectors(path, all, products, embedder->dim(), embedder->model_version());
    RECSYS_INFO("wrote " << path << " (" << products << " x " << embedder->dim() << ", "
                         << embedder->model_version() << ")");
  }
  comm.Barrier();
  return embedder->model_version();
}

}  // namespace recsys::models
