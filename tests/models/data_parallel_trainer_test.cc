#include "models/data_parallel_trainer.h"

#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>

#include "core/error.h"
#include "dist/distributed_sampler.h"
#include "dist/make_communicator.h"
#include "dist/mpi_communicator.h"
#include "models/recall_objective.h"
#include "recsys/config.h"
#include "tests/models/two_tower_test_util.h"
#if RECSYS_WITH_NCCL
#include "dist/nccl_communicator.h"
#endif

namespace recsys::models {
namespace {

using testing_util::ExpectModulesClose;

const data::Dataset& Dataset() {
  static const data::Dataset d = testing_util::SmallDataset(400, 300, 5);
  return d;
}

// Trains `steps` steps of `variant` on comm's ranks (the model in dtype) and returns the model.
TwoTower Train(RecallVariant variant, dist::Communicator& comm, int64_t steps, int64_t batch,
               torch::ScalarType dtype, std::vector<double>* losses = nullptr) {
  torch::manual_seed(11);
  TwoTower model(testing_util::TinyOptions(Dataset()));
  model->to(dtype);
  TwoTowerFeaturizer featurizer(model->options);
  RecallObjectiveOptions objective_options;
  objective_options.random_negatives = 13;
  const std::unique_ptr<RecallObjective> objective =
      MakeRecallObjective(variant, model, featurizer, Dataset(), objective_options);
  dist::DistributedSampler sampler(objective->num_examples(), batch, comm.rank(), comm.size(), 5);
  TrainerOptions options;
  options.learning_rate = 0.01;
  options.warmup_steps = 2;
  options.clip_norm = 0.5;  // small enough to clip now and then
  DataParallelTrainer trainer(*model, model->sparse_parameters(), options, 100, comm);
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t epoch = s / sampler.steps_per_epoch(), in_epoch = s % sampler.steps_per_epoch();
    const double loss = trainer.Step(
        objective->LocalLoss(sampler.GlobalBatch(epoch, in_epoch), trainer.step(), epoch, comm));
    if (losses) losses->push_back(loss);
  }
  return model;
}

class DataParallelTrainerTest : public ::testing::TestWithParam<RecallVariant> {
 protected:
  dist::MpiCommunicator world_{MPI_COMM_WORLD};
  dist::MpiCommunicator self_{MPI_COMM_SELF};  // the 1-rank reference, on every rank
};

// N ranks == 1 rank: the same global batches give the same parameters. In float64 the only
// differences are the order of summation (per-rank partial sums), far below 1e-5 relative.
TEST_P(DataParallelTrainerTest, NRanksGiveTheParametersOfOneRank) {
  std::vector<double> world_losses, self_losses;
  TwoTower many = Train(GetParam(), world_, 4, 24, torch::kFloat64, &world_losses);
  TwoTower one = Train(GetParam(), self_, 4, 24, torch::kFloat64, &self_losses);
  ExpectModulesClose(*many, *one, 1e-5);
  for (size_t i = 0; i < world_losses.size(); ++i) {
    EXPECT_NEAR(world_losses[i], self_losses[i], 1e-9 * std::abs(self_losses[i]));
  }
  // Training moved the parameters away from the initial ones.
  torch::manual_seed(11);
  TwoTower initial(testing_util::TinyOptions(Dataset()));
  EXPECT_FALSE(torch::allclose(initial->query->mlp->parameters()[0],
                               one->query->mlp->parameters()[0].to(torch::kFloat32)));
}

// The same in float32, the training precision: rounding of the per-rank partial sums makes the
// difference larger, but it stays at float rounding level.
TEST_P(DataParallelTrainerTest, NRanksMatchOneRankInFloat32ToRounding) {
  TwoTower many = Train(GetParam(), world_, 3, 24, torch::kFloat32);
  TwoTower one = Train(GetParam(), self_, 3, 24, torch::kFloat32);
  ExpectModulesClose(*many, *one, 1e-3, 1e-5);
}

// A global batch smaller than the number of ranks leaves some ranks without examples; they
// still take part and the result is unchanged.
TEST_P(DataParallelTrainerTest, RanksWithEmptySlicesStillMatch) {
  TwoTower many = Train(GetParam(), world_, 2, 3, torch::kFloat64);
  TwoTower one = Train(GetParam(), self_, 2, 3, torch::kFloat64);
  ExpectModulesClose(*many, *one, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Variants, DataParallelTrainerTest,
                         ::testing::Values(RecallVariant::kBase, RecallVariant::kPointwise,
                                           RecallVariant::kPairwise, RecallVariant::kListwise),
                         [](const auto& info) { return std::string(VariantName(info.param)); });

TEST(LearningRateTest, WarmsUpThenDecays) {
  TrainerOptions o;
  o.learning_rate = 1.0;
  o.warmup_steps = 4;
  EXPECT_DOUBLE_EQ(ScheduledLearningRate(o, 0, 104), 0.25);
  EXPECT_DOUBLE_EQ(ScheduledLearningRate(o, 3, 104), 1.0);
  EXPECT_DOUBLE_EQ(ScheduledLearningRate(o, 4, 104), 1.0);
  EXPECT_NEAR(ScheduledLearningRate(o, 54, 104), 0.5, 1e-12);  // cosine half-way
  EXPECT_NEAR(ScheduledLearningRate(o, 104, 104), 0.0, 1e-12);
  o.decay = LrDecay::kLinear;
  EXPECT_NEAR(ScheduledLearningRate(o, 29, 104), 0.75, 1e-12);
  o.decay = ParseLrDecay("constant");
  EXPECT_DOUBLE_EQ(ScheduledLearningRate(o, 90, 104), 1.0);
  EXPECT_THROW(ParseLrDecay("step"), Error);
}

// The CUDA model's gradients go through NCCL: the same training on the GPU matches the CPU.
TEST(NcclGradientTest, CudaTrainingMatchesCpu) {
  if (!dist::NcclAvailable() || !torch::cuda::is_available()) {
    GTEST_SKIP() << "no GPU (or no CUDA LibTorch / NCCL in this build): NCCL gradient path "
                    "not run";
  }
#if RECSYS_WITH_NCCL
  auto nccl = dist::MakeCommunicator(dist::Backend::kNccl, MPI_COMM_WORLD);
  const int device = static_cast<dist::NcclCommunicator*>(nccl.get())->device();
  dist::MpiCommunicator mpi(MPI_COMM_WORLD);
  const data::Dataset& d = Dataset();
  auto train = [&](dist::Communicator& comm, torch::Device device) {
    torch::manual_seed(11);
    TwoTower model(testing_util::TinyOptions(d));
    model->to(device, torch::kFloat64);
    TwoTowerFeaturizer featurizer(model->options);
    const std::unique_ptr<RecallObjective> objective =
        MakeRecallObjective(RecallVariant::kBase, model, featurizer, d, RecallObjectiveOptions{});
    dist::DistributedSampler sampler(objective->num_examples(), 16, comm.rank(), comm.size(), 5);
    DataParallelTrainer trainer(*model, model->sparse_parameters(), TrainerOptions{}, 10, comm);
    for (int64_t s = 0; s < 3; ++s) {
      trainer.Step(objective->LocalLoss(sampler.GlobalBatch(0, s), s, 0, comm));
    }
    return model;
  };
  TwoTower gpu = train(*nccl, torch::Device(torch::kCUDA, device));
  TwoTower cpu = train(mpi, torch::kCPU);
  ExpectModulesClose(*gpu, *cpu, 1e-5, 1e-9);
#endif
}

}  // namespace
}  // namespace recsys::models
