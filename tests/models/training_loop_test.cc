#include "models/training_loop.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/error.h"
#include "core/hdf5_file.h"
#include "dist/mpi_communicator.h"
#include "models/recall_objective.h"
#include "tests/models/two_tower_test_util.h"
#include "tests/test_util.h"

namespace recsys::models {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing_util::ExpectModulesClose;

const data::Dataset& Dataset() {
  static const data::Dataset d = testing_util::SmallDataset(400, 300, 5);
  return d;
}

// A model with one dense weight, and an objective whose validation metric follows a script, so
// that which epoch is best is known in advance.
struct ScriptedImpl : torch::nn::Module {
  ScriptedImpl() { w = register_parameter("w", torch::ones({3}, torch::kFloat64)); }
  torch::Tensor w;
};
TORCH_MODULE(Scripted);

class ScriptedObjective : public TrainingObjective {
 public:
  ScriptedObjective(Scripted& model, std::vector<double> metrics)
      : model_(model), metrics_(std::move(metrics)) {}
  int64_t num_examples() const override { return 8; }
  torch::Tensor LocalLoss(const std::vector<int64_t>& batch, int64_t, int64_t,
                          dist::Communicator& comm) override {
    const dist::Slice mine =
        dist::SliceOf(static_cast<int64_t>(batch.size()), comm.rank(), comm.size());
    return model_->w.pow(2).sum() * static_cast<double>(mine.size()) /
           static_cast<double>(batch.size());
  }
  double Validate(dist::Communicator&) override { return metrics_.at(validated_++); }

 private:
  Scripted& model_;
  std::vector<double> metrics_;
  size_t validated_ = 0;
};

class TrainingLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::SharedTempDir(world_, "recsys_training_loop_test");
    if (world_.rank() == 0) fs::create_directories(dir_);
    world_.Barrier();
  }
  void TearDown() override {
    world_.Barrier();
    if (world_.rank() == 0) fs::remove_all(dir_);
  }

  TrainingLoopOptions Options(const std::string& name) const {
    TrainingLoopOptions o;
    o.name = name;
    o.checkpoint = dir_ + "/" + name + "/model.h5";
    o.model = {"test_model", {{"size", "3"}}};
    o.metric_name = "metric";
    o.batch_size = 4;
    o.trainer.learning_rate = 0.05;
    o.trainer.warmup_steps = 0;
    o.curve = dir_ + "/" + name + "/curve.csv";
    return o;
  }

  // The towers, trained by the loop on comm's ranks, in float64 so that N ranks and 1 rank
  // compare to rounding of the partial sums.
  TwoTower TrainTowers(dist::Communicator& comm, const TrainingLoopOptions& o) {
    torch::manual_seed(11);
    TwoTower model(testing_util::TinyOptions(Dataset()));
    model->to(torch::kFloat64);
    const TwoTowerFeaturizer featurizer(model->options);
    RecallObjectiveOptions objective_options;
    objective_options.random_negatives = 13;
    const std::unique_ptr<RecallObjective> objective = MakeRecallObjective(
        RecallVariant::kPairwise, model, featurizer, Dataset(), objective_options);
    GradientPath gradients = MakeGradientPath("cpu", comm);
    RunTrainingLoop(*model, model->sparse_parameters(), *objective, o, gradients, comm);
    return model;
  }

  dist::MpiCommunicator world_{MPI_COMM_WORLD};
  dist::MpiCommunicator self_{MPI_COMM_SELF};
  std::string dir_;
};

TEST_F(TrainingLoopTest, TowersTrainedOnNRanksEqualOneRank) {
  TrainingLoopOptions many = Options("many");
  many.epochs = 2;
  many.batch_size = 24;
  TrainingLoopOptions one = many;
  // Every rank trains its own 1-rank reference, into a folder of its own.
  one.checkpoint = dir_ + "/one_" + std::to_string(world_.rank()) + "/model.h5";
  one.curve.clear();
  TwoTower a = TrainTowers(world_, many);
  TwoTower b = TrainTowers(self_, one);
  ExpectModulesClose(*a, *b, 1e-5);
}

