#include "models/training_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "dist/collective_try.h"
#include "dist/distributed_sampler.h"
#include "dist/make_communicator.h"
#include "dist/mpi_communicator.h"
#include "recsys/config.h"
#if RECSYS_WITH_NCCL
#include "dist/nccl_communicator.h"
#endif

namespace recsys::models {
namespace {

namespace fs = std::filesystem;

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Early stopping and time spent, kept in the checkpoints so that a resumed run goes on as it would
// have.
struct LoopState {
  double best = -1;          // best validation metric so far; -1 before the first epoch
  int64_t stale = 0;         // epochs since the best
  double train_seconds = 0;  // in training steps so far
};

// COLLECTIVE over comm: the whole training state, written atomically to path by rank 0 (the
// other ranks send it their share of the optimiser state).
void WriteState(const std::string& path, const TrainingLoopOptions& o, torch::nn::Module& model,
                DataParallelTrainer& trainer, int64_t epoch, int64_t steps_per_epoch,
                const LoopState& early, dist::Communicator& comm) {
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<H5Writer> out;
  if (comm.rank() == 0) {
    fs::create_directories(fs::path(path).parent_path());
    out = std::make_unique<H5Writer>(path);
    CheckpointInfo info = o.model;
    info.step = trainer.step();
    info.epoch = epoch;
    WriteCheckpointInfo(*out, info, model.parameters().at(0).scalar_type());
    WriteModule(*out, model);
  }
  trainer.Save(out.get());
  if (!out) return;
  out->SetAttribute("/", "steps_per_epoch", steps_per_epoch);
  out->SetAttribute("/", "best_valid_metric", early.best);
  out->SetAttribute("/", "epochs_without_improvement", early.stale);
  out->SetAttribute("/", "valid_metric", o.metric_name);
  out->SetAttribute("/", "train_seconds", early.train_seconds);
  for (const auto& [key, value] : o.attributes) out->SetAttribute("/", key, value);
  WriteConfig(*out, "training", TrainingConfig(o));
  out->Commit();
  RECSYS_INFO("checkpoint " << path << " (" << (fs::file_size(path) >> 20) << " MiB) written in "
                            << SecondsSince(start) << " s");
}

// COLLECTIVE over comm. Throws on every rank when any rank's model holds a NaN or infinite
// parameter, naming the step and epoch, so that no checkpoint of a diverged model is written. The
// count is summed over the ranks, so all of them decide alike whatever each replica holds.
void CheckFiniteParameters(torch::nn::Module& model, const TrainingLoopOptions& o, int64_t step,
                           int64_t epoch, dist::Communicator& comm) {
  torch::NoGradGuard no_grad;
  int64_t bad = 0;
  std::string first;
  for (const auto& p : model.named_parameters()) {
    const int64_t n = p.value().numel() - torch::isfinite(p.value()).sum().item<int64_t>();
    if (n > 0 && first.empty()) first = p.key();
    bad += n;
  }
  bad = dist::AllReduceValue(comm, bad);
  RECSYS_CHECK(bad == 0, o.name << ": " << bad
                                << " parameter value(s) are NaN or infinite after step " << step
                                << " (epoch " << epoch + 1 << ")"
                                << (first.empty() ? "" : ", first in " + first)
                                << "; training diverged (learning rate too high?), no checkpoint "
                                   "written");
}

// Rank 0: path becomes a copy of from, atomically (a temporary name, then a rename).
void CopyAtomically(const std::string& from, const std::string& path) {
  const std::string temporary = path + ".tmp";
  fs::copy_file(from, temporary, fs::copy_options::overwrite_existing);
  fs::rename(temporary, path);
}

// COLLECTIVE over comm. Whether the checkpoint at path may be resumed from: of this model and
// configuration, as many steps per epoch, and (unless o.resume_changed_config) the same training
// configuration. Decided on rank 0; every rank throws rank 0's message when it may not.
void CheckResumable(const std::string& path, const TrainingLoopOptions& o, int64_t steps_per_epoch,
                    dist::Communicator& comm) {
  dist::CollectiveTry(comm, [&] {
    if (comm.rank() != 0) return;
    H5Reader in(path);
    CheckCheckpointMatches(ReadCheckpointInfo(in), path, o.model.model, o.model.config);
    const std::string diffs = ConfigDifferences(ReadConfig(in, "training"), TrainingConfig(o));
    RECSYS_CHECK(diffs.empty() || o.resume_changed_config,
                 "cannot resume from " << path << ": it was trained with another training "
                                       << "configuration: " << diffs
                                       << " (give --resume-changed-config to resume anyway)");
    // Even when asked: the stored step must fall at the same place of an epoch.
    const int64_t stored = in.Int64Attribute("/", "steps_per_epoch");
    RECSYS_CHECK(stored == steps_per_epoch,
                 "cannot resume from " << path << ": it was trained with " << stored
                                       << " steps per epoch, this run has " << steps_per_epoch
                                       << " (another batch size or dataset)");
    if (!diffs.empty()) {
      RECSYS_WARN(o.name << ": resuming with a changed training configuration: " << diffs);
    }
  });
}

// Every rank: the model, optimiser and early-stopping state of a checkpoint that
// CheckResumable accepted. Returns the epoch to continue in.
int64_t LoadState(const std::string& path, torch::nn::Module& model, DataParallelTrainer& trainer,
                  LoopState* early) {
  H5Reader in(path);
  const CheckpointInfo info = ReadCheckpointInfo(in);
  ReadModule(in, model);
  trainer.Load(in, info.step);
  early->best = in.DoubleAttribute("/", "best_valid_metric");
  early->stale = in.Int64Attribute("/", "epochs_without_improvement");
  early->train_seconds = in.DoubleAttribute("/", "train_seconds");
  return info.epoch;
}

// Rank 0: the training curve, one row per epoch; a fresh run starts the file anew.
class Curve {
 public:
  Curve(const std::string& path, const std::string& metric, bool resumed, bool enabled) {
    if (!enabled || path.empty()) return;
    if (fs::path(path).has_parent_path()) fs::create_directories(fs::path(path).parent_path());
    const bool header = !resumed || !fs::exists(path);
    out_.open(path, resumed ? std::ios::app : std::ios::trunc);
    RECSYS_CHECK(out_, "cannot write the training curve " << path);
    if (header) out_ << "epoch,step,loss," << metric << ",seconds\n";
  }
  void Add(int64_t epoch, int64_t step, double loss, double metric, double seconds) {
    if (!out_.is_open()) return;
    out_ << epoch << ',' << step << ',' << loss << ',' << metric << ',' << seconds << '\n';
    out_.flush();
  }

