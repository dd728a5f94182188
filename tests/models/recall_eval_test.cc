// Runs under mpiexec with 1, 2 and 4 ranks (recsys_add_mpi_test): the evaluation tests are
// collective over MPI_COMM_WORLD; the file tests run on every rank, each in its own directory.

#include "models/recall_eval.h"

#include <gtest/gtest.h>
#include <mpi.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>

#include "core/error.h"
#include "data/catalog_generator.h"
#include "dist/mpi_communicator.h"
#include "models/baselines.h"
#include "models/metrics.h"
#include "tests/test_util.h"

namespace recsys::models {
namespace {

using data::Grade;
using data::Split;
using recsys::testing::ErrorOf;
using recsys::testing::Mentions;

// Answers fixed lists per query row; throws on the given rank (-1: never).
class StubRetriever : public Retriever {
 public:
  StubRetriever(std::map<int32_t, std::vector<int32_t>> lists, int throw_on_rank = -1)
      : lists_(std::move(lists)), throw_on_rank_(throw_on_rank) {}
  std::string name() const override { return "stub"; }
  std::vector<std::vector<int32_t>> Retrieve(const std::vector<int32_t>& query_rows,
                                             int) const override {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == throw_on_rank_) RECSYS_THROW("stub failure on purpose");
    std::vector<std::vector<int32_t>> out;
    for (int32_t q : query_rows) out.push_back(lists_.at(q));
    return out;
  }

 private:
  std::map<int32_t, std::vector<int32_t>> lists_;
  int throw_on_rank_;
};

// Six products; queries: 0 train, 1 valid, 2..4 test. Train and valid judge products 0, 1, 2,
// so 3, 4 and 5 are cold. Query 2: relevant {0, 3} (3 cold); query 3: relevant {2} (warm);
// query 4: no relevant product (skipped).
data::Dataset HandDataset() {
  data::Dataset d;
  for (int i = 0; i < 6; ++i) {
    d.products.id.push_back("p" + std::to_string(i));
    d.products.title.push_back("title " + std::to_string(i));
  }
  d.products.brand = d.products.colour = d.products.category = std::vector<int32_t>(6, 0);
  d.products.price = d.products.rating = std::vector<float>(6, NAN);
  d.products.release_day = std::vector<int32_t>(6, data::kUnknownDay);
  d.queries.id = {"q0", "q1", "q2", "q3", "q4"};
  d.queries.text = {"a", "b", "c", "d", "e"};
  d.queries.split = {Split::kTrain, Split::kValid, Split::kTest, Split::kTest, Split::kTest};
  d.pairs.query = {0, 0, 1, 2, 2, 2, 3, 3, 4};
  d.pairs.product = {0, 1, 2, 0, 3, 4, 5, 2, 1};
  d.pairs.grade = {Grade::kExact,      Grade::kIrrelevant, Grade::kExact,
                   Grade::kExact,      Grade::kExact,      Grade::kSubstitute,
                   Grade::kIrrelevant, Grade::kExact,      Grade::kSubstitute};
  d.pairs.click = std::vector<uint8_t>(9, 0);
  d.pairs.position = std::vector<int16_t>(9, 0);
  d.Validate();
  return d;
}

TEST(ColdStartProductsTest, ProductsNeverJudgedForTrainOrValidQueries) {
  EXPECT_EQ(data::ColdStartProducts(HandDataset()), (std::vector<uint8_t>{0, 0, 0, 1, 1, 1}));
}

TEST(EvaluateRecallTest, HandComputedTable) {
  dist::MpiCommunicator world(MPI_COMM_WORLD);
  StubRetriever stub({{2, {4, 3, 5, 1, 0}}, {3, {5, 1}}, {4, {0}}});
  RecallTable table = EvaluateRecall(HandDataset(), Split::kTest, {&stub}, world);
  EXPECT_EQ(table.split, Split::kTest);
  EXPECT_EQ(table.judged_queries, 3);
  EXPECT_EQ(table.queries, 2);
  EXPECT_EQ(table.cold_queries, 1);
  ASSERT_EQ(table.rows.size(), 1u);
  const RecallRow& r = table.rows[0];
  EXPECT_EQ(r.model, "stub");
  // Query 2 finds both relevant products in its top 5, query 3 none.
  EXPECT_DOUBLE_EQ(r.precision.at(5), (2.0 / 5 + 0) / 2);
  EXPECT_DOUBLE_EQ(r.precision.at(10), (2.0 / 10 + 0) / 2);
  EXPECT_DOUBLE_EQ(r.recall.at(5), 0.5);
  EXPECT_DOUBLE_EQ(r.recall.at(10), 0.5);
  EXPECT_DOUBLE_EQ(r.recall.at(50), 0.5);
  EXPECT_DOUBLE_EQ(r.hit_rate_at_10, 0.5);
  // Query 2: S at position 1, E at 2 and 5; ideal E, E, S.
  const double dcg = 0.1 + 1 / std::log2(3.0) + 1 / std::log2(6.0);
  const double ideal = 1 + 1 / std::log2(3.0) + 0.1 / 2;
  EXPECT_NEAR(r.ndcg_at_10, dcg / ideal / 2, 1e-12);
  // Only query 2 has a relevant cold product (3), and finds it.
  EXPECT_DOUBLE_EQ(r.cold_recall_at_50, 1.0);
}

TEST(EvaluateRecallTest, ARetrieverFailingOnOneRankFailsEveryRank) {
  dist::MpiCommunicator world(MPI_COMM_WORLD);
  // The last rank always has queries; the others report that another rank failed.
  StubRetriever stub({{2, {0}}, {3, {0}}, {4, {0}}}, world.size() - 1);
  const std::string error =
      ErrorOf([&] { EvaluateRecall(HandDataset(), Split::kTest, {&stub}, world); });
  if (world.rank() == world.size() - 1) {
    EXPECT_TRUE(Mentions(error, {"stub failure on purpose"}));
  } else {
    EXPECT_TRUE(Mentions(error, {"evaluating stub", "failed on 1 other rank"}));
  }
}

// A small generated dataset, the same on every rank.
const data::Dataset& Generated() {
  static const data::Dataset dataset = [] {
    data::GeneratorOptions options;
    options.products = 3000;
    options.queries = 3000;
    options.seed = 5;
    data::CatalogGenerator generator(options);
    data::Dataset d;
    generator.FillVocabularies(&d);
    d.products = generator.MakeProducts(0, options.products);
    generator.MakeQueries(0, options.queries, &d.queries, &d.pairs);
    return d;
  }();
  return dataset;
}

// Each query's judged products, best grade first: every relevant product inside the top 50.
class JudgedRetriever : public Retriever {
 public:
  explicit JudgedRetriever(const data::Dataset& d) {
    for (const JudgedQuery& q : JudgedQueries(d, Split::kTest)) judged_[q.query] = q;
  }
  std::string name() const override { return "judged"; }
  std::vector<std::vector<int32_t>> Retrieve(const std::vector<int32_t>& rows,
                                             int k) const override {
    std::vector<std::vector<int32_t>> out;
    for (int32_t row : rows) {
      const JudgedQuery& q = judged_.at(row);
      std::vector<size_t> order(q.products.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](size_t a, size_t b) { return q.grades[a] > q.grades[b]; });
      out.emplace_back();
      for (size_t i = 0; i < order.size() && static_cast<int>(i) < k; ++i) {
        out.back().push_back(q.products[order[i]]);
      }
    }
    return out;
  }

