#include "models/recall_training.h"

#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>

#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "data/vector_file.h"
#include "dist/distributed_sampler.h"
#include "dist/make_communicator.h"
#include "dist/mpi_communicator.h"
#include "models/checkpoint.h"
#include "models/data_parallel_trainer.h"
#include "models/metrics.h"
#include "models/recall_objective.h"
#include "models/retriever.h"
#include "models/two_tower.h"
#include "models/two_tower_embedder.h"
#include "recsys/config.h"
#if RECSYS_WITH_NCCL
#include "dist/nccl_communicator.h"
#endif

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
    const double recall = H5Reader(path).DoubleAttribute("/", "best_valid_recall");
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

// Rows [begin, end) of the catalogue a rank embeds: whole blocks of TwoTowerEmbedder::kBlockRows,
// so that every row is computed the same way for any number of ranks.
dist::Slice ProductSlice(int64_t products, int rank, int world) {
  const int64_t block = TwoTowerEmbedder::kBlockRows;
  const dist::Slice blocks = dist::SliceOf((products + block - 1) / block, rank, world);
  return {std::min(products, blocks.begin * block), std::min(products, blocks.end * block)};
}

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

// Early-stopping state, kept in the checkpoint so that a resumed run stops where it would have.
struct EarlyStopping {
  double best = -1;   // best valid Recall@K so far; -1 before the first epoch
  int64_t stale = 0;  // epochs since the best
};

// COLLECTIVE over comm: Recall@k of the model on the valid split's judged queries (exact top-k
// over the whole catalogue). Every rank embeds its slice of the catalogue and of the queries.
double ValidRecall(TwoTower& model, const TwoTowerFeaturizer& featurizer,
                   const data::Dataset& dataset, const std::vector<JudgedQuery>& valid, int k,
                   dist::Communicator& comm) {
  const bool training = model->is_training();
  model->eval();
  const auto products = static_cast<int64_t>(dataset.products.size());
  const dist::Slice mine = ProductSlice(products, comm.rank(), comm.size());
  const std::vector<float> all_products =
      dist::AllGatherV(comm, EmbedProductRange(model, featurizer, dataset, mine.begin, mine.end,
                                               TwoTowerEmbedder::kBlockRows));
  const dist::Slice my_queries =
      dist::SliceOf(static_cast<int64_t>(valid.size()), comm.rank(), comm.size());
  std::vector<std::string> texts;
  std::vector<int32_t> local_rows;
  for (int64_t i = my_queries.begin; i < my_queries.end; ++i) {
    texts.push_back(dataset.queries.text[valid[i].query]);
    local_rows.push_back(static_cast<int32_t>(i - my_queries.begin));
  }
  EmbeddingRetriever retriever(
      "valid", EmbedQueryTexts(model, featurizer, texts, TwoTowerEmbedder::kBlockRows),
      all_products, model->options.dim());
  RankingMetrics metrics({k});
  const auto ranked = retriever.Retrieve(local_rows, k);
  for (size_t i = 0; i < ranked.size(); ++i) metrics.Add(ranked[i], valid[my_queries.begin + i]);
  metrics.AllReduce(comm);
  if (training) model->train();
  return metrics.queries() > 0 ? metrics.Recall(k) : 0.0;
}

// COLLECTIVE: the whole training state, written atomically by rank 0 (the other ranks send it
// their share of the optimiser state).
void WriteRecallCheckpoint(const std::string& path, const ModelConfig& config, TwoTower& model,
                           DataParallelTrainer& trainer, int64_t epoch, int64_t steps_per_epoch,
                           const EarlyStopping& early, dist::Communicator& comm) {
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<H5Writer> out;
  if (comm.rank() == 0) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    out = std::make_unique<H5Writer>(path);
    WriteCheckpointInfo(*out, {kModelName, config, trainer.step(), epoch},
                        model->log_scale.scalar_type());
    WriteModule(*out, *model);
  }
  trainer.Save(out.get());
  if (!out) return;
  out->SetAttribute("/", "steps_per_epoch", steps_per_epoch);
  out->SetAttribute("/", "best_valid_recall", early.best);
  out->SetAttribute("/", "epochs_without_improvement", early.stale);
  out->Commit();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RECSYS_INFO("checkpoint " << path << " (" << (std::filesystem::file_size(path) >> 20)
                            << " MiB) written in " << seconds << " s");
}