 private:
  std::ofstream out_;
};

}  // namespace

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

ModelConfig TrainingConfig(const TrainingLoopOptions& o) {
  const char* decays[] = {"constant", "linear", "cosine"};
  ModelConfig config = o.training;
  config["batch_size"] = std::to_string(o.batch_size);
  config["epochs"] = std::to_string(o.epochs);
  config["patience"] = std::to_string(o.patience);
  config["seed"] = std::to_string(o.seed);
  config["lr"] = DoubleText(o.trainer.learning_rate);
  config["warmup_steps"] = std::to_string(o.trainer.warmup_steps);
  config["lr_decay"] = decays[static_cast<int>(o.trainer.decay)];
  config["clip_norm"] = DoubleText(o.trainer.clip_norm);
  return config;
}

std::string LastCheckpointPath(const std::string& checkpoint) {
  fs::path path(checkpoint);
  return (path.parent_path() / (path.stem().string() + ".last.h5")).string();
}

TrainingLoopReport RunTrainingLoop(torch::nn::Module& model,
                                   const std::vector<std::string>& sparse_parameters,
                                   TrainingObjective& objective, const TrainingLoopOptions& o,
                                   const GradientPath& gradients, dist::Communicator& comm) {
  RECSYS_CHECK(o.epochs >= 1, o.name << ": epochs must be at least 1, is " << o.epochs);
  RECSYS_CHECK(o.batch_size >= 1, o.name << ": batch size must be at least 1, is " << o.batch_size);
  const bool root = comm.rank() == 0;
  TrainingLoopReport report;
  report.checkpoint = o.checkpoint;
  report.examples = objective.num_examples();
  RECSYS_CHECK(report.examples > 0, o.name << ": no training examples");
  const std::string last = LastCheckpointPath(o.checkpoint);

  dist::DistributedSampler sampler(report.examples, o.batch_size, comm.rank(), comm.size(), o.seed);
  const int64_t steps_per_epoch = sampler.steps_per_epoch();
  TrainerOptions trainer_options = o.trainer;
  // A short run (few steps per epoch, as listwise has: an example is a whole query) would spend
  // all of itself warming up: warm-up takes at most a tenth of the run.
  trainer_options.warmup_steps =
      std::min(trainer_options.warmup_steps, o.epochs * steps_per_epoch / 10);
  // The schedule spans every epoch even when max_steps stops early, so that a run stopped and
  // resumed follows the same learning rates as one that was not.
  DataParallelTrainer trainer(model, sparse_parameters, trainer_options, o.epochs * steps_per_epoch,
                              *gradients.comm);

  // Rank 0 decides, so that ranks that see different file systems (or a file appearing while
  // they look) still take the same path.
  int64_t resume_flag = root && o.resume && fs::exists(last) ? 1 : 0;
  comm.Broadcast(&resume_flag, 1, dist::DataType::kInt64, 0);
  const bool resume = resume_flag != 0;
  LoopState early;
  int64_t epoch = 0;
  if (resume) {
    CheckResumable(last, o, steps_per_epoch, comm);
    epoch = LoadState(last, model, trainer, &early);
    if (root) {
      RECSYS_INFO(o.name << ": resuming from " << last << " at epoch " << epoch + 1 << ", step "
                         << trainer.step());
    }
  }
  if (root) {
    RECSYS_INFO(o.name << ": " << report.examples << " examples, " << steps_per_epoch
                       << " steps of " << o.batch_size << " per epoch, " << comm.size()
                       << " rank(s)");
  }
  Curve curve(o.curve, o.metric_name, resume, root);
  const int64_t first_epoch = epoch;
  Progress progress(o.name, (o.epochs - first_epoch) * report.examples, "samples", root);
  int64_t done = 0, samples = 0;
  bool stopped_by_steps = false;
  for (; epoch < o.epochs; ++epoch) {
    const int64_t first_step = std::max<int64_t>(0, trainer.step() - epoch * steps_per_epoch);
    const auto start = std::chrono::steady_clock::now();
    double loss_sum = 0;
    int64_t loss_steps = 0;
    done += first_step * o.batch_size;
    for (int64_t s = first_step; s < steps_per_epoch; ++s) {
      if (o.max_steps > 0 && trainer.step() >= o.max_steps) {
        stopped_by_steps = true;
        break;
      }
      const std::vector<int64_t> batch = sampler.GlobalBatch(epoch, s);
      const double loss =
          trainer.Step(objective.LocalLoss(batch, trainer.step(), epoch, *gradients.comm));
      // The loss is summed over the ranks (DataParallelTrainer::Step), and the gradient norm is
      // of the reduced gradients: every rank sees the same non-finite value and stops at the
      // same step, so none is left waiting in a collective.
      RECSYS_CHECK(std::isfinite(loss) && std::isfinite(trainer.last_gradient_norm()),
                   o.name << ": the loss is " << loss << " and the gradient norm "
                          << trainer.last_gradient_norm() << " at step " << trainer.step()
                          << " (epoch " << epoch + 1
                          << "); training diverged (learning rate too high?) or an input is not "
                             "finite; no checkpoint written");
      loss_sum += loss;
      ++loss_steps;
      done += static_cast<int64_t>(batch.size());
      samples += static_cast<int64_t>(batch.size());
      char note[128];
      std::snprintf(note, sizeof(note), "epoch %lld/%lld, step %lld, loss %.4f",
                    static_cast<long long>(epoch + 1), static_cast<long long>(o.epochs),
                    static_cast<long long>(trainer.step()), loss);
      progress.Update(done, note);
    }
    const double seconds = SecondsSince(start);
    report.train_seconds += seconds;
    early.train_seconds += seconds;
    // Before validation (NaN scores cannot be ranked) and before any checkpoint is written.
    CheckFiniteParameters(model, o, trainer.step(), epoch, comm);
    if (stopped_by_steps) break;
    const double metric = objective.Validate(comm);
    const bool improved = metric > early.best;
    if (improved) {
      early.best = metric;
      early.stale = 0;
    } else {
      ++early.stale;
    }
    const double loss = loss_steps ? loss_sum / loss_steps : 0.0;
    if (root) {
      RECSYS_INFO(o.name << " epoch " << epoch + 1 << "/" << o.epochs << ": step " << trainer.step()
                         << ", loss " << loss << ", valid " << o.metric_name << " " << metric
                         << (improved ? " (best)" : "") << ", "
                         << static_cast<int64_t>(samples / std::max(report.train_seconds, 1e-9))
                         << " samples/s");
    }
    curve.Add(epoch + 1, trainer.step(), loss, metric, early.train_seconds);
    // The same decision on every rank: the metric is reduced over the ranks.
    WriteState(last, o, model, trainer, epoch + 1, steps_per_epoch, early, *gradients.comm);
    if (root && improved) CopyAtomically(last, o.checkpoint);
    if (o.patience > 0 && early.stale >= o.patience) {
      report.stopped_early = true;
      ++epoch;
      break;
    }
  }
  progress.Finish();
  if (stopped_by_steps) {
    WriteState(last, o, model, trainer, epoch, steps_per_epoch, early, *gradients.comm);
    // Before any epoch is validated, the best model is the latest one.
    if (root && early.best < 0) CopyAtomically(last, o.checkpoint);
  }
  // Nobody returns before the checkpoint exists: the next stage may read it at once.
  comm.Barrier();
  report.steps = trainer.step();
  report.epochs = epoch;
  report.best_valid_metric = std::max(0.0, early.best);
  report.samples_per_second = report.train_seconds > 0 ? samples / report.train_seconds : 0.0;
  report.train_seconds = early.train_seconds;
  if (root) {
    RECSYS_INFO(o.name << ": " << report.epochs << " epoch(s), " << report.steps
                       << " steps, best valid " << o.metric_name << " " << report.best_valid_metric
                       << (report.stopped_early ? " (early stop)" : "") << "; "
                       << report.checkpoint);
  }
  return report;
}

}  // namespace recsys::models