 private:
  std::map<int32_t, JudgedQuery> judged_;
};

TEST(EvaluateRecallTest, BaselinesOnAGeneratedDatasetAndRanksAgree) {
  const data::Dataset& d = Generated();
  RandomRetriever random(static_cast<int64_t>(d.products.size()), 1);
  PopularityRetriever popularity(d);
  JudgedRetriever judged(d);
  const std::vector<const Retriever*> retrievers = {&random, &popularity, &judged};
  dist::MpiCommunicator world(MPI_COMM_WORLD);
  dist::MpiCommunicator self(MPI_COMM_SELF);
  RecallTable table = EvaluateRecall(d, Split::kTest, retrievers, world);
  RecallTable alone = EvaluateRecall(d, Split::kTest, retrievers, self);

  ASSERT_EQ(table.rows.size(), 3u);
  EXPECT_EQ(table.rows[0].model, "random");
  EXPECT_EQ(table.rows[1].model, "popularity");
  EXPECT_EQ(table.rows[2].model, "judged");
  EXPECT_GT(table.queries, 200);
  EXPECT_GT(table.cold_queries, 5) << "the cold-start column needs queries to average over";
  const RecallRow &rnd = table.rows[0], &pop = table.rows[1], &lex = table.rows[2];
  // Every relevant product is in the judged list's top 15 (15 judged per query).
  EXPECT_DOUBLE_EQ(lex.recall.at(50), 1.0);
  EXPECT_DOUBLE_EQ(lex.recall.at(100), 1.0);
  EXPECT_DOUBLE_EQ(lex.cold_recall_at_50, 1.0);
  EXPECT_LT(rnd.recall.at(50), 0.1);
  EXPECT_GT(pop.recall.at(50), rnd.recall.at(50));

  // Every rank count gives the 1-rank table, to the rounding of the re-ordered sums.
  EXPECT_EQ(alone.judged_queries, table.judged_queries);
  EXPECT_EQ(alone.queries, table.queries);
  EXPECT_EQ(alone.cold_queries, table.cold_queries);
  for (size_t i = 0; i < table.rows.size(); ++i) {
    const RecallRow &a = table.rows[i], &b = alone.rows[i];
    std::vector<std::array<double, 2>> metrics = {{a.ndcg_at_10, b.ndcg_at_10},
                                                  {a.hit_rate_at_10, b.hit_rate_at_10},
                                                  {a.cold_recall_at_50, b.cold_recall_at_50}};
    for (int k : {5, 10, 50, 100}) {
      metrics.push_back({a.precision.at(k), b.precision.at(k)});
      metrics.push_back({a.recall.at(k), b.recall.at(k)});
    }
    for (const auto& m : metrics) {
      EXPECT_NEAR(m[0], m[1], 1e-12) << a.model;
      EXPECT_GE(m[0], 0.0) << a.model;
      EXPECT_LE(m[0], 1.0) << a.model;
    }
  }
  // Per-query rows on rank 0: every retriever, every query with a relevant product, whose means
  // are the table's.
  if (world.rank() == 0) {
    ASSERT_EQ(table.per_query.size(), 3 * static_cast<size_t>(table.queries));
    for (size_t r = 0; r < 3; ++r) {
      double recall_50 = 0, ndcg_10 = 0;
      for (int64_t q = 0; q < table.queries; ++q) {
        const QueryRecallRow& row = table.per_query[r * table.queries + q];
        EXPECT_EQ(row.model, table.rows[r].model);
        EXPECT_GE(row.relevant, 1);
        recall_50 += row.recall.at(50);
        ndcg_10 += row.ndcg_at_10;
      }
      EXPECT_NEAR(recall_50 / table.queries, table.rows[r].recall.at(50), 1e-12);
      EXPECT_NEAR(ndcg_10 / table.queries, table.rows[r].ndcg_at_10, 1e-12);
    }
    EXPECT_EQ(table.per_query[0].query_id, alone.per_query[0].query_id);
  } else {
    EXPECT_TRUE(table.per_query.empty());
  }
  // Counting substitutes as relevant adds queries and relevant products, never removes them.
  RecallMetricsOptions substitutes;
  substitutes.relevant_from = data::Grade::kSubstitute;
  substitutes.cutoffs = {20, 200};  // cut-offs from the caller: lists retrieved to 200
  const RecallTable wider = EvaluateRecall(d, Split::kTest, retrievers, world, false, substitutes);
  EXPECT_GE(wider.queries, table.queries);
  EXPECT_EQ(wider.metrics.relevant_from, data::Grade::kSubstitute);
  EXPECT_EQ(wider.rows[2].recall.count(50), 0u);
  EXPECT_DOUBLE_EQ(wider.rows[2].recall.at(20), 1.0);  // 15 judged per query: all in the top 20
  EXPECT_GE(wider.rows[0].recall.at(200), wider.rows[0].recall.at(20));
  EXPECT_TRUE(Mentions(FormatRecallTable(wider), {"recall@200 |", "top 200 per query"}));
  if (world.rank() == 0) {
    int64_t exact = 0, substitutes_too = 0;
    for (const QueryRecallRow& row : table.per_query) exact += row.relevant;
    for (const QueryRecallRow& row : wider.per_query) substitutes_too += row.relevant;
    EXPECT_GT(substitutes_too, exact);
  }
  EXPECT_TRUE(Mentions(FormatRecallTable(wider), {"grade >= Substitute"}));
  if (world.rank() == 0) std::printf("%s", FormatRecallTable(table).c_str());
}

