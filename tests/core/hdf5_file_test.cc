#include "core/hdf5_file.h"

#include <H5Cpp.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "tests/test_util.h"

namespace recsys {
namespace {

namespace fs = std::filesystem;

using Hdf5FileTest = testing::TempDirTest;
using testing::ErrorOf;
using testing::Mentions;

// Overwrites element index of the 1-D int64 dataset name in place, as `h5py` would: the way
// a damaged or hostile file is made.
void PokeInt64(const std::string& path, const std::string& name, hsize_t index, int64_t value) {
  H5::H5File file(path, H5F_ACC_RDWR);
  H5::DataSet ds = file.openDataSet(name);
  H5::DataSpace file_space = ds.getSpace();
  const hsize_t count = 1;
  file_space.selectHyperslab(H5S_SELECT_SET, &count, &index);
  H5::DataSpace memory_space(1, &count);
  ds.write(&value, H5::PredType::NATIVE_INT64, memory_space, file_space);
}

TEST_F(Hdf5FileTest, RoundTripsEveryTypeStringsAndAttributes) {
  std::vector<float> floats = {1.5f, -2.25f, NAN};
  std::vector<int64_t> longs = {INT64_MIN, 0, INT64_MAX};
  std::vector<int16_t> shorts = {-1, 7};
  std::vector<uint8_t> bytes = {0, 255};
  std::vector<double> matrix = {1, 2, 3, 4, 5, 6};
  std::vector<std::string> strings = {"", "wireless headphones", "caf\xc3\xa9", ""};
  {
    H5Writer w(Path("a.h5"));
    w.Write("group/sub/floats", floats);
    w.Write("longs", longs);
    w.Write("shorts", shorts);
    w.Write("bytes", bytes);
    w.Write("matrix", matrix.data(), {2, 3});
    w.Write("empty", std::vector<int32_t>{});
    w.WriteStrings("names", strings);
    w.SetAttribute("/", "model", std::string("two_tower"));
    w.SetAttribute("/", "empty_text", std::string());
    w.SetAttribute("group/sub/floats", "step", int64_t{42});
    w.SetAttribute("group", "lr", 0.001);
    w.Commit();
  }
  H5Reader r(Path("a.h5"));
  auto f = r.Read<float>("group/sub/floats");
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0], 1.5f);
  EXPECT_EQ(f[1], -2.25f);
  EXPECT_TRUE(std::isnan(f[2]));
  EXPECT_EQ(r.Read<int64_t>("longs"), longs);
  EXPECT_EQ(r.Read<int16_t>("shorts"), shorts);
  EXPECT_EQ(r.Read<uint8_t>("bytes"), bytes);
  EXPECT_EQ(r.Read<double>("matrix"), matrix);
  EXPECT_EQ(r.Shape("matrix"), (std::vector<uint64_t>{2, 3}));
  EXPECT_TRUE(r.Read<int32_t>("empty").empty());
  EXPECT_EQ(r.ReadStrings("names"), strings);
  EXPECT_EQ(r.StringAttribute("/", "model"), "two_tower");
  EXPECT_EQ(r.StringAttribute("/", "empty_text"), "");
  EXPECT_EQ(r.Int64Attribute("group/sub/floats", "step"), 42);
  EXPECT_EQ(r.DoubleAttribute("group", "lr"), 0.001);
  EXPECT_TRUE(r.Has("group/sub/floats"));
  EXPECT_FALSE(r.Has("group/missing/floats"));
  EXPECT_FALSE(r.HasAttribute("/", "missing"));
}

