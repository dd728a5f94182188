// recsys_bench_train: two-tower training throughput of the data-parallel trainer.
//   mpirun -np P recsys_bench_train [--batch 512] [--steps 30] [--inputs synthetic|dataset]
// Prints global samples/s and ms per step for P ranks (bench/run_train_bench.sh runs P = 1 and 2
// and prints the scaling table).
//
// `--independent` is the machine's ceiling for that table: every rank trains a whole global batch
// alone (MPI_COMM_SELF, no communication at all), under the same launcher and core binding as the
// data-parallel run. What P such ranks reach together is what P cores give this job when nothing
// is exchanged; P times the slowest rank's rate is the most a synchronous data-parallel step with
// an even split could reach, since every step waits for the slowest rank.
//
// The model and inputs mirror TRAINING_REFERENCE.md, whose PyTorch figures this compares to:
// query tower EmbeddingBag(2^18, 64, mean) -> 128 -> 64, product tower EmbeddingBag(2^18, 64) +
// brand (5000 x 16) + category (500 x 16) -> 128 -> 64 (plus this model's colour table and six
// numeric inputs), in-batch softmax at temperature 0.05, Adam lr 1e-3, one thread per rank.
// `--batch` is the GLOBAL batch, split over the ranks, as recsys_train's --batch-size: 1 and P
// ranks then train the same model (the printed losses agree), so the ratio of samples/s is the
// speed-up of the real job. (The in-batch softmax scores each example against the whole global
// batch, so growing the global batch with the ranks, as DDP benchmarks do, would also grow the
// work per example.)
//   --inputs synthetic: random ids, 12 per query and 40 per title, as the reference used.
//   --inputs dataset: a generated catalogue featurised for real (more ids per text) trained
//     through the base variant's objective, i.e. exactly what `recsys_train` runs.

#include <torch/torch.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "core/numeric_checks.h"
#include "data/catalog_generator.h"
#include "dist/data_parallel.h"
#include "dist/distributed_sampler.h"
#include "dist/mpi_communicator.h"
#include "launch/main_util.h"
#include "models/data_parallel_trainer.h"
#include "models/recall_losses.h"
#include "models/recall_objective.h"
#include "models/two_tower.h"

namespace po = boost::program_options;

