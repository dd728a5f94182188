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
  EsciOptions none;
  none.path = missing;
  EXPECT_TRUE(Mentions(ErrorOf([&] { LoadEsci(none); }), {missing, "cannot open"}));
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

// Issue 11, finding 3: a 50 MB line without the delimiter gave a 52 MB message listing the
// header. Messages now list the first columns and quote values in bounded excerpts.
TEST_F(JudgmentLoadersTest, MessagesAboutHugeInputStayShort) {
  const std::string line(4 << 20, 'h');
  std::string message = ErrorOf([&] { Esci(line + "\n" + line + "\n"); });
  EXPECT_TRUE(Mentions(message, {"no column 'query_id'", "columns are: hhhh", "(4194304 bytes)"}));
  EXPECT_LT(message.size(), 400u);
  std::string wide;
  for (int i = 0; i < 100000; ++i) wide += "column_" + std::to_string(i) + ",";
  message = ErrorOf([&] { Esci(wide + "last\n"); });
  EXPECT_TRUE(Mentions(message, {"columns are: column_0, column_1,", "... (100001 columns)"}));
  EXPECT_LT(message.size(), 1000u);
  const std::string label(1 << 20, 'L');
  message = ErrorOf([&] {
    Esci(
        "query_id,query,product_id,product_title,product_brand,product_color,esci_label,split\n"
        "q,q,p,t,b,c," +
        label + ",train\n");
  });
  EXPECT_TRUE(Mentions(message, {":2:", "unknown label 'LLLL", "(1048576 bytes)"}));
  EXPECT_LT(message.size(), 400u);
}

TEST_F(JudgmentLoadersTest, RecordLimitReachesTheReaders) {
  JudgmentsOptions options;
  options.path =
      Write("j.csv", "query,product_id,product_title,label\nq,p," + std::string(60, 't') + ",3\n");
  options.max_record_bytes = 50;
  EXPECT_TRUE(
      Mentions(ErrorOf([&] { LoadJudgments(options); }), {options.path + ":2:", "limit of 50"}));
  options.max_record_bytes = 100;
  options.catalog.path =
      Write("c.csv", "product_id,product_title\np," + std::string(40, 't') + "\n");
  options.catalog.max_record_bytes = 30;
  EXPECT_TRUE(Mentions(ErrorOf([&] { LoadJudgments(options); }),
                       {options.catalog.path + ":2:", "limit of 30"}));
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
  options.labels = LabelMap::Parse("Exact=3, Substitute=2, Complement=1, Irrelevant=0");
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
  options.labels = LabelMap::Parse("0=0,1=0,2=2,3=3,4=3");
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
  options.labels = LabelMap();
  options.test_fraction = 0;
  EXPECT_TRUE(Mentions(ErrorOf([&] { LoadJudgments(options); }),
                       {options.path + ":2:", "unknown label '4'", "0, 1, 2, 3"}));
  options.path = Write("ok.csv", "query,product_id,product_title,label\nlamp,A1,Desk lamp,2\n");
  d = LoadJudgments(options);
  EXPECT_EQ(Grades(d.pairs), (std::vector<int>{2}));
  EXPECT_EQ(d.queries.split, Splits({Split::kTrain}));
}

TEST(LabelMapTest, TextLabels) {
  const LabelMap map = LabelMap::Parse(" Exact = 3,substitute=S ,C=1,0=i");
  EXPECT_FALSE(map.numeric());
  EXPECT_EQ(map.labels(), (std::map<std::string, Grade>{{"exact", Grade::kExact},
                                                        {"substitute", Grade::kSubstitute},
                                                        {"c", Grade::kComplement},
                                                        {"0", Grade::kIrrelevant}}));
  EXPECT_EQ(map.Map("EXACT", "f:2", "l"), Grade::kExact);
  EXPECT_EQ(map.Map(" 0 ", "f:2", "l"), Grade::kIrrelevant);
  EXPECT_EQ(map.Describe(), "0, c, exact, substitute");
  EXPECT_TRUE(Mentions(ErrorOf([&] { map.Map("0.0", "f.csv:7", "rel"); }),
                       {"f.csv:7: unknown label '0.0' in column 'rel'", "0, c, exact"}));
  // A key like 5-star is a text label in a map without ranges.
  EXPECT_EQ(LabelMap::Parse("5-star=E,1-star=I").Map("5-Star", "f:2", "l"), Grade::kExact);
  // The default map: the grades themselves.
  EXPECT_EQ(LabelMap().Map("2", "f:2", "l"), Grade::kSubstitute);
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap().Map("E", "f:3", "l"); }),
                       {"f:3: unknown label 'E'", "0, 1, 2, 3"}));
}