// Every rank: the model, optimiser and early-stopping state of a checkpoint of this
// configuration. Returns the epoch to continue in.
int64_t LoadRecallCheckpoint(const std::string& path, const ModelConfig& config, TwoTower& model,
                             DataParallelTrainer& trainer, int64_t steps_per_epoch,
                             EarlyStopping* early) {
  H5Reader in(path);
  const CheckpointInfo info = ReadCheckpointInfo(in);
  CheckCheckpointMatches(info, path, kModelName, config);
  const int64_t stored = in.Int64Attribute("/", "steps_per_epoch");
  RECSYS_CHECK(stored == steps_per_epoch,
               "cannot resume from " << path << ": it was trained with " << stored
                                     << " steps per epoch, this run has " << steps_per_epoch
                                     << " (another batch size or dataset)");
  ReadModule(in, *model);
  trainer.Load(in, info.step);
  early->best = in.DoubleAttribute("/", "best_valid_recall");
  early->stale = in.Int64Attribute("/", "epochs_without_improvement");
  return info.epoch;
}

// The communicator gradients travel on and the device the model lives on.
struct GradientPath {
  std::unique_ptr<dist::Communicator> owned;  // NCCL, when training on CUDA
  dist::Communicator* comm = nullptr;
  torch::Device device = torch::kCPU;
};

GradientPath MakeGradientPath(const std::string& device, dist::Communicator& comm) {
  GradientPath path;
  path.comm = &comm;
  if (device == "cpu") return path;
  RECSYS_CHECK(device == "cuda", "unknown device '" << device << "' (choose cpu or cuda)");
#if RECSYS_WITH_NCCL
  RECSYS_CHECK(torch::cuda::is_available(),
               "device cuda: this LibTorch has no CUDA support or no GPU is visible");
  auto* mpi = dynamic_cast<dist::MpiCommunicator*>(&comm);
  RECSYS_CHECK(mpi != nullptr, "device cuda needs an MPI communicator to start NCCL from");
  path.owned = dist::MakeCommunicator(dist::Backend::kNccl, mpi->mpi_comm());
  path.comm = path.owned.get();
  path.device =
      torch::Device(torch::kCUDA, static_cast<dist::NcclCommunicator*>(path.owned.get())->device());
  return path;
#else
  RECSYS_THROW("device cuda needs a build with NCCL (RECSYS_WITH_NCCL)");
#endif
}

