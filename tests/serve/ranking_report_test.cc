#include "serve/ranking_report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "core/gnuplot.h"
#include "tests/test_util.h"

namespace recsys::serve {
namespace {

namespace fs = std::filesystem;
using testing::ErrorOf;
using testing::Mentions;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// CSV fields without quoting (the report refuses names that would need it); empty ones kept.
std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> fields(1);
  for (char c : line) {
    if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

bool IsPng(const std::string& path) {
  return ReadFile(path).substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8);
}

// A ranker's row (every number set) or, with candidates 0, a catalogue baseline's (no scores, no
// training, no latency: NaN as RunRankEval leaves them).
RankEvalRow Row(const std::string& model, int64_t candidates, double ndcg10) {
  RankEvalRow row;
  row.model = model;
  row.candidates = candidates;
  row.queries = 1234;
  row.hr5 = ndcg10 + 0.1;
  row.hr10 = ndcg10 + 0.15;
  row.hr25 = ndcg10 + 0.2;
  row.hr50 = ndcg10 + 0.25;
  row.ndcg1 = ndcg10 - 0.05;
  row.ndcg10 = ndcg10;
  row.auc = row.log_loss = row.train_seconds = row.p50_ms = row.p99_ms = kNaN;
  if (candidates > 0 && model != "fusion") {
    row.auc = 0.8;
    row.log_loss = 0.45;
    row.train_seconds = 61.25;
    row.p50_ms = 1.5;
    row.p99_ms = 4.25;
  }
  return row;
}

// What RunRankEval returns for two M: the baselines, then per M fusion and the rankers.
std::vector<RankEvalRow> EvalRows() {
  std::vector<RankEvalRow> rows = {Row("popularity", 0, 0.031), Row("bm25", 0, 0.212)};
  for (int64_t m : {100, 1000}) {
    const double more = m == 1000 ? 0.012 : 0;
    rows.push_back(Row("fusion", m, 0.305 + more));
    rows.push_back(Row("fm", m, 0.331 + more));
    rows.push_back(Row("dcn-2", m, 0.352 + more));
    rows.push_back(Row("dcn-4", m, 0.361 + more));
    rows.push_back(Row("dcn-2-parallel", m, 0.349 + more));
    rows.push_back(Row("xgboost_lambdamart", m, 0.358 + more));
  }
  return rows;
}

// Where RECSYS_TEST_CHART_DIR is set, keeps a copy of a chart there to look at.
void KeepChart(const std::string& png, const std::string& name) {
  const char* dir = std::getenv("RECSYS_TEST_CHART_DIR");
  if (dir == nullptr || *dir == '\0') return;
  fs::create_directories(dir);
  fs::copy_file(png, fs::path(dir) / name, fs::copy_options::overwrite_existing);
}

class GnuplotDirTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (Mentions(ErrorOf([] { RunGnuplot(""); }), {"gnuplot not found"})) {
      GTEST_SKIP() << "gnuplot is not installed (launch/setup.sh installs gnuplot-nox)";
    }
  }
  // The names of the folder's files, sorted.
  std::vector<std::string> Files(const std::string& folder) const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(folder)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
};

TEST(FormatRankingTableTest, FormatsValuesAndDashesWhatDoesNotApply) {
  RankEvalRow ranker = Row("dcn-4", 100, 0.3612);
  ranker.train_seconds = 61.26;
  RankEvalRow baseline = Row("bm25", 0, 0.2);
  const std::vector<std::string> lines = Lines(FormatRankingTable({ranker, baseline}));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0],
            "| model | M | queries | HR@5 | HR@10 | HR@25 | HR@50 | NDCG@1 | NDCG@10 | AUC | "
            "log loss | train s | p50 ms | p99 ms |");
  EXPECT_EQ(lines[1], "|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  EXPECT_EQ(lines[2],
            "| dcn-4 | 100 | 1234 | 0.4612 | 0.5112 | 0.5612 | 0.6112 | 0.3112 | 0.3612 | 0.8000 | "
            "0.4500 | 61.3 | 1.500 | 4.250 |");
  EXPECT_EQ(
      lines[3],
      "| bm25 | - | 1234 | 0.3000 | 0.3500 | 0.4000 | 0.4500 | 0.1500 | 0.2000 | - | - | - | - "
      "| - |");
}

TEST(FormatRankingTableTest, NoRowsIsAHeaderOnly) {
  EXPECT_EQ(Lines(FormatRankingTable({})).size(), 2u);
}

