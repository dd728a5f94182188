#include "serve/ranking_set_builder.h"

#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <filesystem>

#include "data/catalog_generator.h"
#include "dist/mpi_communicator.h"
#include "models/recall_training.h"
#include "shards/build_index.h"
#include "shards/lexical_builder.h"
#include "tests/test_util.h"

namespace recsys::serve {
namespace {

namespace fs = std::filesystem;

// A small run built through the library: data, a briefly trained base tower, vectors, the vector
// and lexical indexes. Shared by the tests of this binary.
class RankingSetBuilderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dist::MpiCommunicator world(MPI_COMM_WORLD);
    run_ = new std::string(testing::SharedTempDir(world, "recsys_ranking_set_test"));
    const std::string data = *run_ + "/dataset.h5";
    if (world.rank() == 0) {
      data::GeneratorOptions g;
      g.products = 1500;
      g.queries = 600;
      data::CatalogGenerator generator(g);
      data::Dataset d;
      generator.FillVocabularies(&d);
      d.products = generator.MakeProducts(0, g.products);
      generator.MakeQueries(0, g.queries, &d.queries, &d.pairs);
      fs::create_directories(*run_);
      data::WriteDataset(d, data);
    }
    world.Barrier();
    models::RecallTrainOptions train;
    train.data = data;
    train.out = *run_;
    train.variant = "base";
    train.dim = 16;
    train.num_buckets = 1 << 14;
    train.max_steps = 5;
    models::TrainRecall(train, world);
    models::EmbedOptions embed;
    embed.data = data;
    embed.out = *run_;
    embed.variant = "base";
    models::EmbedCatalogue(embed, world);
    shards::IndexBuildOptions index;
    index.vectors_path = *run_ + "/vectors.h5";
    index.index_dir = *run_ + "/index";
    index.nlist = 8;
    index.show_progress = false;
    shards::BuildIndex(index, world);
    shards::BuildLexicalIndex({data, index.index_dir, {}, shards::Stemmer::kPlural}, world);
    dataset_ = new data::Dataset(data::ReadDataset(data));
  }
  static void TearDownTestSuite() {
    dist::MpiCommunicator world(MPI_COMM_WORLD);
    world.Barrier();
    if (world.rank() == 0) fs::remove_all(*run_);
    delete run_;
    delete dataset_;
  }

  static std::string* run_;
  static data::Dataset* dataset_;
  dist::MpiCommunicator world_{MPI_COMM_WORLD};
};
std::string* RankingSetBuilderTest::run_ = nullptr;
data::Dataset* RankingSetBuilderTest::dataset_ = nullptr;

// The training path (BuildRankingSet over dataset rows) and the query path (QueryFeatures of a
// typed query's candidates) give a test query the same features, bit for bit.
TEST_F(RankingSetBuilderTest, TrainingAndQueryPathsGiveIdenticalFeatures) {
  RecallService service(*run_, world_);
  const models::RankingFeatureBuilder builder(*dataset_, {1 << 12});
  RecallOptions recall;
  recall.candidates = 20;
  const std::vector<int32_t> rows = JudgedQueryRows(*dataset_, data::Split::kTest);
  ASSERT_GT(rows.size(), 10u);
  const models::RankingSet set = BuildRankingSet(service, builder, *dataset_, rows, recall, world_);
  ASSERT_EQ(set.groups(), static_cast<int64_t>(rows.size()));
  std::vector<std::string> texts;
  for (int32_t q : rows) texts.push_back(dataset_->queries.text[q]);
  const std::vector<std::vector<Candidate>> lists = service.Recall(texts, recall);
  if (world_.rank() != 0) return;
  for (int64_t g = 0; g < set.groups(); ++g) {
    std::vector<Candidate> list = lists[g];
    list.resize(std::min<size_t>(list.size(), recall.candidates));
    const models::RankingFeatures query = QueryFeatures(builder, texts[g], list);
    const models::RankingFeatures training =
        models::SelectRows(set.features, set.group_offsets[g], set.group_offsets[g + 1]);
    ASSERT_EQ(query.rows, training.rows) << texts[g];
    EXPECT_EQ(query.ids, training.ids) << texts[g];
    EXPECT_EQ(query.offsets, training.offsets) << texts[g];
    EXPECT_EQ(query.dense, training.dense) << texts[g];
    for (size_t i = 0; i < list.size(); ++i) {
      EXPECT_EQ(set.products[set.group_offsets[g] + i], list[i].product);
    }
  }
}

// Every rank holds the same set, and a judged candidate carries its grade.
TEST_F(RankingSetBuilderTest, EveryRankHoldsTheSameSetWithJudgedGrades) {
  RecallService service(*run_, world_);
  const models::RankingFeatureBuilder builder(*dataset_, {1 << 12});
  RecallOptions recall;
  recall.candidates = 30;
  const models::RankingSet set = BuildRankingSet(
      service, builder, *dataset_, JudgedQueryRows(*dataset_, data::Split::kValid), recall, world_);
  std::vector<float> dense = set.features.dense;
  dist::Broadcast(world_, dense, 0);
  EXPECT_EQ(dense, set.features.dense);
  std::vector<int32_t> products = set.products;
  dist::Broadcast(world_, products, 0);
  EXPECT_EQ(products, set.products);
  int64_t judged = 0;
  for (int64_t g = 0; g < set.groups(); ++g) {
    for (int64_t r = set.group_offsets[g]; r < set.group_offsets[g + 1]; ++r) {
      for (size_t i = 0; i < dataset_->pairs.size(); ++i) {
        if (dataset_->pairs.query[i] == set.queries[g] &&
            dataset_->pairs.product[i] == set.products[r]) {
          EXPECT_EQ(set.grades[r], dataset_->pairs.grade[i]);
          ++judged;
        }
      }
    }
  }
  EXPECT_GT(judged, set.groups());  // recall finds judged products
}

}  // namespace
}  // namespace recsys::serve