TEST(LabelMapTest, TextLabelsRejected) {
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap::Parse(" "); }), {"label map is empty"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap::Parse("Exact=3,Substitute"); }),
                       {"entry 'Substitute' is not LABEL=GRADE or LO-HI=GRADE"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap::Parse("Exact=3,"); }), {"entry '' is not"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap::Parse("=3"); }), {"empty label"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap::Parse("Exact=4"); }),
                       {"grade '4' of label 'exact' is not one of 0, 1, 2, 3 or I, C, S, E"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap::Parse("Exact=high"); }), {"grade 'high'"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap::Parse("E=3,e=2"); }), {"label 'e' is given twice"}));
}

TEST(LabelMapTest, NumericRangesAreHalfOpenButTheLast) {
  const LabelMap map = LabelMap::Parse("2.75-3=E, 1-1.5=I,1.5-2.25=c,2.25-2.75=2");
  EXPECT_TRUE(map.numeric());
  EXPECT_EQ(map.Describe(), "[1, 1.5) I, [1.5, 2.25) C, [2.25, 2.75) S, [2.75, 3] E");
  const std::vector<std::pair<std::string, Grade>> cases = {
      {"1", Grade::kIrrelevant}, {"1.33", Grade::kIrrelevant}, {"1.5", Grade::kComplement},
      {"2", Grade::kComplement}, {"2.25", Grade::kSubstitute}, {"2.67", Grade::kSubstitute},
      {" 2.75 ", Grade::kExact}, {"3", Grade::kExact},         {"3.0", Grade::kExact},
      {"2.9999", Grade::kExact}, {"1e0", Grade::kIrrelevant}};
  for (const auto& [label, grade] : cases) {
    EXPECT_EQ(map.Map(label, "f:2", "l"), grade) << label;
  }
  EXPECT_TRUE(
      Mentions(ErrorOf([&] { map.Map("3.01", "g.csv:9", "relevance"); }),
               {"g.csv:9: label 3.01 in column 'relevance' is in no range", "[2.75, 3] E"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { map.Map("0.5", "g.csv:4", "relevance"); }),
                       {"g.csv:4: label 0.5", "in no range"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { map.Map("high", "g.csv:5", "relevance"); }),
                       {"g.csv:5: label 'high' in column 'relevance' is not a number"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { map.Map("", "g.csv:6", "relevance"); }),
                       {"g.csv:6: label '' in column 'relevance' is not a number"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { map.Map("nan", "g.csv:6", "relevance"); }),
                       {"label 'nan'", "is not a number"}));

  // A gap is no error by itself; a number in it is.
  const LabelMap gap = LabelMap::Parse("-1-0=I,2-3=E");
  EXPECT_EQ(gap.Map("-0.5", "f:2", "l"), Grade::kIrrelevant);
  EXPECT_EQ(gap.Map("3", "f:2", "l"), Grade::kExact);
  // 0 ends a range that is not the last, so it is not in it.
  EXPECT_TRUE(Mentions(ErrorOf([&] { gap.Map("0", "f:3", "l"); }), {"f:3: label 0 ", "no range"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { gap.Map("1.9", "f:3", "l"); }), {"f:3: label 1.9 "}));
}

