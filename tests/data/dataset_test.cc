#include "data/dataset.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "core/error.h"
#include "core/hdf5_file.h"
#include "tests/test_util.h"

namespace recsys::data {
namespace {

namespace fs = std::filesystem;

Dataset SmallDataset() {
  Dataset d;
  d.brands = {"", "Acme", "Zenith"};
  d.colours = {"", "black"};
  d.categories = {"", "Electronics > Audio > Headphones", "Electronics > Audio > Cases"};
  d.products.id = {"B001", "B002", "B003"};
  d.products.title = {"Acme wireless headphones, black", "Zenith case", "caf\xc3\xa9 mug"};
  d.products.brand = {1, 2, 0};
  d.products.colour = {1, 0, 0};
  d.products.category = {1, 2, 0};
  d.products.price = {59.99f, 9.5f, NAN};
  d.products.rating = {4.5f, NAN, 1.0f};
  d.products.release_day = {19000, kUnknownDay, 0};
  d.queries.id = {"Q1", "Q2"};
  d.queries.text = {"wireless headphones", "headphone case"};
  d.queries.split = {Split::kTrain, Split::kTest};
  d.pairs.query = {0, 0, 1};
  d.pairs.product = {0, 1, 1};
  d.pairs.grade = {Grade::kExact, Grade::kComplement, Grade::kExact};
  d.pairs.click = {1, 0, 1};
  d.pairs.position = {0, 1, -1};
  d.source = "hand-made";
  return d;
}

using DatasetTest = testing::TempDirTest;

void ExpectValidateError(const Dataset& d, const std::string& fragment) {
  try {
    d.Validate();
    FAIL() << "expected a validation error containing: " << fragment;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST_F(DatasetTest, RoundTripsThroughHdf5) {
  Dataset d = SmallDataset();
  WriteDataset(d, Path("d.h5"));
  Dataset r = ReadDataset(Path("d.h5"));
  EXPECT_EQ(r.brands, d.brands);
  EXPECT_EQ(r.colours, d.colours);
  EXPECT_EQ(r.categories, d.categories);
  EXPECT_EQ(r.products.id, d.products.id);
  EXPECT_EQ(r.products.title, d.products.title);
  EXPECT_EQ(r.products.brand, d.products.brand);
  EXPECT_EQ(r.products.colour, d.products.colour);
  EXPECT_EQ(r.products.category, d.products.category);
  EXPECT_EQ(r.products.price[0], 59.99f);
  EXPECT_TRUE(std::isnan(r.products.price[2]));
  EXPECT_TRUE(std::isnan(r.products.rating[1]));
  EXPECT_EQ(r.products.release_day, d.products.release_day);
  EXPECT_EQ(r.queries.id, d.queries.id);
  EXPECT_EQ(r.queries.text, d.queries.text);
  EXPECT_EQ(r.queries.split, d.queries.split);
  EXPECT_EQ(r.pairs.query, d.pairs.query);
  EXPECT_EQ(r.pairs.product, d.pairs.product);
  EXPECT_EQ(r.pairs.grade, d.pairs.grade);
  EXPECT_EQ(r.pairs.click, d.pairs.click);
  EXPECT_EQ(r.pairs.position, d.pairs.position);
  EXPECT_EQ(r.source, "hand-made");
}

TEST_F(DatasetTest, EmptyDatasetRoundTrips) {
  Dataset d;
  WriteDataset(d, Path("empty.h5"));
  Dataset r = ReadDataset(Path("empty.h5"));
  EXPECT_EQ(r.products.size(), 0u);
  EXPECT_EQ(r.pairs.size(), 0u);
  EXPECT_EQ(r.brands, std::vector<std::string>{""});
}

TEST_F(DatasetTest, ValidateNamesTheFirstInconsistency) {
  Dataset d = SmallDataset();
  d.products.price.pop_back();
  ExpectValidateError(d, "column 'products/price' has 2 rows, expected 3");

  d = SmallDataset();
  d.products.brand[1] = 3;
  ExpectValidateError(d, "column 'products/brand' row 1: index 3 is outside [0, 3)");

  d = SmallDataset();
  d.products.id[2] = "B001";
  ExpectValidateError(d, "duplicate id 'B001'");

  d = SmallDataset();
  d.pairs.product[2] = -1;
  ExpectValidateError(d, "column 'pairs/product' row 2: index -1");

  d = SmallDataset();
  d.pairs.query = {1, 0, 0};
  ExpectValidateError(d, "pairs are not grouped by query at row 1");

  d = SmallDataset();
  d.products.rating[0] = 6.0f;
  ExpectValidateError(d, "products/rating row 0: 6 is outside [1, 5]");

  d = SmallDataset();
  d.brands[0] = "unknown";
  ExpectValidateError(d, "vocabularies must start with the unknown entry");
}

TEST_F(DatasetTest, InvalidDatasetIsNeverWritten) {
  Dataset d = SmallDataset();
  d.pairs.grade[0] = static_cast<Grade>(7);
  EXPECT_THROW(WriteDataset(d, Path("bad.h5")), Error);
  EXPECT_FALSE(fs::exists(Path("bad.h5")));
}

TEST_F(DatasetTest, ForeignAndCorruptFilesAreRefusedWithTheirName) {
  {
    H5Writer w(Path("other.h5"));
    w.Write("x", std::vector<float>{1});
    w.Commit();
  }
  try {
    ReadDataset(Path("other.h5"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("other.h5: not a recsys-dataset file"), std::string::npos)
        << e.what();
  }
  // A dataset whose pair index points past the catalogue.
  Dataset d = SmallDataset();
  WriteDataset(d, Path("ok.h5"));
  {
    H5Reader r(Path("ok.h5"));
    H5Writer w(Path("corrupt.h5"));
    for (const char* name : {"vocab/brands", "vocab/colours", "vocab/categories", "products/id",
                             "products/title", "queries/id", "queries/text"}) {
      w.WriteStrings(name, r.ReadStrings(name));
    }
    w.Write("products/brand", r.Read<int32_t>("products/brand"));
    w.Write("products/colour", r.Read<int32_t>("products/colour"));
    w.Write("products/category", r.Read<int32_t>("products/category"));
    w.Write("products/price", r.Read<float>("products/price"));
    w.Write("products/rating", r.Read<float>("products/rating"));
    w.Write("products/release_day", r.Read<int32_t>("products/release_day"));
    w.Write("queries/split", r.Read<uint8_t>("queries/split"));
    w.Write("pairs/query", r.Read<int32_t>("pairs/query"));
    w.Write("pairs/product", std::vector<int32_t>{0, 1, 9});
    w.Write("pairs/grade", r.Read<uint8_t>("pairs/grade"));
    w.Write("pairs/click", r.Read<uint8_t>("pairs/click"));
    w.Write("pairs/position", r.Read<int16_t>("pairs/position"));
    w.SetAttribute("/", "format", std::string("recsys-dataset"));
    w.SetAttribute("/", "format_version", int64_t{1});
    w.SetAttribute("/", "source", std::string("x"));
    w.Commit();
  }
  try {
    ReadDataset(Path("corrupt.h5"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt.h5: invalid dataset"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("'pairs/product' row 2: index 9"), std::string::npos)
        << e.what();
  }
}

TEST_F(DatasetTest, SummaryCountsSplitsGradesAndColdProducts) {
  std::ostringstream out;
  PrintSummary(SmallDataset(), out);
  std::string s = out.str();
  EXPECT_NE(s.find("products:   3"), std::string::npos) << s;
  EXPECT_NE(s.find("queries:    2 (train 1, valid 0, test 1)"), std::string::npos) << s;
  EXPECT_NE(s.find("pairs:      3 (E 66.7%, S 0.0%, C 33.3%, I 0.0%); clicks 2"), std::string::npos)
      << s;
  // B002 is judged for the train query; nothing is judged only in test queries.
  EXPECT_NE(s.find("judged:     2 products; 0 of them only in test queries"), std::string::npos)
      << s;
}

}  // namespace
}  // namespace recsys::data