class WriteRecallTableTest : public recsys::testing::TempDirTest {
 protected:
  static RecallTable Table() {
    RecallTable t;
    t.split = Split::kTest;
    t.metrics.cutoffs = {10, 50};
    t.judged_queries = 12;
    t.queries = 10;
    t.cold_queries = 3;
    RecallRow bm25;
    bm25.model = "bm25";
    bm25.precision = {{10, 0.25}, {50, 0.05}};
    bm25.recall = {{10, 0.123456}, {50, 0.6}};
    bm25.ndcg_at_10 = 0.33333;
    bm25.hit_rate_at_10 = 0.7;
    bm25.cold_recall_at_50 = 0.45;
    RecallRow random;
    random.model = "random";
    random.precision = {{10, 0}, {50, 0}};
    random.recall = {{10, 0}, {50, 0.01}};
    random.cold_recall_at_50 = 1;
    t.rows = {bm25, random};
    t.per_query.push_back({"bm25", "q7", 2, {{10, 0.5}, {50, 1.0}}, 0.61309});
    t.per_query.push_back({"bm25", "q,\"8\"", 1, {{10, 0}, {50, 0}}, 0});
    return t;
  }
  static std::string Read(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

TEST_F(WriteRecallTableTest, WritesCsvAndMarkdownIntoANewDirectory) {
  const std::filesystem::path out = dir_ / "run" / "results";
  WriteRecallTable(Table(), out.string());
  EXPECT_EQ(Read(out / "recall_metrics.csv"),
            "model,precision@10,precision@50,recall@10,recall@50,ndcg@10,hr@10,cold_recall@50,"
            "queries,cold_queries\n"
            "bm25,0.2500,0.0500,0.1235,0.6000,0.3333,0.7000,0.4500,10,3\n"
            "random,0.0000,0.0000,0.0000,0.0100,0.0000,0.0000,1.0000,10,3\n");
  const std::string md = Read(out / "recall_metrics.md");
  EXPECT_EQ(md, FormatRecallTable(Table()));
  std::istringstream lines(md);
  std::string header, rule, row;
  std::getline(lines, header);
  std::getline(lines, rule);
  std::getline(lines, row);
  EXPECT_EQ(header,
            "| model | precision@10 | precision@50 | recall@10 | recall@50 | ndcg@10 | hr@10 | "
            "cold_recall@50 | queries | cold_queries |");
  EXPECT_EQ(rule, "|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  EXPECT_EQ(row,
            "| bm25 | 0.2500 | 0.0500 | 0.1235 | 0.6000 | 0.3333 | 0.7000 | 0.4500 | 10 | 3 |");
  EXPECT_TRUE(
      Mentions(md, {"Split test: 12 judged queries", "over the 10", "grade >= Exact", "cold-start",
                    "never judged for a train or valid query", "the 3 queries"}));
  EXPECT_EQ(Read(out / "recall_per_query.csv"),
            "model,query_id,relevant,recall@10,recall@50,ndcg@10\n"
            "bm25,q7,2,0.5000,1.0000,0.6131\n"
            "bm25,\"q,\"\"8\"\"\",1,0.0000,0.0000,0.0000\n");
  // Only the three files: no temporary left behind. Writing again replaces them.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(out),
                          std::filesystem::directory_iterator()),
            3);
  WriteRecallTable(RecallTable{}, out.string());
  EXPECT_EQ(Read(out / "recall_metrics.csv"),
            "model,precision@5,precision@10,precision@50,precision@100,recall@5,recall@10,"
            "recall@50,recall@100,ndcg@10,hr@10,cold_recall@50,queries,cold_queries\n");
}