TEST(LabelMapTest, NumericRangesRejected) {
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap::Parse("1-2=I,1.5-3=E"); }),
                       {"ranges '1-2' and '1.5-3' overlap"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap::Parse("2-3=E,1-2.5=I"); }),
                       {"ranges '1-2.5' and '2-3' overlap"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap::Parse("1-2=I,1-2=E"); }), {"overlap"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap::Parse("3-2=E"); }),
                       {"range '3-2' is empty: LO 3 is not below HI 2"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap::Parse("2-2=E"); }), {"range '2-2' is empty"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap::Parse("1-2=I,2-x=E"); }),
                       {"range '2-x' has a bound 'x' that is not a number"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap::Parse("1-2=I,a-3=E"); }),
                       {"range 'a-3' has a bound 'a' that is not a number"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap::Parse("1-2=I,2-=E"); }),
                       {"range '2-' has a bound '' that is not a number"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap::Parse("1-2=I,Exact=3"); }),
                       {"text label 'Exact' mixed with numeric ranges"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap::Parse("1-2=I,3=E"); }),
                       {"text label '3' mixed with numeric ranges"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap::Parse("1-2=X"); }),
                       {"grade 'X' of label '1-2' is not one of"}));
}

TEST(LabelMapTest, Threshold) {
  const LabelMap map = LabelMap::Threshold(2.5);
  EXPECT_TRUE(map.numeric());
  EXPECT_EQ(map.Describe(), ">= 2.5 E, < 2.5 I");
  EXPECT_EQ(map.Map("2.5", "f:2", "l"), Grade::kExact);
  EXPECT_EQ(map.Map("100", "f:2", "l"), Grade::kExact);
  EXPECT_EQ(map.Map("2.49", "f:2", "l"), Grade::kIrrelevant);
  EXPECT_EQ(map.Map("-7", "f:2", "l"), Grade::kIrrelevant);
  EXPECT_TRUE(Mentions(ErrorOf([&] { map.Map("E", "h.tsv:3", "grade"); }),
                       {"h.tsv:3: label 'E' in column 'grade' is not a number", ">= 2.5 E"}));
  EXPECT_TRUE(Mentions(ErrorOf([] { LabelMap::Threshold(HUGE_VAL); }), {"not a finite number"}));
}

TEST_F(JudgmentLoadersTest, JudgmentsNumericRangesInAFile) {
  JudgmentsOptions options;
  options.path = Write("r.csv",
                       "query,product_id,product_title,relevance\n"
                       "drill,A1,Cordless drill,3\n"
                       "drill,A2,Drill bits,2.33\n"
                       "drill,A3,Hammer,1.5\n"
                       "saw,A4,Hand saw,1.25\n");
  options.label_column = "relevance";
  options.labels = LabelMap::Parse("1-1.5=I,1.5-2=S,2-3=E");
  EXPECT_EQ(Grades(LoadJudgments(options).pairs), (std::vector<int>{3, 3, 2, 0}));
  options.labels = LabelMap::Threshold(2.4);
  EXPECT_EQ(Grades(LoadJudgments(options).pairs), (std::vector<int>{3, 0, 0, 0}));
  options.labels = LabelMap::Parse("1.3-2=S,2-3=E");
  EXPECT_TRUE(Mentions(ErrorOf([&] { LoadJudgments(options); }),
                       {options.path + ":5: label 1.25 in column 'relevance' is in no range",
                        "[1.3, 2) S, [2, 3] E"}));
}

TEST_F(JudgmentLoadersTest, SplitColumnWithoutValidGetsOneCarvedFromTrain) {
  // 400 queries, the first 300 train and the rest test: about a tenth of the train queries
  // become valid, chosen by hash of the id (so the same on every load), and no test query moves.
  std::string file = "qid,query,product_id,product_title,label,split\n";
  for (int i = 0; i < 400; ++i) {
    file += "q" + std::to_string(i) + ",query " + std::to_string(i) + ",P" + std::to_string(i) +
            ",t,3," + (i < 300 ? "train" : "test") + "\n";
  }
  JudgmentsOptions options;
  options.path = Write("s.csv", file);
  options.query_id_column = "qid";
  options.split_column = "split";
  options.valid_fraction = 0.1;
  options.test_fraction = 0.5;  // unused: the file names test queries
  const Dataset d = LoadJudgments(options);
  int valid = 0;
  for (int i = 0; i < 400; ++i) {
    const Split split = d.queries.split[i];
    if (i >= 300) {
      EXPECT_EQ(split, Split::kTest) << i;
    } else {
      EXPECT_NE(split, Split::kTest) << i;
      valid += split == Split::kValid;
    }
  }
  EXPECT_GT(valid, 15);
  EXPECT_LT(valid, 45);
  EXPECT_EQ(LoadJudgments(options).queries.split, d.queries.split);

  // A file that names valid queries keeps its splits as written.
  file += "v1,valid query,P1,t,3,valid\n";
  options.path = Write("s.csv", file);
  const Dataset written = LoadJudgments(options);
  EXPECT_EQ(std::count(written.queries.split.begin(), written.queries.split.end(), Split::kValid),
            1);
  // With only train rows both valid and test are carved.
  std::string train_only = "qid,query,product_id,product_title,label,split\n";
  for (int i = 0; i < 300; ++i) {
    train_only += "q" + std::to_string(i) + ",query,P" + std::to_string(i) + ",t,3,train\n";
  }
  options.path = Write("t.csv", train_only);
  options.test_fraction = 0.2;
  const Dataset carved = LoadJudgments(options);
  const auto test =
      std::count(carved.queries.split.begin(), carved.queries.split.end(), Split::kTest);
  EXPECT_GT(test, 35);
  EXPECT_LT(test, 85);
  EXPECT_GT(std::count(carved.queries.split.begin(), carved.queries.split.end(), Split::kValid),
            10);
}