TEST_F(TrainingLoopTest, KeepsTheBestEpochAndTheLastAndStopsEarly) {
  Scripted model;
  ScriptedObjective objective(model, {0.1, 0.3, 0.2, 0.25, 0.9});
  TrainingLoopOptions o = Options("scripted");
  o.epochs = 5;
  o.patience = 2;
  GradientPath gradients = MakeGradientPath("cpu", world_);
  const TrainingLoopReport report = RunTrainingLoop(*model, {}, objective, o, gradients, world_);
  EXPECT_TRUE(report.stopped_early);
  EXPECT_EQ(report.epochs, 4);  // epochs 3 and 4 did not beat epoch 2
  EXPECT_DOUBLE_EQ(report.best_valid_metric, 0.3);
  EXPECT_EQ(report.steps, 4 * 2);  // 8 examples, batches of 4
  if (world_.rank() != 0) return;
  EXPECT_EQ(ReadCheckpointInfo(H5Reader(o.checkpoint)).epoch, 2);
  EXPECT_EQ(ReadCheckpointInfo(H5Reader(LastCheckpointPath(o.checkpoint))).epoch, 4);
  EXPECT_EQ(H5Reader(o.checkpoint).StringAttribute("/", "valid_metric"), "metric");
  std::ifstream curve(o.curve);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(curve, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "epoch,step,loss,metric,seconds");
  EXPECT_EQ(lines[2].rfind("2,4,", 0), 0u) << lines[2];
  EXPECT_THAT(lines[2], HasSubstr(",0.3,"));
}

TEST_F(TrainingLoopTest, ResumingFromTheLastCheckpointEqualsTrainingStraight) {
  TrainingLoopOptions stopped = Options("resumed");
  stopped.epochs = 3;
  stopped.max_steps = 5;  // 2 steps per epoch: in the middle of epoch 3
  {
    Scripted model;
    ScriptedObjective objective(model, {0.5, 0.4, 0.3});
    RunTrainingLoop(*model, {}, objective, stopped, MakeGradientPath("cpu", world_), world_);
  }
  TrainingLoopOptions resumed = stopped;
  resumed.max_steps = 0;
  resumed.resume = true;
  Scripted continued;
  ScriptedObjective continued_objective(continued, {0.3});  // epoch 3
  const TrainingLoopReport report = RunTrainingLoop(*continued, {}, continued_objective, resumed,
                                                    MakeGradientPath("cpu", world_), world_);
  EXPECT_EQ(report.steps, 6);
  EXPECT_EQ(report.epochs, 3);

  TrainingLoopOptions straight = Options("straight");
  straight.epochs = 3;
  Scripted reference;
  ScriptedObjective reference_objective(reference, {0.5, 0.4, 0.3});
  RunTrainingLoop(*reference, {}, reference_objective, straight, MakeGradientPath("cpu", world_),
                  world_);
  EXPECT_TRUE(torch::equal(continued->w, reference->w));
  EXPECT_DOUBLE_EQ(report.best_valid_metric, 0.5);

  // Another configuration refuses to resume and names the difference.
  TrainingLoopOptions other = resumed;
  other.model.config["size"] = "4";
  Scripted model;
  ScriptedObjective objective(model, {0.1});
  try {
    RunTrainingLoop(*model, {}, objective, other, MakeGradientPath("cpu", world_), world_);
    ADD_FAILURE() << "resumed from a checkpoint of another configuration";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("size=3 in the checkpoint, 4 here"));
  }
}

// The scripted objective, with a NaN in the last rank's share of the loss at one global step.
class DivergingObjective : public ScriptedObjective {
 public:
  DivergingObjective(Scripted& model, int64_t nan_step)
      : ScriptedObjective(model, {0.5, 0.4, 0.3}), nan_step_(nan_step) {}
  torch::Tensor LocalLoss(const std::vector<int64_t>& batch, int64_t step, int64_t epoch,
                          dist::Communicator& comm) override {
    torch::Tensor loss = ScriptedObjective::LocalLoss(batch, step, epoch, comm);
    if (step == nan_step_ && comm.rank() == comm.size() - 1) loss = loss * std::nan("");
    return loss;
  }

 private:
  int64_t nan_step_;
};

TEST_F(TrainingLoopTest, StopsEveryRankAtANonFiniteLossWithoutSaving) {
  Scripted model;
  DivergingObjective objective(model, /*nan_step=*/2);  // the first step of epoch 2
  TrainingLoopOptions o = Options("diverging");
  o.epochs = 3;
  // Every rank throws (none waits in a collective), naming the step and the epoch.
  const std::string error = testing::ErrorOf(
      [&] { RunTrainingLoop(*model, {}, objective, o, MakeGradientPath("cpu", world_), world_); });
  EXPECT_THAT(error, HasSubstr("the loss is nan"));
  EXPECT_THAT(error, HasSubstr("at step 3 (epoch 2)"));
  EXPECT_THAT(error, HasSubstr("no checkpoint written"));
  world_.Barrier();
  // The last checkpoint is still epoch 1's.
  if (world_.rank() == 0) {
    EXPECT_EQ(ReadCheckpointInfo(H5Reader(LastCheckpointPath(o.checkpoint))).step, 2);
  }
}

