#include "data/judged_csv_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "data/catalog_generator.h"
#include "data/judgment_loaders.h"
#include "tests/test_util.h"

namespace recsys::data {
namespace {

using testing::ErrorOf;
using testing::Mentions;

class JudgedCsvWriterTest : public testing::TempDirTest {
 protected:
  std::string Read(const std::string& path) const {
    std::ifstream in(path, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
  }
};

// Two products (one title with a comma and a quote, one with nothing known) and three pairs.
Dataset Tiny() {
  Dataset d;
  d.brands = {"", "Acme"};
  d.colours = {"", "red"};
  d.categories = {"", "Tools > Drills"};
  d.products.id = {"P1", "P2"};
  d.products.title = {"Drill, 20V \"Pro\"", "Bits"};
  d.products.brand = {1, 0};
  d.products.colour = {1, 0};
  d.products.category = {1, 0};
  d.products.price = {79.9f, std::nanf("")};
  d.products.rating = {4.5f, std::nanf("")};
  d.products.release_day = {kUnknownDay, kUnknownDay};
  d.queries.id = {"Q0", "Q1"};
  d.queries.text = {"drill", "drill bits"};
  d.queries.split = {Split::kTrain, Split::kTest};
  d.pairs.query = {0, 0, 1};
  d.pairs.product = {0, 1, 1};
  d.pairs.grade = {Grade::kExact, Grade::kIrrelevant, Grade::kExact};
  d.pairs.click = {0, 0, 0};
  d.pairs.position = {0, 1, 0};
  return d;
}

TEST_F(JudgedCsvWriterTest, CatalogueRowsAndQuoting) {
  const std::string path = Path("catalog.csv");
  WriteCatalogCsv(Tiny(), path);
  EXPECT_EQ(Read(path),
            "product_id,product_title,brand,colour,category,price,rating\n"
            "P1,\"Drill, 20V \"\"Pro\"\"\",Acme,red,Tools > Drills,79.9,4.5\n"
            "P2,Bits,,,,,\n");
}

TEST_F(JudgedCsvWriterTest, JudgedRowsHoldRaterMeans) {
  const std::string path = Path("judged.csv");
  WriteJudgedCsv(Tiny(), 1, path);
  const std::string text = Read(path);
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "query_id,query,product_id,product_title,relevance");
  std::getline(lines, line);
  EXPECT_EQ(line.rfind("Q0,drill,P1,\"Drill, 20V \"\"Pro\"\"\",", 0), 0u) << line;
  std::getline(lines, line);
  EXPECT_EQ(line.rfind("Q0,drill,P2,Bits,", 0), 0u) << line;
  std::getline(lines, line);
  EXPECT_EQ(line.rfind("Q1,drill bits,P2,Bits,", 0), 0u) << line;
  EXPECT_FALSE(std::getline(lines, line));
  // Same dataset and seed, same bytes.
  WriteJudgedCsv(Tiny(), 1, Path("again.csv"));
  EXPECT_EQ(Read(Path("again.csv")), text);
}

TEST_F(JudgedCsvWriterTest, RaterMeansFollowTheGradeAndConvertBack) {
  GeneratorOptions o;
  o.products = 5000;
  o.queries = 2000;
  o.judged_per_query = 6;
  o.regime = Regime::kRealLike;
  CatalogGenerator g(o);
  Dataset d;
  g.FillVocabularies(&d);
  d.products = g.MakeProducts(0, o.products);
  g.MakeQueries(0, o.queries, &d.queries, &d.pairs);
  const std::string judged = Path("judged.csv"), catalog = Path("catalog.csv");
  WriteJudgedCsv(d, o.seed, judged);
  WriteCatalogCsv(d, catalog);

  // Read back as real data is: every relevance is a mean of 3 or 4 scores 1..3.
  JudgmentsOptions options;
  options.path = judged;
  options.query_id_column = "query_id";
  options.label_column = "relevance";
  options.labels = LabelMap::Parse("1-1.5=I,1.5-2=S,2-3=E");
  options.catalog.path = catalog;
  options.catalog.brand_column = "brand";
  options.catalog.colour_column = "colour";
  options.catalog.category_column = "category";
  options.catalog.price_column = "price";
  options.catalog.rating_column = "rating";
  const Dataset back = LoadJudgments(options);
  EXPECT_EQ(back.products.id, d.products.id);
  EXPECT_EQ(back.products.title, d.products.title);
  EXPECT_EQ(back.products.price, d.products.price);
  for (size_t p = 0; p < d.products.size(); ++p) {
    ASSERT_EQ(std::isnan(back.products.rating[p]), std::isnan(d.products.rating[p]));
    if (!std::isnan(d.products.rating[p])) {
      EXPECT_EQ(back.products.rating[p], d.products.rating[p]);
    }
    EXPECT_EQ(back.brands[back.products.brand[p]], d.brands[d.products.brand[p]]);
    EXPECT_EQ(back.categories[back.products.category[p]], d.categories[d.products.category[p]]);
  }
  EXPECT_EQ(back.queries.id, d.queries.id);
  EXPECT_EQ(back.queries.text, d.queries.text);
  EXPECT_EQ(back.pairs.query, d.pairs.query);
  EXPECT_EQ(back.pairs.product, d.pairs.product);

  // The mean relevance rises with the generator's grade, and converted E is mostly true E.
  const std::set<std::string> means = {"1",    "1.25", "1.33", "1.5",  "1.67", "1.75", "2",
                                       "2.25", "2.33", "2.5",  "2.67", "2.75", "3"};
  std::ifstream in(judged);
  std::string line;
  std::getline(in, line);
  std::map<int, std::pair<double, int>> by_grade;  // sum and count of means
  for (size_t i = 0; std::getline(in, line); ++i) {
    const std::string value = line.substr(line.rfind(',') + 1);
    ASSERT_TRUE(means.count(value)) << line;
    auto& [sum, count] = by_grade[static_cast<int>(d.pairs.grade[i])];
    sum += std::stod(value);
    ++count;
  }
  const auto mean = [&](Grade g) {
    const auto& [sum, count] = by_grade[static_cast<int>(g)];
    return sum / count;
  };
  EXPECT_GT(mean(Grade::kExact), 2.5);
  EXPECT_LT(mean(Grade::kSubstitute), mean(Grade::kExact) - 0.4);
  EXPECT_LT(mean(Grade::kIrrelevant), 1.4);
  size_t agree = 0, exact = 0;
  for (size_t i = 0; i < d.pairs.size(); ++i) {
    if (back.pairs.grade[i] != Grade::kExact) continue;
    ++exact;
    agree += d.pairs.grade[i] == Grade::kExact;
  }
  // Raters disagree: some substitutes (and a few irrelevant products) average 2 or more.
  EXPECT_GT(static_cast<double>(agree) / exact, 0.6);
  EXPECT_LT(static_cast<double>(agree) / exact, 0.95);

  // Another seed draws other raters for the same pairs.
  WriteJudgedCsv(d, o.seed + 1, Path("other.csv"));
  EXPECT_NE(Read(Path("other.csv")), Read(judged));
}

TEST_F(JudgedCsvWriterTest, UnwritablePathIsNamed) {
  const std::string path = Path("missing/judged.csv");
  EXPECT_TRUE(Mentions(ErrorOf([&] { WriteJudgedCsv(Tiny(), 1, path); }), {path, "cannot"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { WriteCatalogCsv(Tiny(), path); }), {path, "cannot"}));
}

}  // namespace
}  // namespace recsys::data