// A catalogue of four products (one of them never judged) and a judged file with one product
// absent from the catalogue and one that disagrees about a title.
constexpr char kCatalog[] =
    "asin\tname\tmaker\tshade\tkind\tcost\tstars\n"
    "C1\tCordless Drill 20V\tVolt\tyellow\tTools > Drills\t79.99\t4.5\n"
    "C2\tDrill Bit Set\tVolt\t\tTools > Drills\t\t\n"
    "C3\tClaw Hammer\tForge\tblack\tTools > Hand Tools\t12\t3\n"
    "C4\tNever judged saw\t\t\t\t0\t5\n";

TEST_F(JudgmentLoadersTest, CatalogueJoinedByProductId) {
  JudgmentsOptions options;
  options.path = Write("j.csv",
                       "query,asin,title,label,brand\n"
                       "drill,C1,Cordless Drill 20V,3,Volt\n"
                       "drill,X9,Drill press,2,Benchy\n"
                       "drill,C3,Hammer (old title),0,\n"
                       "bits,C2,,3,\n"
                       "bits,X9,Drill press,1,Benchy\n");
  options.product_id_column = "asin";
  options.title_column = "title";
  options.brand_column = "brand";
  options.catalog.path = Write("catalog.tsv", kCatalog);
  options.catalog.title_column = "name";
  options.catalog.brand_column = "maker";
  options.catalog.colour_column = "shade";
  options.catalog.category_column = "kind";
  options.catalog.price_column = "cost";
  options.catalog.rating_column = "stars";
  ::testing::internal::CaptureStderr();
  const Dataset d = LoadJudgments(options);
  const std::string log = ::testing::internal::GetCapturedStderr();
  // One warning: C3's other title (line 4); C2's empty title says nothing.
  EXPECT_TRUE(Mentions(log, {options.path + ": 1 rows give a product of the catalogue " +
                             options.catalog.path + " another title (first on line 4)"}));
  const Products& p = d.products;
  // Catalogue rows first, in file order; then judged products absent from it.
  EXPECT_EQ(p.id, (std::vector<std::string>{"C1", "C2", "C3", "C4", "X9"}));
  EXPECT_EQ(p.title, (std::vector<std::string>{"Cordless Drill 20V", "Drill Bit Set", "Claw Hammer",
                                               "Never judged saw", "Drill press"}));
  EXPECT_EQ(d.brands, (std::vector<std::string>{"", "Volt", "Forge", "Benchy"}));
  EXPECT_EQ(p.brand, (std::vector<int32_t>{1, 1, 2, 0, 3}));
  EXPECT_EQ(d.colours, (std::vector<std::string>{"", "yellow", "black"}));
  EXPECT_EQ(p.colour, (std::vector<int32_t>{1, 0, 2, 0, 0}));
  EXPECT_EQ(d.categories, (std::vector<std::string>{"", "Tools > Drills", "Tools > Hand Tools"}));
  EXPECT_EQ(p.category, (std::vector<int32_t>{1, 1, 2, 0, 0}));
  EXPECT_FLOAT_EQ(p.price[0], 79.99f);
  EXPECT_TRUE(std::isnan(p.price[1]));
  EXPECT_FLOAT_EQ(p.price[3], 0.0f);
  EXPECT_TRUE(std::isnan(p.price[4]));
  EXPECT_FLOAT_EQ(p.rating[0], 4.5f);
  EXPECT_TRUE(std::isnan(p.rating[1]));
  EXPECT_FLOAT_EQ(p.rating[3], 5.0f);
  EXPECT_EQ(d.pairs.product, (std::vector<int32_t>{0, 4, 2, 1, 4}));
  EXPECT_EQ(Grades(d.pairs), (std::vector<int>{3, 2, 0, 3, 1}));
  // C4 is never judged: a cold-start product.
  EXPECT_EQ(ColdStartProducts(d)[3], 1);

  // Without optional columns only ids and titles come from the catalogue.
  JudgmentsOptions plain = options;
  plain.catalog = CatalogOptions();
  plain.catalog.path = options.catalog.path;
  plain.catalog.title_column = "name";
  const Dataset q = LoadJudgments(plain);
  EXPECT_EQ(q.products.title, p.title);
  EXPECT_EQ(q.brands, (std::vector<std::string>{"", "Benchy"}));
  EXPECT_EQ(q.products.brand, (std::vector<int32_t>{0, 0, 0, 0, 1}));
}