RecallTrainReport TrainVariant(const RecallTrainOptions& o, RecallVariant variant,
                               const data::Dataset& dataset, dist::Communicator& comm) {
  const bool root = comm.rank() == 0;
  const std::string name = std::string(kModelName) + "_" + VariantName(variant);
  RecallTrainReport report;
  report.variant = variant;
  report.checkpoint = RecallCheckpointPath(o.out, variant);

  GradientPath gradients = MakeGradientPath(o.device, comm);
  const TwoTowerOptions model_options = ModelOptions(o, dataset);
  const ModelConfig config = RecallConfig(model_options, variant);
  torch::manual_seed(o.seed);
  TwoTower model(model_options);
  model->to(gradients.device);
  const TwoTowerFeaturizer featurizer(model_options);
  RecallObjectiveOptions objective_options;
  objective_options.random_negatives = o.random_negatives;
  objective_options.margin = o.margin;
  objective_options.seed = o.seed;
  const RecallObjective objective(variant, dataset, objective_options);
  report.examples = objective.num_examples();
  RECSYS_CHECK(report.examples > 0,
               name << ": the train split of " << o.data << " has no training examples");
  const int64_t batch_size = objective.ExamplesPerBatch(o.batch_size);
  dist::DistributedSampler sampler(objective.num_examples(), batch_size, comm.rank(), comm.size(),
                                   o.seed);
  const int64_t steps_per_epoch = sampler.steps_per_epoch();
  TrainerOptions trainer_options;
  trainer_options.learning_rate = o.learning_rate;
  // A short run (few steps per epoch, as listwise has: an example is a whole query) would spend
  // all of itself warming up: warm-up takes at most a tenth of the run.
  trainer_options.warmup_steps = std::min(o.warmup_steps, o.epochs * steps_per_epoch / 10);
  trainer_options.decay = ParseLrDecay(o.lr_decay);
  trainer_options.clip_norm = o.clip_norm;
  // The schedule spans every epoch even when max_steps stops early, so that a run stopped and
  // resumed follows the same learning rates as one that was not.
  DataParallelTrainer trainer(*model, model->sparse_parameters(), trainer_options,
                              o.epochs * steps_per_epoch, *gradients.comm);

  EarlyStopping early;
  int64_t epoch = 0;
  if (o.resume && std::filesystem::exists(report.checkpoint)) {
    epoch =
        LoadRecallCheckpoint(report.checkpoint, config, model, trainer, steps_per_epoch, &early);
    if (root) {
      RECSYS_INFO(name << ": resuming from " << report.checkpoint << " at epoch " << epoch + 1
                       << ", step " << trainer.step());
    }
  }
  if (root) {
    RECSYS_INFO(name << ": " << report.examples << " examples, " << steps_per_epoch << " steps of "
                     << batch_size << " per epoch, " << comm.size() << " rank(s), "
                     << o.random_negatives << " random negatives");
  }
  const std::vector<JudgedQuery> valid = JudgedQueries(dataset, data::Split::kValid);
  // Without valid queries every epoch scores 0, so early stopping would end the run after
  // `patience` epochs and keep the first one: refuse instead of training for nothing.
  RECSYS_CHECK(!valid.empty() || o.patience == 0,
               name << ": the valid split of " << o.data
                    << " has no judged query, and early stopping (--patience " << o.patience
                    << ") selects epochs on it; give the data a valid split (recsys_data convert "
                       "--valid-fraction) or train without early stopping (--patience 0)");
  const bool tty = isatty(STDERR_FILENO) == 1;
  double train_seconds = 0;
  int64_t samples = 0;
  bool stopped_by_steps = false;
  for (; epoch < o.epochs; ++epoch) {
    const int64_t first_step = std::max<int64_t>(0, trainer.step() - epoch * steps_per_epoch);
    Progress progress(name + " epoch " + std::to_string(epoch + 1) + "/" + std::to_string(o.epochs),
                      report.examples, "samples", root && tty);
    const auto start = std::chrono::steady_clock::now();
    int64_t done = first_step * batch_size;
    double loss_sum = 0;
    int64_t loss_steps = 0;
    for (int64_t s = first_step; s < steps_per_epoch; ++s) {
      if (o.max_steps > 0 && trainer.step() >= o.max_steps) {
        stopped_by_steps = true;
        break;
      }
      const std::vector<int64_t> batch = sampler.GlobalBatch(epoch, s);
      const double loss = trainer.Step(
          objective.LocalLoss(model, featurizer, batch, trainer.step(), epoch, *gradients.comm));
      loss_sum += loss;
      ++loss_steps;
      done += static_cast<int64_t>(batch.size());
      samples += static_cast<int64_t>(batch.size());
      char note[96];
      std::snprintf(note, sizeof(note), "step %lld, loss %.4f",
                    static_cast<long long>(trainer.step()), loss);
      progress.Update(done, note);
    }
    progress.Finish();
    train_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (stopped_by_steps) break;
    const double recall = ValidRecall(model, featurizer, dataset, valid, o.recall_k, comm);
    const bool improved = recall > early.best;
    if (improved) {
      early.best = recall;
      early.stale = 0;
    } else {
      ++early.stale;
    }
    if (root) {
      RECSYS_INFO(
          name << " epoch " << epoch + 1 << "/" << o.epochs << ": step " << trainer.step()
               << ", loss " << (loss_steps ? loss_sum / loss_steps : 0.0) << ", valid recall@"
               << o.recall_k << " " << recall << (improved ? " (best)" : "") << ", "
               << static_cast<int64_t>(samples / std::max(train_seconds, 1e-9)) << " samples/s");
    }
    if (improved) {  // the same on every rank: recall is reduced over the ranks
      WriteRecallCheckpoint(report.checkpoint, config, model, trainer, epoch + 1, steps_per_epoch,
                            early, *gradients.comm);
    }
    if (o.patience > 0 && early.stale >= o.patience) {
      report.stopped_early = true;
      ++epoch;
      break;
    }
  }
  if (stopped_by_steps) {
    WriteRecallCheckpoint(report.checkpoint, config, model, trainer, epoch, steps_per_epoch, early,
                          *gradients.comm);
  }
  // Nobody returns before the checkpoint exists: the next stage may read it at once.
  comm.Barrier();
  report.steps = trainer.step();
  report.epochs = epoch;
  report.best_valid_recall = std::max(0.0, early.best);
  report.samples_per_second = train_seconds > 0 ? samples / train_seconds : 0.0;
  if (root) {
    RECSYS_INFO(name << ": " << report.epochs << " epoch(s), " << report.steps
                     << " steps, best valid recall@" << o.recall_k << " "
                     << report.best_valid_recall << (report.stopped_early ? " (early stop)" : "")
                     << "; " << report.checkpoint);
  }
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
  const dist::Slice mine = ProductSlice(products, comm.rank(), comm.size());
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
