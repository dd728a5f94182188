#include "models/recall_training.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "core/log.h"
#include "core/numeric_checks.h"
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
  // More random negatives than products would only repeat products (and can exhaust memory).
  const auto products = static_cast<int64_t>(dataset.products.size());
  objective_options.random_negatives = std::min(o.random_negatives, products);
  if (comm.rank() == 0 && objective_options.random_negatives < o.random_negatives) {
    RECSYS_WARN(name << ": --random-negatives " << o.random_negatives << " is more than the "
                     << products << " products; using " << products);
  }
  objective_options.margin = o.margin;
  objective_options.recall_k = o.recall_k;
  objective_options.seed = o.seed;
  const std::unique_ptr<RecallObjective> objective =
      MakeRecallObjective(variant, model, featurizer, dataset, objective_options);
  RECSYS_CHECK(objective->num_examples() > 0,
               name << ": the train split of " << o.data << " has no training examples");
  // Without valid queries every epoch scores 0, so early stopping would end the run after
  // `patience` epochs and keep the first one: refuse instead of training for nothing.
  // Without valid queries every epoch scores 0: the best checkpoint (what later stages use)
  // would be the first epoch's, whatever --patience says. Refuse instead of training for nothing.
  RECSYS_CHECK(!JudgedQueries(dataset, data::Split::kValid).empty(),
               name << ": the valid split of " << o.data
                    << " has no judged query; the best epoch is chosen on it, so give the data a "
                       "valid split (recsys_data convert --valid-fraction)");

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
  loop.resume_changed_config = o.resume_changed_config;
  loop.training = {{"random_negatives", std::to_string(objective_options.random_negatives)},
                   {"margin", DoubleText(o.margin)},
                   {"recall_k", std::to_string(o.recall_k)}};
  loop.seed = o.seed;
  loop.trainer.learning_rate = o.learning_rate;
  loop.trainer.warmup_steps = o.warmup_steps;
  loop.trainer.decay = ParseLrDecay(o.lr_decay);
  loop.trainer.clip_norm = o.clip_norm;
  loop.curve = (std::filesystem::path(o.out) / "results" / "curves" / (name + ".csv")).string();
  if (comm.rank() == 0) {
    RECSYS_INFO(name << ": " << objective_options.random_negatives
                     << " random negatives per batch");
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
  const RecallTrainOptions& o = options;
  CheckCount("--epochs", o.epochs, 1);
  CheckCount("--batch-size", o.batch_size, 1);
  CheckCount("--random-negatives", o.random_negatives, 0);
  CheckThreads("--threads", o.threads);
  CheckCount("--recall-k", o.recall_k, 1);
  CheckCount("--dim", o.dim, 1);
  CheckCount("--hidden", o.hidden, 1);
  CheckCount("--buckets", o.num_buckets, 1);
  CheckCount("--warmup-steps", o.warmup_steps, 0);
  CheckCount("--patience", o.patience, 0);
  CheckCount("--max-steps", o.max_steps, 0);
  CheckPositive("--temperature", o.temperature);
  CheckPositive("--lr", o.learning_rate);
  CheckNonNegative("--margin", o.margin);
  CheckNonNegative("--clip-norm", o.clip_norm);
  // The text tables dominate: buckets x dim floats each, with the optimiser's two moments.
  const double tables = o.tie_text ? 1 : 2;
  CheckFitsInMemory("--buckets " + std::to_string(o.num_buckets) + " x --dim " +
                        std::to_string(o.dim) + " (the text tables and their optimiser state)",
                    3.0 * tables * static_cast<double>(o.num_buckets) * o.dim * sizeof(float));
  CheckFitsInMemory("--hidden " + std::to_string(o.hidden) + " x --dim " + std::to_string(o.dim) +
                        " (the towers' layers and their optimiser state)",
                    3.0 * 4 * static_cast<double>(o.hidden) * (o.dim + 64) * sizeof(float));
  RECSYS_CHECK(!o.out.empty(), "no output folder given");
  ParseVariants(o.variant);
  ParseLrDecay(o.lr_decay);
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
  CheckThreads("--threads", options.threads);
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