TEST_F(JudgmentLoadersTest, CatalogueErrors) {
  JudgmentsOptions options;
  options.path = Write("j.csv", "query,asin,title,label\ndrill,C1,Drill,3\n");
  options.product_id_column = "asin";
  options.title_column = "title";
  const auto load = [&](const std::string& catalog, const std::string& price = "",
                        const std::string& rating = "") {
    JudgmentsOptions o = options;
    o.catalog.path = Write("c.csv", catalog);
    o.catalog.price_column = price;
    o.catalog.rating_column = rating;
    return LoadJudgments(o);
  };
  const std::string path = Path("c.csv");
  EXPECT_TRUE(Mentions(ErrorOf([&] { load("asin,title\nC1,a\nC2,b\nC1,c\n"); }),
                       {path + ":4: product id 'C1' is in the catalogue twice (also on line 2)"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { load("id,title\nC1,a\n"); }),
                       {path + ":1: no column 'asin' (catalogue product id)", "columns are: id"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { load("asin,name\nC1,a\n"); }),
                       {path + ":1: no column 'title' (catalogue title)"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { load("asin,title\nC1,a\n", "price"); }),
                       {path + ":1: no column 'price' (catalogue price)"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { load("asin,title\n"); }), {path + ":1: no data rows"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { load("asin,title\n,a\n"); }),
                       {path + ":2: empty value in column 'asin'"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { load("asin,title,p\nC1,a,cheap\n", "p"); }),
                       {path + ":2: price 'cheap' in column 'p' is not a number in [0, inf]"}));
  EXPECT_TRUE(
      Mentions(ErrorOf([&] { load("asin,title,p\nC1,a,-1\n", "p"); }), {path + ":2: price '-1'"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { load("asin,title,r\nC1,a,0\n", "", "r"); }),
                       {path + ":2: rating '0' in column 'r' is not a number in [1, 5]"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { load("asin,title\nC1,a,b\n"); }),
                       {path + ":2: 3 fields, header has 2"}));
  const std::string missing = Path("none.csv");
  options.catalog.path = missing;
  EXPECT_TRUE(Mentions(ErrorOf([&] { LoadJudgments(options); }), {missing, "cannot open"}));
}

TEST_F(JudgmentLoadersTest, EsciWithCatalogue) {
  EsciOptions options;
  options.path = Write("esci.csv", kEsci);
  options.valid_fraction = 0;
  options.catalog.path = Write("products.csv",
                               "product_id,product_title\n"
                               "P9,Unjudged lamp\n"
                               "P2,Blue Shoe\n");
  const Dataset d = LoadEsci(options);
  EXPECT_EQ(d.products.id, (std::vector<std::string>{"P9", "P2", "P1", "P3", "P4", "P5", "P6"}));
  EXPECT_EQ(d.products.title[0], "Unjudged lamp");
  EXPECT_EQ(d.pairs.size(), 10u);
}

}  // namespace
}  // namespace recsys::data
