#include "data/vector_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/hdf5_file.h"
#include "tests/test_util.h"

namespace recsys::data {
namespace {

using VectorFileTest = testing::TempDirTest;

TEST_F(VectorFileTest, RoundTripsRowSlicesAndRefusesForeignFiles) {
  std::string path = Path("vectors.h5");
  std::vector<float> values = {1, 2, 3, 4, 5, 6, 7, 8};  // 4 rows of 2
  WriteVectors(path, values, 4, 2, "two_tower_pairwise@abc");
  VectorFileInfo info = ReadVectorInfo(path);
  EXPECT_EQ(info.rows, 4);
  EXPECT_EQ(info.dim, 2);
  EXPECT_EQ(info.model_version, "two_tower_pairwise@abc");
  EXPECT_EQ(ReadVectorRows(path, 1, 2), (std::vector<float>{3, 4, 5, 6}));
  EXPECT_EQ(ReadVectorRows(path, 0, 4), values);

  EXPECT_THROW(WriteVectors(path, values, 3, 2, "x"), Error);
  std::string other = Path("other.h5");
  {
    H5Writer w(other);
    w.Write("vectors", std::vector<float>{1});
    w.Commit();
  }
  try {
    ReadVectorInfo(other);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("other.h5: not a recsys-vectors file"), std::string::npos)
        << e.what();
  }
}

TEST_F(VectorFileTest, RefusesNonFiniteValuesNamingTheRow) {
  const std::vector<float> values = {1, 0, 0, 1, std::nanf(""), 0};  // row 2 holds a NaN
  EXPECT_TRUE(testing::Mentions(
      testing::ErrorOf([&] { WriteVectors(Path("nan.h5"), values, 3, 2, "m@1"); }),
      {"nan.h5 (vectors to write): row 2, column 0 is nan", "expected finite values"}));
  // A file written by something else: reading the rows refuses it, naming the file's row.
  const std::string path = Path("written_elsewhere.h5");
  {
    std::vector<float> with_inf = {1, 0, 0, 1, 0, 1, std::numeric_limits<float>::infinity(), 0};
    H5Writer w(path);
    w.Write("vectors", with_inf.data(), {4, 2});
    w.SetFormat("recsys-vectors", 1);
    w.SetAttribute("/", "model_version", std::string("m@1"));
    w.Commit();
  }
  EXPECT_EQ(ReadVectorRows(path, 0, 3), (std::vector<float>{1, 0, 0, 1, 0, 1}));
  EXPECT_TRUE(testing::Mentions(testing::ErrorOf([&] { ReadVectorRows(path, 2, 2); }),
                                {"written_elsewhere.h5: row 3, column 0 is inf"}));
}

}  // namespace
}  // namespace recsys::data