TEST_F(GnuplotDirTest, WritesMarkdownCsvAndChart) {
  const std::vector<RankEvalRow> rows = EvalRows();
  const std::string folder = Path("results");  // created by the call
  WriteRankingReport(rows, folder, "rank_metrics");
  EXPECT_EQ(Files(folder), (std::vector<std::string>{"rank_metrics.csv", "rank_metrics.md",
                                                     "rank_metrics.png"}));  // no temporaries

  const std::string md = ReadFile(folder + "/rank_metrics.md");
  EXPECT_TRUE(Mentions(md, {"test queries", "fused top M of the hybrid recall", "full catalogue",
                            "BCE", FormatRankingTable(rows)}));
  // The ablation: only dcn-<layers>, per M by depth.
  const size_t ablation = md.find("## DCN depth ablation");
  ASSERT_NE(ablation, std::string::npos);
  const std::vector<std::string> lines = Lines(md.substr(ablation));
  const std::vector<std::string> expected = {
      "| M | cross layers | HR@10 | NDCG@1 | NDCG@10 |", "|:---|---:|---:|---:|---:|",
      "| 100 | 2 | 0.5020 | 0.3020 | 0.3520 |",          "| 100 | 4 | 0.5110 | 0.3110 | 0.3610 |",
      "| 1000 | 2 | 0.5140 | 0.3140 | 0.3640 |",         "| 1000 | 4 | 0.5230 | 0.3230 | 0.3730 |"};
  ASSERT_GE(lines.size(), expected.size());
  EXPECT_EQ(std::vector<std::string>(lines.end() - expected.size(), lines.end()), expected);

  const std::vector<std::string> csv = Lines(ReadFile(folder + "/rank_metrics.csv"));
  ASSERT_EQ(csv.size(), rows.size() + 1);
  EXPECT_EQ(csv[0],
            "model,candidates,queries,hr@5,hr@10,hr@25,hr@50,ndcg@1,ndcg@10,auc,log_loss,"
            "train_seconds,p50_ms,p99_ms");
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::vector<std::string> fields = Fields(csv[i + 1]);
    ASSERT_EQ(fields.size(), 14u) << csv[i + 1];
    EXPECT_EQ(fields[0], rows[i].model);
    EXPECT_EQ(std::stoll(fields[1]), rows[i].candidates);
    EXPECT_DOUBLE_EQ(std::stod(fields[8]), rows[i].ndcg10);
    EXPECT_EQ(fields[9].empty(), std::isnan(rows[i].auc)) << csv[i + 1];
    EXPECT_EQ(fields[13].empty(), std::isnan(rows[i].p99_ms)) << csv[i + 1];
  }

  const std::string png = folder + "/rank_metrics.png";
  EXPECT_TRUE(IsPng(png));
  EXPECT_GT(fs::file_size(png), 10000u);
  KeepChart(png, "rank_metrics.png");
}

TEST_F(GnuplotDirTest, NoAblationWithoutPlainDcnRows) {
  std::vector<RankEvalRow> rows = {Row("bm25", 0, 0.2), Row("fusion", 100, 0.3),
                                   Row("dcn-2-parallel", 100, 0.35), Row("dcnv2", 100, 0.34)};
  WriteRankingReport(rows, dir_.string(), "report");
  const std::string md = ReadFile(Path("report.md"));
  EXPECT_TRUE(Mentions(md, {"dcn-2-parallel"}));
  EXPECT_EQ(md.find("ablation"), std::string::npos);
  EXPECT_TRUE(IsPng(Path("report.png")));
}

TEST_F(GnuplotDirTest, NoRowsStillGivesAChart) {
  WriteRankingReport({}, dir_.string(), "empty");
  EXPECT_EQ(Lines(ReadFile(Path("empty.csv"))).size(), 1u);
  EXPECT_TRUE(IsPng(Path("empty.png")));
}

TEST_F(GnuplotDirTest, RefusesNamesThatBreakTheFormats) {
  for (const std::string bad : {"a,b", "a|b", "a\"b", "a\nb"}) {
    EXPECT_TRUE(Mentions(ErrorOf([&] { WriteRankingReport({Row(bad, 100, 0.3)}, Path("x"), "r"); }),
                         {"cannot go into a CSV or Markdown table"}))
        << bad;
  }
}

TEST_F(GnuplotDirTest, PlotsEveryTrainingCurve) {
  const std::string curves = Path("curves");
  fs::create_directories(curves);
  Write("curves/dcn-4.csv",
        "epoch,step,loss,ndcg@10,seconds\n"
        "1,120,0.6931,0.2512,10.5\n2,240,0.5120,0.3011,21.0\n3,360,0.4702,0.3290,31.4\n"
        "4,480,0.4555,0.3342,41.9\n5,600,0.4490,0.3318,52.2\n");
  Write("curves/two_tower_base.csv", "epoch,step,loss,recall@50,seconds\n1,800,3.912,0.412,95\n");
  Write("curves/notes.txt", "not a curve\n");
  Write("curves/fresh.csv", "epoch,step,loss,auc,seconds\n");  // no epoch yet: skipped
  PlotTrainingCurves(curves);
  EXPECT_EQ(Files(curves),
            (std::vector<std::string>{"dcn-4.csv", "dcn-4.png", "fresh.csv", "notes.txt",
                                      "two_tower_base.csv", "two_tower_base.png"}));
  for (const std::string model : {"dcn-4", "two_tower_base"}) {
    const std::string png = curves + "/" + model + ".png";
    EXPECT_TRUE(IsPng(png)) << png;
    EXPECT_GT(fs::file_size(png), 10000u) << png;
    KeepChart(png, "curve_" + model + ".png");
  }
}

TEST_F(GnuplotDirTest, AMalformedCurveNamesFileAndLine) {
  Write("bad.csv", "epoch,step,loss,ndcg@10,seconds\n1,10,0.5,0.3,1\n2,20,oops,0.3,2\n");
  EXPECT_TRUE(Mentions(ErrorOf([&] { PlotTrainingCurves(dir_.string()); }),
                       {"bad.csv:3: 'oops' is not a number"}));
  Write("bad.csv", "step,loss\n1,2\n");
  EXPECT_TRUE(
      Mentions(ErrorOf([&] { PlotTrainingCurves(dir_.string()); }), {"bad.csv:1: not a training"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { PlotTrainingCurves(Path("missing")); }), {"not a directory"}));
}

}  // namespace
}  // namespace recsys::serve