namespace recsys::bench {
namespace {

struct TrainBenchOptions {
  int64_t batch = 512;  // GLOBAL examples per step, split over the ranks (recsys_train default)
  int64_t steps = 30;   // timed steps
  int64_t warmup = 5;   // untimed steps first
  int threads = 1;      // torch threads per rank
  std::string inputs = "synthetic";
  int64_t products = 20000;  // catalogue size for --inputs dataset
  bool independent = false;  // every rank trains alone: the ceiling without communication
  std::string csv;           // append a result row here (rank 0)
};

models::TwoTowerOptions ReferenceModel() {
  return models::TwoTowerOptions()
      .num_buckets(int64_t{1} << 18)
      .hidden(128)
      .dim(64)
      .num_brands(5000)
      .num_categories(500)
      .num_colours(32)
      .temperature(0.05);
}

// Random ids in CSR form: n texts of `per_text` ids each.
void RandomIds(int64_t n, int64_t per_text, torch::Tensor* ids, torch::Tensor* offsets) {
  *ids = torch::randint(int64_t{1} << 18, {n * per_text}, torch::kInt64);
  *offsets = torch::arange(0, n * per_text, per_text, torch::kInt64);
}

// One step's local loss on synthetic inputs (this rank's slice of a global batch of `batch`):
// in-batch softmax over the GLOBAL batch's products
// (gathered across ranks), as the base variant computes it.
torch::Tensor SyntheticLoss(models::TwoTower& model, int64_t batch, dist::Communicator& comm) {
  std::vector<int64_t> counts(comm.size());
  for (int r = 0; r < comm.size(); ++r) counts[r] = dist::SliceOf(batch, r, comm.size()).size();
  const dist::Slice mine = dist::SliceOf(batch, comm.rank(), comm.size());
  const int64_t n = mine.size();
  models::QueryBatch q;
  RandomIds(n, 12, &q.ids, &q.offsets);
  models::ProductBatch p;
  RandomIds(n, 40, &p.title_ids, &p.title_offsets);
  p.brand = torch::randint(5000, {n}, torch::kInt64);
  p.category = torch::randint(500, {n}, torch::kInt64);
  p.colour = torch::randint(32, {n}, torch::kInt64);
  p.numeric = torch::randn({n, models::kNumericFeatures});
  const torch::Tensor queries = model->query->forward(q);
  const torch::Tensor products = dist::AllGatherRows(model->product->forward(p), counts, comm);
  const torch::Tensor logits = torch::matmul(queries, products.t()) * model->scale();
  const torch::Tensor target = torch::arange(n, torch::kInt64) + mine.begin;
  const torch::Tensor loss =
      models::SoftmaxLoss(logits, target, torch::zeros(logits.sizes(), torch::kBool));
  return loss.sum() / static_cast<double>(batch);
}

int Run(int argc, char** argv, dist::MpiRuntime& mpi) {
  TrainBenchOptions o;
  po::options_description options(
      "Usage: mpirun -np P recsys_bench_train [OPTIONS]\n"
      "Times data-parallel two-tower training steps on P ranks (model and inputs: see the\n"
      "comment at the top of bench/recsys_bench_train.cc). Options");
  options.add_options()("help,h", "show this help")(
      "batch", po::value(&o.batch)->default_value(o.batch),
      "global examples per step, split over the ranks")(
      "steps", po::value(&o.steps)->default_value(o.steps), "timed steps")(
      "warmup", po::value(&o.warmup)->default_value(o.warmup), "untimed steps before")(
      "threads", po::value(&o.threads)->default_value(o.threads), "torch threads per rank")(
      "inputs", po::value(&o.inputs)->default_value(o.inputs), "synthetic | dataset")(
      "products", po::value(&o.products)->default_value(o.products),
      "catalogue size with --inputs dataset")(
      "independent", po::bool_switch(&o.independent),
      "every rank trains a whole global batch alone, exchanging nothing: the machine's ceiling "
      "for P ranks (see the top of bench/recsys_bench_train.cc)")(
      "csv", po::value(&o.csv),
      "append a result row (ranks,mode,threads,global_batch,inputs,samples_per_s,ms_per_step) "
      "to this file; mode is data-parallel or independent, whose samples/s is P times the "
      "slowest rank's");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  if (vm.count("help")) {
    if (mpi.world_rank() == 0) std::cout << options << std::endl;
    return 0;
  }
  po::notify(vm);
  if (o.batch < 1 || o.steps < 1 || o.warmup < 0) {
    throw launch::UsageError("--batch and --steps must be positive");
  }
  launch::CheckUsage([&] { CheckThreads("--threads", o.threads); });
  if (o.inputs != "synthetic" && o.inputs != "dataset") {
    throw launch::UsageError("--inputs must be synthetic or dataset, not " + o.inputs);
  }
  torch::set_num_threads(o.threads);
  dist::MpiCommunicator world(MPI_COMM_WORLD);
  dist::MpiCommunicator comm(o.independent ? MPI_COMM_SELF : MPI_COMM_WORLD);  // trains over this
  torch::manual_seed(1 + world.rank());  // different synthetic inputs on every rank

  data::Dataset dataset;
  models::TwoTower model(ReferenceModel());
  const models::TwoTowerFeaturizer featurizer(model->options);
  std::unique_ptr<models::RecallObjective> objective;
  if (o.inputs == "dataset") {
    data::GeneratorOptions g;
    g.products = o.products;
    g.queries = o.products / 2;
    data::CatalogGenerator generator(g);
    generator.FillVocabularies(&dataset);
    dataset.products = generator.MakeProducts(0, g.products);
    generator.MakeQueries(0, g.queries, &dataset.queries, &dataset.pairs);
    models::RecallObjectiveOptions objective_options;
    objective_options.random_negatives = 0;  // in-batch negatives only, as the reference
    objective = models::MakeRecallObjective(models::RecallVariant::kBase, model, featurizer,
                                            dataset, objective_options);
  }
  dist::DistributedSampler sampler(objective ? objective->num_examples() : 1, o.batch, comm.rank(),
                                   comm.size(), 1);
  models::TrainerOptions trainer_options;
  trainer_options.learning_rate = 1e-3;
  trainer_options.warmup_steps = 0;
  trainer_options.decay = models::LrDecay::kConstant;
  trainer_options.clip_norm = 0;
  models::DataParallelTrainer trainer(*model, model->sparse_parameters(), trainer_options,
                                      o.warmup + o.steps, comm);
  auto step = [&](int64_t s) {
    if (!objective) return trainer.Step(SyntheticLoss(model, o.batch, comm));
    const int64_t epoch = s / sampler.steps_per_epoch(), in_epoch = s % sampler.steps_per_epoch();
    return trainer.Step(objective->LocalLoss(sampler.GlobalBatch(epoch, in_epoch), s, epoch, comm));
  };
  for (int64_t s = 0; s < o.warmup; ++s) step(s);
  world.Barrier();
  const auto start = std::chrono::steady_clock::now();
  double loss = 0;
  models::DataParallelTrainer::StepSeconds phases;
  for (int64_t s = o.warmup; s < o.warmup + o.steps; ++s) {
    loss = step(s);
    phases.backward += trainer.last_step_seconds().backward;
    phases.exchange += trainer.last_step_seconds().exchange;
    phases.update += trainer.last_step_seconds().update;
    phases.share += trainer.last_step_seconds().share;
  }
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  double seconds = elapsed();  // an independent rank's own time: not the others' lateness
  world.Barrier();
  if (!o.independent) seconds = elapsed();  // data-parallel: until the last rank is done
  // Each rank's phases: a phase that ends in a collective also holds the wait for the slowest
  // rank, so comparing ranks shows where the time is lost.
  const std::vector<double> mine = {seconds, phases.backward, phases.exchange, phases.update,
                                    phases.share};
  const std::vector<double> all = dist::GatherV(world, mine, /*root=*/0);
  if (world.rank() == 0) {
    const int ranks = world.size();
    auto ms = [&](double s) { return 1000 * s / o.steps; };
    // Data-parallel: the global rate (all ranks took the same wall time). Independent: each rank
    // trained o.batch samples a step; together they did `combined`, and an even synchronous
    // split could reach P times the slowest rank's rate.
    double slowest = 0, combined = 0;
    for (int r = 0; r < ranks; ++r) {
      slowest = std::max(slowest, all[5 * r]);
      combined += o.batch * o.steps / all[5 * r];
    }
    const double samples_per_s = (o.independent ? ranks : 1) * o.batch * o.steps / slowest;
    const double ms_per_step = ms(slowest);
    if (o.independent) {
      std::printf(
          "ranks %d independent, threads %d, batch %lld each, %s inputs: %.0f samples/s "
          "together, %.0f at the slowest rank's pace (%d x %.1f ms/step)\n",
          ranks, o.threads, static_cast<long long>(o.batch), o.inputs.c_str(), combined,
          samples_per_s, ranks, ms_per_step);
    } else {
      std::printf(
          "ranks %d, threads %d, global batch %lld, %s inputs: %.0f samples/s, %.1f "
          "ms/step (last loss %.3f)\n",
          ranks, o.threads, static_cast<long long>(o.batch), o.inputs.c_str(), samples_per_s,
          ms_per_step, loss);
    }
    for (int r = 0; r < ranks; ++r) {
      const double* p = &all[5 * r];
      std::printf(
          "  rank %d, ms per step: forward %.1f, backward %.1f, gradient exchange %.1f, "
          "clip + update %.1f, updated rows out %.1f\n",
          r, ms(p[0] - p[1] - p[2] - p[3] - p[4]), ms(p[1]), ms(p[2]), ms(p[3]), ms(p[4]));
    }
    if (!o.csv.empty()) {
      std::ofstream out(o.csv, std::ios::app);
      out << ranks << "," << (o.independent ? "independent" : "data-parallel") << "," << o.threads
          << "," << o.batch << "," << o.inputs << "," << samples_per_s << "," << ms_per_step
          << "\n";
    }
  }
  return 0;
}

}  // namespace
}  // namespace recsys::bench

int main(int argc, char** argv) {
  return recsys::launch::RunMain(
      "recsys_bench_train", argc, argv,
      [&](recsys::dist::MpiRuntime& mpi) { return recsys::bench::Run(argc, argv, mpi); });
}