TEST_F(Hdf5FileTest, ReadsRowSlicesOfOneAndTwoDimensionalDatasets) {
  std::vector<float> matrix(5 * 3);
  for (size_t i = 0; i < matrix.size(); ++i) matrix[i] = static_cast<float>(i);
  {
    H5Writer w(Path("rows.h5"));
    w.Write("m", matrix.data(), {5, 3});
    w.Write("v", std::vector<int64_t>{10, 11, 12, 13});
    w.Commit();
  }
  H5Reader r(Path("rows.h5"));
  EXPECT_EQ(r.ReadRows<float>("m", 1, 2), (std::vector<float>{3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(r.ReadRows<float>("m", 4, 1), (std::vector<float>{12, 13, 14}));
  EXPECT_TRUE(r.ReadRows<float>("m", 5, 0).empty());
  EXPECT_EQ(r.ReadRows<int64_t>("v", 2, 2), (std::vector<int64_t>{12, 13}));
  try {
    r.ReadRows<float>("m", 4, 2);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("2 rows from row 4 of '/m' are outside its 5 rows"),
              std::string::npos)
        << e.what();
  }
  // Found by fuzzing (tests/fuzz/corpus/hdf5_vectors/huge_count): the output was allocated
  // before the range was checked (std::bad_alloc), and begin + count could wrap around.
  EXPECT_TRUE(Mentions(ErrorOf([&] { r.ReadRows<float>("m", 0, uint64_t{1} << 40); }),
                       {"1099511627776 rows from row 0 of '/m' are outside its 5 rows"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { r.ReadRows<float>("m", 1, ~uint64_t{0}); }),
                       {"rows from row 1 of '/m' are outside its 5 rows"}));
}

TEST_F(Hdf5FileTest, WrongTypeAndMissingObjectsNameTheFile) {
  {
    H5Writer w(Path("b.h5"));
    w.Write("values", std::vector<float>{1, 2});
    w.Commit();
  }
  H5Reader r(Path("b.h5"));
  try {
    r.Read<int32_t>("values");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("b.h5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("holds float32, expected int32"), std::string::npos)
        << e.what();
  }
  try {
    r.Read<float>("nothing/here");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing dataset '/nothing/here'"), std::string::npos)
        << e.what();
  }
}

TEST_F(Hdf5FileTest, MissingAndNonHdf5FilesAreRefusedWithTheirName) {
  try {
    H5Reader r(Path("none.h5"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("none.h5: no such file"), std::string::npos) << e.what();
  }
  std::ofstream(Path("text.h5")) << "not hdf5\n";
  try {
    H5Reader r(Path("text.h5"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("text.h5: not an HDF5 file"), std::string::npos)
        << e.what();
  }
}

TEST_F(Hdf5FileTest, UncommittedWriterLeavesNothingBehind) {
  {
    H5Writer w(Path("c.h5"));
    w.Write("values", std::vector<float>{1, 2});
    // Destroyed without Commit(), as when an exception unwinds the writer.
  }
  EXPECT_FALSE(fs::exists(Path("c.h5")));
  EXPECT_TRUE(fs::is_empty(dir_)) << "temporary file left behind";
}

TEST_F(Hdf5FileTest, CommitReplacesAnExistingFileWhole) {
  for (float v : {1.0f, 2.0f}) {
    H5Writer w(Path("d.h5"));
    w.Write("values", std::vector<float>{v});
    w.Commit();
  }
  EXPECT_EQ(H5Reader(Path("d.h5")).Read<float>("values"), std::vector<float>{2.0f});
}

TEST_F(Hdf5FileTest, CorruptStringColumnIsDetected) {
  {
    H5Writer w(Path("e.h5"));
    w.Write("names/bytes", std::vector<uint8_t>{'a', 'b'});
    w.Write("names/offsets", std::vector<int64_t>{0, 5});
    w.Commit();
  }
  try {
    H5Reader(Path("e.h5")).ReadStrings("names");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("string column 'names' is corrupt"), std::string::npos)
        << e.what();
  }
}

// Issue 11, finding 2: offsets[1500] pointing far past the bytes read out of bounds
// (segfault in recsys_data inspect) before any check saw it.
TEST_F(Hdf5FileTest, StringOffsetPastTheBytesNamesTheRow) {
  std::vector<std::string> ids(2000);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = "P" + std::to_string(i);
  {
    H5Writer w(Path("ids.h5"));
    w.WriteStrings("products/id", ids);
    w.Commit();
  }
  PokeInt64(Path("ids.h5"), "products/id/offsets", 1500, 99999999);
  EXPECT_TRUE(Mentions(ErrorOf([&] { H5Reader(Path("ids.h5")).ReadStrings("products/id"); }),
                       {Path("ids.h5"), "string column 'products/id' is corrupt",
                        "row 1499 ends at offsets[1500] = 99999999, past the"}));
}

TEST_F(Hdf5FileTest, EveryBrokenStringColumnIsRefused) {
  struct Case {
    std::vector<uint8_t> bytes;
    std::vector<int64_t> offsets;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{'a', 'b', 'c'}, {0, 2, 1, 3}, "row 1: offsets decrease (offsets[1] = 2, offsets[2] = 1)"},
      {{'a', 'b', 'c'}, {0, 5, 3}, "row 0 ends at offsets[1] = 5, past the 3 stored bytes"},
      {{'a', 'b', 'c'}, {0, -4, 3}, "row 0: offsets decrease"},
      {{'a', 'b', 'c'}, {1, 2, 3}, "offsets[0] is 1, not 0"},
      {{'a', 'b', 'c'}, {}, "'offsets' is empty"},
      {{'a', 'b', 'c'}, {0, 1}, "the last offset is 1, but 3 bytes are stored"},
      {{'a', 'b'}, {0, 1, 2, 4}, "row 2 ends at offsets[3] = 4, past the 2 stored bytes"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::string path = Path("s" + std::to_string(i) + ".h5");
    {
      H5Writer w(path);
      w.Write("names/bytes", cases[i].bytes);
      w.Write("names/offsets", cases[i].offsets);
      w.Commit();
    }
    EXPECT_TRUE(Mentions(ErrorOf([&] { H5Reader(path).ReadStrings("names"); }),
                         {path, "string column 'names' is corrupt", cases[i].expected}))
        << "case " << i;
  }
  const int64_t matrix[] = {0, 1, 2, 3};
  {
    H5Writer w(Path("m.h5"));
    w.Write("names/bytes", std::vector<uint8_t>{'a', 'b', 'c'});
    w.Write("names/offsets", matrix, {2, 2});
    w.Commit();
  }
  EXPECT_TRUE(Mentions(ErrorOf([&] { H5Reader(Path("m.h5")).ReadStrings("names"); }),
                       {"'bytes' and 'offsets' must be 1-D datasets"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { H5Reader(Path("m.h5")).ReadStrings("other"); }),
                       {"missing dataset '/other/bytes'"}));
}

// A shape far larger than what the file stores (a chunked dataset whose chunks were never
// written, as a hostile file declares): refused before a reader allocates for it.
TEST_F(Hdf5FileTest, AShapeLargerThanTheStoredBytesIsRefusedBeforeAllocating) {
  {
    H5::H5File file(Path("huge.h5"), H5F_ACC_TRUNC);
    const hsize_t dims[1] = {hsize_t{1} << 40};
    const hsize_t chunk[1] = {hsize_t{1} << 20};
    H5::DSetCreatPropList props;
    props.setChunk(1, chunk);
    file.createDataSet("ids", H5::PredType::NATIVE_UINT8, H5::DataSpace(1, dims), props);
  }
  H5Reader reader(Path("huge.h5"));
  for (const std::string& error : {ErrorOf([&] { reader.Read<uint8_t>("ids"); }),
                                   ErrorOf([&] { reader.ReadRows<uint8_t>("ids", 0, 2); })}) {
    EXPECT_TRUE(Mentions(error, {"huge.h5: dataset '/ids' declares 1099511627776 bytes of "
                                 "elements but stores 0: the file is damaged"}));
  }
}

}  // namespace
}  // namespace recsys
