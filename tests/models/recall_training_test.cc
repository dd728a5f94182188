#include "models/recall_training.h"

#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <filesystem>

#include "core/error.h"
#include "data/vector_file.h"
#include "dist/mpi_communicator.h"
#include "models/checkpoint.h"
#include "models/metrics.h"
#include "models/retriever.h"
#include "models/two_tower.h"
#include "models/two_tower_embedder.h"
#include "tests/models/two_tower_test_util.h"
#include "tests/test_util.h"

namespace recsys::models {
namespace {

namespace fs = std::filesystem;

class RecallTrainingTest : public ::testing::Test {
 protected:
  static constexpr int64_t kProducts = 3000;

  void SetUp() override {
    // One folder for the whole job: rank 0 names it, everybody learns the name.
    dir_ = testing::SharedTempDir(world_, "recsys_recall_training_test");
    data_ = dir_ + "/data.h5";
    if (world_.rank() == 0) {
      fs::create_directories(dir_);
      data::WriteDataset(testing_util::SmallDataset(kProducts, 2000, 9), data_);
    }
    world_.Barrier();
  }

  void TearDown() override {
    world_.Barrier();
    if (world_.rank() == 0) fs::remove_all(dir_);
  }

  RecallTrainOptions Small(const std::string& out, const std::string& variant) const {
    RecallTrainOptions o;
    o.data = data_;
    o.out = dir_ + "/" + out;
    o.variant = variant;
    o.num_buckets = int64_t{1} << 15;
    o.dim = 32;  // the smaller supported size
    o.batch_size = 128;
    o.warmup_steps = 10;
    o.random_negatives = 64;
    return o;
  }

  dist::MpiCommunicator world_{MPI_COMM_WORLD};
  std::string dir_, data_;
};

TEST_F(RecallTrainingTest, TrainedModelBeatsRandomAndEmbedsTheSameOnAnyRankCount) {
  RecallTrainOptions o = Small("run", "base");
  o.epochs = 4;
  const std::vector<RecallTrainReport> reports = TrainRecall(o, world_);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_GT(reports[0].best_valid_recall, 0.0);
  EXPECT_TRUE(fs::exists(reports[0].checkpoint));
  EXPECT_EQ(reports[0].checkpoint, o.out + "/checkpoints/two_tower_base.h5");

  // vectors.h5 from all ranks, and from rank 0 alone (a 1-rank communicator): identical bits.
  EmbedOptions e;
  e.data = data_;
  e.out = o.out;
  e.variant = "base";
  const std::string version = EmbedCatalogue(e, world_);
  MPI_Comm solo_comm;
  MPI_Comm_split(MPI_COMM_WORLD, world_.rank() == 0 ? 0 : MPI_UNDEFINED, 0, &solo_comm);
  if (world_.rank() == 0) {
    {
      dist::MpiCommunicator solo(solo_comm);
      e.vectors = o.out + "/vectors_one_rank.h5";
      EXPECT_EQ(EmbedCatalogue(e, solo), version);
    }
    MPI_Comm_free(&solo_comm);
    const data::VectorFileInfo info = data::ReadVectorInfo(o.out + "/vectors.h5");
    EXPECT_EQ(info.rows, kProducts);
    EXPECT_EQ(info.dim, 32);
    EXPECT_EQ(info.model_version, version);
    EXPECT_EQ(version.rfind("two_tower_base-", 0), 0u) << version;
    const std::vector<float> all = data::ReadVectorRows(o.out + "/vectors.h5", 0, kProducts);
    EXPECT_EQ(all, data::ReadVectorRows(e.vectors, 0, kProducts));

    // Recall@50 on the test split against the random ranking's expectation, 50 / products.
    const data::Dataset d = data::ReadDataset(data_);
    auto embedder = TwoTowerEmbedder::Load(reports[0].checkpoint);
    EmbeddingRetriever retriever("two_tower_base", embedder->EmbedQueries(d.queries.text), all,
                                 embedder->dim());
    RankingMetrics metrics({50});
    for (const JudgedQuery& q : JudgedQueries(d, data::Split::kTest)) {
      metrics.Add(retriever.Retrieve({q.query}, 50)[0], q);
    }
    const double random = 50.0 / kProducts;
    std::printf("recall@50 on %lld test queries: %.4f (random: %.4f)\n",
                static_cast<long long>(metrics.queries()), metrics.Recall(50), random);
    EXPECT_GT(metrics.Recall(50), 3 * random);
  }
}

TEST_F(RecallTrainingTest, ResumingEqualsTrainingStraightAndRefusesAnotherConfiguration) {
  RecallTrainOptions stopped = Small("resumed", "pointwise");
  stopped.max_steps = 3;
  TrainRecall(stopped, world_);
  RecallTrainOptions resumed = stopped;
  resumed.max_steps = 7;
  resumed.resume = true;
  const auto resumed_report = TrainRecall(resumed, world_);
  EXPECT_EQ(resumed_report[0].steps, 7);
  RecallTrainOptions straight = Small("straight", "pointwise");
  straight.max_steps = 7;
  TrainRecall(straight, world_);

  const std::string a = RecallCheckpointPath(resumed.out, RecallVariant::kPointwise);
  const std::string b = RecallCheckpointPath(straight.out, RecallVariant::kPointwise);
  H5Reader ra(a), rb(b);
  EXPECT_EQ(ReadCheckpointInfo(ra).step, 7);
  for (const std::string name : {"params/text.weight", "params/product.mlp.2.weight",
                                 "optimizer/m/text.weight", "optimizer/v/query.mlp.0.bias"}) {
    EXPECT_EQ(ra.Read<float>(name), rb.Read<float>(name)) << name;
  }

  // Any rank count loads it: the embedder on every rank gives the same version.
  EXPECT_EQ(TwoTowerEmbedder::Load(a)->model_version(), TwoTowerEmbedder::Load(b)->model_version());

  RecallTrainOptions other = resumed;
  other.dim = 16;
  try {
    TrainRecall(other, world_);
    ADD_FAILURE() << "resuming with another dim was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("dim=32 in the checkpoint, 16 here"), std::string::npos)
        << e.what();
  }
}

TEST_F(RecallTrainingTest, RejectsBadOptions) {
  RecallTrainOptions o = Small("bad", "sideways");
  EXPECT_THROW(TrainRecall(o, world_), Error);
  o.variant = "base";
  o.device = "tpu";
  EXPECT_THROW(TrainRecall(o, world_), Error);
  EmbedOptions e;
  e.data = data_;
  e.out = dir_ + "/none";
  EXPECT_THROW(EmbedCatalogue(e, world_), Error);  // no checkpoint there
}

}  // namespace
}  // namespace recsys::models
