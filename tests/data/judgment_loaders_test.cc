#include "data/judgment_loaders.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "tests/test_util.h"

namespace recsys::data {
namespace {

namespace fs = std::filesystem;

// Ten ESCI rows in a shuffled column order with an extra column. Row 9 repeats P4 with another
// title (ignored: the first occurrence wins).
constexpr char kEsci[] =
    "split,query,query_id,esci_label,product_id,product_title,product_color,product_brand,"
    "product_locale\n"
    "train,red shoes,q1,E,P1,\"Red Shoe, size 9\",red,Acme,us\n"
    "train,red shoes,q1,S,P2,Blue Shoe,blue,Acme,us\n"
    "test,usb cable,q2,C,P3,\"USB-C cable 1m \"\"braided\"\"\",,Cablo,us\n"
    "train,red shoes,q1,I,P3,\"USB-C cable 1m \"\"braided\"\"\",,Cablo,us\n"
    "train,caf\xC3\xA9 mug,q3,exact,P4,Mug,white,,us\n"
    "test,usb cable,q2,Irrelevant,P5,Lightning cable,black,Cablo,us\n"
    "train,caf\xC3\xA9 mug,q3,i,P1,\"Red Shoe, size 9\",red,Acme,us\n"
    "test,usb cable,q2,substitute,P1,\"Red Shoe, size 9\",red,Acme,us\n"
    "train,mug,q4,COMPLEMENT,P4,Mug XL,white,,us\n"
    "train,mug,q4,e,P6,Mug,white,NoBrand,us\n";

class JudgmentLoadersTest : public testing::TempDirTest {
 protected:
  Dataset Esci(const std::string& content, double valid_fraction = 0.0) {
    EsciOptions options;
    options.path = Write("esci.csv", content);
    options.valid_fraction = valid_fraction;
    return LoadEsci(options);
  }
};

using testing::ErrorOf;
using testing::Mentions;

std::vector<int> Grades(const Judgments& pairs) {
  std::vector<int> grades;
  for (const Grade grade : pairs.grade) grades.push_back(static_cast<int>(grade));
  return grades;
}

std::vector<Split> Splits(std::initializer_list<Split> splits) { return splits; }

TEST_F(JudgmentLoadersTest, EsciTenRows) {
  const Dataset d = Esci(kEsci);
  EXPECT_EQ(d.source, (dir_ / "esci.csv").string());

  EXPECT_EQ(d.brands, (std::vector<std::string>{"", "Acme", "Cablo", "NoBrand"}));
  EXPECT_EQ(d.colours, (std::vector<std::string>{"", "red", "blue", "white", "black"}));
  EXPECT_EQ(d.categories, (std::vector<std::string>{""}));

  const Products& p = d.products;
  EXPECT_EQ(p.id, (std::vector<std::string>{"P1", "P2", "P3", "P4", "P5", "P6"}));
  EXPECT_EQ(p.title,
            (std::vector<std::string>{"Red Shoe, size 9", "Blue Shoe", "USB-C cable 1m \"braided\"",
                                      "Mug", "Lightning cable", "Mug"}));
  EXPECT_EQ(p.brand, (std::vector<int32_t>{1, 1, 2, 0, 2, 3}));
  EXPECT_EQ(p.colour, (std::vector<int32_t>{1, 2, 0, 3, 4, 3}));
  EXPECT_EQ(p.category, std::vector<int32_t>(6, 0));
  EXPECT_EQ(p.release_day, std::vector<int32_t>(6, kUnknownDay));
  for (size_t i = 0; i < p.size(); ++i) {
    EXPECT_TRUE(std::isnan(p.price[i]));
    EXPECT_TRUE(std::isnan(p.rating[i]));
  }

  const Queries& q = d.queries;
  EXPECT_EQ(q.id, (std::vector<std::string>{"q1", "q2", "q3", "q4"}));
  EXPECT_EQ(q.text, (std::vector<std::string>{"red shoes", "usb cable", "caf\xC3\xA9 mug", "mug"}));
  EXPECT_EQ(q.split, Splits({Split::kTrain, Split::kTest, Split::kTrain, Split::kTrain}));

  // Grouped by query in order of first appearance; file order within a query.
  const Judgments& j = d.pairs;
  EXPECT_EQ(j.query, (std::vector<int32_t>{0, 0, 0, 1, 1, 1, 2, 2, 3, 3}));
  EXPECT_EQ(j.product, (std::vector<int32_t>{0, 1, 2, 2, 4, 0, 3, 0, 3, 5}));
  EXPECT_EQ(Grades(j), (std::vector<int>{3, 2, 0, 1, 0, 2, 3, 0, 1, 3}));
  EXPECT_EQ(j.click, std::vector<uint8_t>(10, 0));
  EXPECT_EQ(j.position, std::vector<int16_t>(10, -1));
}

TEST_F(JudgmentLoadersTest, EsciTsvGivesTheSameDataset) {
  std::string tsv;
  bool quoted = false;
  for (const char c : std::string(kEsci)) {
    if (c == '"') quoted = !quoted;
    tsv += c == ',' && !quoted ? '\t' : c;
  }
  EsciOptions options;
  options.path = Write("esci.tsv", tsv);
  options.valid_fraction = 0;
  const Dataset from_tsv = LoadEsci(options);
  const Dataset from_csv = Esci(kEsci);
  EXPECT_EQ(from_tsv.products.title, from_csv.products.title);
  EXPECT_EQ(from_tsv.queries.text, from_csv.queries.text);
  EXPECT_EQ(from_tsv.pairs.product, from_csv.pairs.product);
  EXPECT_EQ(from_tsv.brands, from_csv.brands);
}

TEST_F(JudgmentLoadersTest, EsciValidFractionMovesOnlyTrainQueries) {
  EXPECT_EQ(Esci(kEsci, 1.0).queries.split,
            Splits({Split::kValid, Split::kTest, Split::kValid, Split::kValid}));

  // 1000 train queries: about a tenth become valid, the same ones on every load.
  std::string file =
      "query_id,query,product_id,product_title,product_brand,product_color,"
      "esci_label,split\n";
  for (int i = 0; i < 1000; ++i) {
    file += "id" + std::to_string(i) + ",query " + std::to_string(i) + ",P,t,,,E,train\n";
  }
  const Dataset first = Esci(file, 0.1);
  const Dataset second = Esci(file, 0.1);
  EXPECT_EQ(first.queries.split, second.queries.split);
  const auto valid =
      std::count(first.queries.split.begin(), first.queries.split.end(), Split::kValid);
  EXPECT_GT(valid, 60);
  EXPECT_LT(valid, 140);
}

TEST_F(JudgmentLoadersTest, EsciBadInputNamesFileAndLine) {
  const std::string header(kEsci, std::string(kEsci).find('\n') + 1);
  const std::string row = "train,mug,q9,E,P9,Mug,,,us\n";
  const std::string path = (dir_ / "esci.csv").string();

  EXPECT_TRUE(Mentions(ErrorOf([&] { Esci(header + row + "train,mug,q9,X,P8,Mug,,,us\n"); }),
                       {path + ":3:", "unknown label 'X'", "esci_label"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { Esci(header); }), {path + ":1:", "no data rows"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { Esci(""); }), {path, "empty file"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { Esci(header + row + "train,\"mug,q9\n"); }),
                       {path + ":3:", "never closed"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { Esci(header + row + "train,mug\xC0\xAF,q8,E,P1,t,,,us\n"); }),
                       {path + ":3:", "invalid UTF-8", "column 2 (query)"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { Esci(header + "train,mug,q1,E,P1,t,,us\n"); }),
                       {path + ":2: 8 fields, header has 9"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { Esci(header + row + "train,mug,q9,E,P8,t,,,us\n" + row); }),
                       {path + ":4:", "judged twice", "line 2", "'q9'", "'P9'"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { Esci(header + row + "valid,mug,q9,E,P8,t,,,us\n"); }),
                       {path + ":3:", "'valid' here but 'train' on line 2"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { Esci(header + "dev,mug,q9,E,P8,t,,,us\n"); }),
                       {path + ":2:", "unknown split 'dev'"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { Esci(header + "train,mug,q9,E,,t,,,us\n"); }),
                       {path + ":2:", "empty value in column 'product_id'"}));

  const std::string missing = (dir_ / "none.csv").string();
  EXPECT_TRUE(Mentions(ErrorOf([&] { LoadEsci({missing}); }), {missing, "cannot open"}));
}

TEST_F(JudgmentLoadersTest, EsciConflictingQueryTextNamesBothLines) {
  const std::string file = std::string(kEsci) + "train,red sneakers,q1,E,P7,x,,,us\n";
  EXPECT_TRUE(Mentions(ErrorOf([&] { Esci(file); }),
                       {":12:", "query id 'q1'", "'red sneakers' here but 'red shoes' on line 2"}));
}

TEST_F(JudgmentLoadersTest, EsciMissingColumnListsTheHeader) {
  const std::string path = (dir_ / "esci.csv").string();
  EXPECT_TRUE(Mentions(
      ErrorOf([&] {
        Esci(
            "query_id,query,product_id,product_title,product_brand,product_color,"
            "label,split\nq,q,p,t,b,c,E,train\n");
      }),
      {path + ":1:", "no column 'esci_label'", "columns are: query_id, query, product_id"}));
}

TEST_F(JudgmentLoadersTest, EsciWrongDelimiterIsNamed) {
  std::string tsv =
      "query_id\tquery\tproduct_id\tproduct_title\tproduct_brand\tproduct_color\t"
      "esci_label\tsplit\nq\tq\tp\tt\tb\tc\tE\ttrain\n";
  EsciOptions options;
  options.path = Write("esci.csv", tsv);
  options.delimiter = ',';
  EXPECT_TRUE(Mentions(ErrorOf([&] { LoadEsci(options); }), {options.path + ":1:", "TSV", "tab"}));
  options.delimiter = CsvReader::kDetectDelimiter;
  EXPECT_EQ(LoadEsci(options).pairs.size(), 1u);
}

TEST_F(JudgmentLoadersTest, JudgmentsWithLabelMapAndUserColumns) {
  JudgmentsOptions options;
  options.path = Write("j.csv",
                       "qid,search_term,asin,name,maker,relevance,part\n"
                       "1,lamp,A1,Desk lamp,Lumo,Exact,train\n"
                       "1,lamp,A2,Floor lamp,,substitute,train\n"
                       "2,bulb,A3,LED bulb,Lumo,IRRELEVANT,test\n"
                       "3,shade,A2,Floor lamp,,Complement,Valid\n");
  options.query_id_column = "qid";
  options.query_column = "search_term";
  options.product_id_column = "asin";
  options.title_column = "name";
  options.brand_column = "maker";
  options.label_column = "relevance";
  options.split_column = "part";
  options.label_map = "Exact=3, Substitute=2, Complement=1, Irrelevant=0";
  const Dataset d = LoadJudgments(options);
  EXPECT_EQ(d.source, options.path);
  EXPECT_EQ(d.queries.id, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(d.queries.text, (std::vector<std::string>{"lamp", "bulb", "shade"}));
  // A split column is used as written: no train query moves to valid.
  EXPECT_EQ(d.queries.split, Splits({Split::kTrain, Split::kTest, Split::kValid}));
  EXPECT_EQ(d.products.id, (std::vector<std::string>{"A1", "A2", "A3"}));
  EXPECT_EQ(d.products.brand, (std::vector<int32_t>{1, 0, 1}));
  EXPECT_EQ(d.products.colour, (std::vector<int32_t>{0, 0, 0}));
  EXPECT_EQ(d.brands, (std::vector<std::string>{"", "Lumo"}));
  EXPECT_EQ(Grades(d.pairs), (std::vector<int>{3, 2, 0, 1}));

  options.colour_column = "colour";
  EXPECT_TRUE(Mentions(ErrorOf([&] { LoadJudgments(options); }),
                       {options.path + ":1:", "no column 'colour' (colour)"}));
}

TEST_F(JudgmentLoadersTest, JudgmentsNumericGradesAndHashSplit) {
  JudgmentsOptions options;
  options.path = Write("g.tsv",
                       "query\tproduct_id\tproduct_title\tlabel\n"
                       "lamp\tA1\tDesk lamp\t4\n"
                       "bulb\tA3\t\t0\n"
                       "lamp\tA2\tFloor lamp\t1\n");
  options.label_map = "0=0,1=0,2=2,3=3,4=3";
  options.valid_fraction = 0;
  options.test_fraction = 1;
  Dataset d = LoadJudgments(options);
  // Without a query id column the text is the id.
  EXPECT_EQ(d.queries.id, (std::vector<std::string>{"lamp", "bulb"}));
  EXPECT_EQ(d.queries.split, Splits({Split::kTest, Split::kTest}));
  EXPECT_EQ(Grades(d.pairs), (std::vector<int>{3, 0, 0}));
  EXPECT_EQ(d.pairs.query, (std::vector<int32_t>{0, 0, 1}));
  EXPECT_EQ(d.pairs.product, (std::vector<int32_t>{0, 2, 1}));
  EXPECT_EQ(d.products.id, (std::vector<std::string>{"A1", "A3", "A2"}));
  EXPECT_EQ(d.products.title[1], "");  // an empty title is allowed

  // Without a map the labels are the grades 0..3.
  options.label_map.clear();
  options.test_fraction = 0;
  EXPECT_TRUE(Mentions(ErrorOf([&] { LoadJudgments(options); }),
                       {options.path + ":2:", "unknown label '4'", "0, 1, 2, 3"}));
  options.path = Write("ok.csv", "query,product_id,product_title,label\nlamp,A1,Desk lamp,2\n");
  d = LoadJudgments(options);
  EXPECT_EQ(Grades(d.pairs), (std::vector<int>{2}));
  EXPECT_EQ(d.queries.split, Splits({Split::kTrain}));
}

TEST(ParseLabelMapTest, ParsesAndRejects) {
  const auto labels = ParseLabelMap(" Exact = 3,substitute=2 ,C=1,0=0");
  EXPECT_EQ(labels, (std::map<std::string, Grade>{{"exact", Grade::kExact},
                                                  {"substitute", Grade::kSubstitute},
                                                  {"c", Grade::kComplement},
                                                  {"0", Grade::kIrrelevant}}));
  EXPECT_TRUE(Mentions(ErrorOf([] { ParseLabelMap(" "); }), {"label map is empty"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { ParseLabelMap("Exact=3,Substitute"); }),
                       {"entry 'Substitute' is not LABEL=GRADE"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { ParseLabelMap("Exact=3,"); }), {"entry '' is not"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { ParseLabelMap("=3"); }), {"empty label"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { ParseLabelMap("Exact=4"); }),
                       {"grade '4' of label 'exact' is not one of 0, 1, 2, 3"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { ParseLabelMap("Exact=high"); }), {"grade 'high'"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { ParseLabelMap("E=3,e=2"); }), {"label 'e' is given twice"}));
}

}  // namespace
}  // namespace recsys::data
