// Every file H5Writer writes carries checksums that HDF5 verifies on read: a flipped byte in a
// dataset's data or in an attribute fails the read with an error naming the file, instead of
// changing a result.

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/hdf5_file.h"
#include "tests/test_util.h"

namespace recsys {
namespace {

using ChecksumTest = testing::TempDirTest;
using testing::ErrorOf;
using testing::Mentions;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Flips one bit of the first occurrence of marker in the file; the marker must be there.
void FlipByteOf(const std::string& path, const std::string& marker) {
  std::string bytes = ReadAll(path);
  const size_t at = bytes.find(marker);
  ASSERT_NE(at, std::string::npos) << "'" << marker << "' not stored verbatim in " << path;
  bytes[at + marker.size() / 2] ^= 0x01;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Bytes that are easy to find in the file: "CENTROID" repeated.
std::vector<uint8_t> Marked(size_t repeats) {
  const std::string word = "CENTROID";
  std::vector<uint8_t> out;
  for (size_t i = 0; i < repeats; ++i) out.insert(out.end(), word.begin(), word.end());
  return out;
}

TEST_F(ChecksumTest, AFlippedByteInADatasetFailsTheRead) {
  {
    H5Writer w(Path("a.h5"));
    w.Write("centroids", Marked(64));
    w.Write("other", std::vector<float>{1, 2, 3});
    w.Commit();
  }
  EXPECT_EQ(H5Reader(Path("a.h5")).Read<uint8_t>("centroids"), Marked(64));
  FlipByteOf(Path("a.h5"), "CENTROIDCENTROID");
  const std::string error = ErrorOf([&] { H5Reader(Path("a.h5")).Read<uint8_t>("centroids"); });
  EXPECT_TRUE(Mentions(error, {"a.h5", "centroids", "Fletcher32 checksum"})) << error;
  // The rest of the file still reads.
  EXPECT_EQ(H5Reader(Path("a.h5")).Read<float>("other"), (std::vector<float>{1, 2, 3}));
}

TEST_F(ChecksumTest, AFlippedByteInRowsReadAsASliceFailsTheRead) {
  const std::vector<uint8_t> rows = Marked(4096);  // 32 KiB: rows of 8 bytes
  {
    H5Writer w(Path("b.h5"));
    w.Write("vectors", rows.data(), {rows.size() / 8, 8});
    w.Commit();
  }
  FlipByteOf(Path("b.h5"), "CENTROIDCENTROID");
  const std::string error =
      ErrorOf([&] { H5Reader(Path("b.h5")).ReadRows<uint8_t>("vectors", 0, 2); });
  EXPECT_TRUE(Mentions(error, {"b.h5", "vectors", "checksum"})) << error;
}

TEST_F(ChecksumTest, AFlippedByteInAnAttributeFailsTheRead) {
  {
    H5Writer w(Path("c.h5"));
    w.Write("values", std::vector<float>{1});
    w.SetAttribute("/", "model_version", std::string("MODELVERSION-0123456789"));
    w.Commit();
  }
  FlipByteOf(Path("c.h5"), "MODELVERSION-0123456789");
  const std::string error = ErrorOf([&] {
    H5Reader reader(Path("c.h5"));
    reader.StringAttribute("/", "model_version");
  });
  EXPECT_TRUE(Mentions(error, {"c.h5", "checksum"})) << error;
}

}  // namespace
}  // namespace recsys