// A model with a parameter the loss does not use, which the objective makes NaN on rank 0.
struct TwoWeightsImpl : torch::nn::Module {
  TwoWeightsImpl() {
    w = register_parameter("w", torch::ones({3}, torch::kFloat64));
    unused = register_parameter("unused", torch::ones({2}, torch::kFloat64));
  }
  torch::Tensor w, unused;
};
TORCH_MODULE(TwoWeights);

class PoisoningObjective : public TrainingObjective {
 public:
  explicit PoisoningObjective(TwoWeights& model) : model_(model) {}
  int64_t num_examples() const override { return 8; }
  torch::Tensor LocalLoss(const std::vector<int64_t>& batch, int64_t step, int64_t,
                          dist::Communicator& comm) override {
    if (step == 1 && comm.rank() == 0) {
      torch::NoGradGuard no_grad;
      model_->unused[1] = std::numeric_limits<double>::infinity();
    }
    const dist::Slice mine =
        dist::SliceOf(static_cast<int64_t>(batch.size()), comm.rank(), comm.size());
    return model_->w.pow(2).sum() * static_cast<double>(mine.size()) /
           static_cast<double>(batch.size());
  }
  double Validate(dist::Communicator&) override { return 0.5; }

 private:
  TwoWeights& model_;
};

TEST_F(TrainingLoopTest, RefusesToSaveNonFiniteParametersOnEveryRank) {
  TwoWeights model;
  PoisoningObjective objective(model);
  TrainingLoopOptions o = Options("poisoned");
  const std::string error = testing::ErrorOf(
      [&] { RunTrainingLoop(*model, {}, objective, o, MakeGradientPath("cpu", world_), world_); });
  EXPECT_THAT(error, HasSubstr("1 parameter value(s) are NaN or infinite after step 2 (epoch 1)"));
  if (world_.rank() == 0) {
    EXPECT_THAT(error, HasSubstr("first in unused"));
  }
  world_.Barrier();
  EXPECT_FALSE(fs::exists(o.checkpoint));
  EXPECT_FALSE(fs::exists(LastCheckpointPath(o.checkpoint)));
}

TEST_F(TrainingLoopTest, RefusesToResumeWithAnotherTrainingConfigurationUnlessAsked) {
  TrainingLoopOptions first = Options("config");
  first.epochs = 2;
  first.max_steps = 1;
  first.training = {{"margin", "0.2"}};
  {
    Scripted model;
    ScriptedObjective objective(model, {0.5});
    RunTrainingLoop(*model, {}, objective, first, MakeGradientPath("cpu", world_), world_);
  }
  TrainingLoopOptions changed = first;
  changed.resume = true;
  changed.max_steps = 2;  // not part of the configuration: stopping and resuming is its purpose
  changed.trainer.learning_rate = 0.5;
  changed.batch_size = 8;
  changed.training["margin"] = "0.3";
  Scripted model;
  ScriptedObjective objective(model, {0.5, 0.4});
  const std::string error = testing::ErrorOf([&] {
    RunTrainingLoop(*model, {}, objective, changed, MakeGradientPath("cpu", world_), world_);
  });
  EXPECT_THAT(error, HasSubstr("another training configuration"));
  EXPECT_THAT(error, HasSubstr("lr=0.05 in the checkpoint, 0.5 here"));
  EXPECT_THAT(error, HasSubstr("batch_size=4 in the checkpoint, 8 here"));
  EXPECT_THAT(error, HasSubstr("margin=0.2 in the checkpoint, 0.3 here"));
  EXPECT_THAT(error, HasSubstr("--resume-changed-config"));

  // Asked to, it resumes at the stored step with the new learning rate.
  changed.batch_size = 4;  // the steps per epoch must still match
  changed.resume_changed_config = true;
  const TrainingLoopReport report =
      RunTrainingLoop(*model, {}, objective, changed, MakeGradientPath("cpu", world_), world_);
  EXPECT_EQ(report.steps, 2);
}

TEST_F(TrainingLoopTest, RejectsBadOptions) {
  Scripted model;
  ScriptedObjective objective(model, {0.1});
  TrainingLoopOptions o = Options("bad");
  o.epochs = 0;
  try {
    RunTrainingLoop(*model, {}, objective, o, MakeGradientPath("cpu", world_), world_);
    ADD_FAILURE() << "epochs 0 accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("epochs must be at least 1"));
  }
  try {
    MakeGradientPath("tpu", world_);
    ADD_FAILURE() << "device tpu accepted";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown device 'tpu'"));
  }
}

}  // namespace
}  // namespace recsys::models