TEST(ParseCutoffsTest, AscendingDistinctPositiveIntegers) {
  EXPECT_EQ(ParseCutoffs("100,10,50"), (std::vector<int>{10, 50, 100}));
  EXPECT_EQ(RetrievalDepth({data::Grade::kExact, {}, {5, 10}}), 50);  // the cold column's 50
  EXPECT_EQ(RetrievalDepth({data::Grade::kExact, {}, {10, 200}}), 200);
  EXPECT_TRUE(Mentions(ErrorOf([] { ParseCutoffs("10,x"); }), {"'x' is not an integer >= 1"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { ParseCutoffs("0"); }), {"'0' is not an integer >= 1"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { ParseCutoffs("10,10"); }), {"10 given twice"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { ParseCutoffs(""); }), {"none given"}));
}

TEST_F(WriteRecallTableTest, DirectoryThatCannotBeCreatedIsAClearError) {
  const std::string file = Write("not_a_dir", "x");
  EXPECT_TRUE(Mentions(ErrorOf([&] { WriteRecallTable(Table(), file + "/results"); }),
                       {file + "/results", "cannot create the results directory"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { WriteRecallTable(Table(), file); }),
                       {file, "cannot create the results directory"}));
  RecallTable bad = Table();
  bad.rows[0].model = "bm25,k1=2";
  EXPECT_TRUE(Mentions(ErrorOf([&] { WriteRecallTable(bad, Path("out")); }),
                       {"bm25,k1=2", "cannot go into a CSV"}));
  EXPECT_FALSE(std::filesystem::exists(Path("out")));
}

}  // namespace
}  // namespace recsys::models
