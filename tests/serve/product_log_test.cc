#include "serve/product_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/stable_hash.h"
#include "tests/test_util.h"

namespace recsys::serve {
namespace {

using ::testing::AllOf;
using testing::ErrorOf;
using ::testing::HasSubstr;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

LoggedProduct Product(int64_t seq) {
  LoggedProduct p;
  p.seq = seq;
  p.index_build = 7;
  p.cluster = static_cast<int32_t>(seq % 5);
  p.vector = {0.25f * static_cast<float>(seq), -1.5f, 3.0f};
  p.id = "P" + std::to_string(seq);
  p.title = "Product " + std::to_string(seq);
  p.brand = "Acme";
  p.price = 9.5f + static_cast<float>(seq);
  p.rating = 4.0f;
  p.release_day = 19000 + static_cast<int32_t>(seq);
  return p;
}

std::vector<LoggedProduct> Products(std::initializer_list<int64_t> seqs) {
  std::vector<LoggedProduct> out;
  for (int64_t seq : seqs) out.push_back(Product(seq));
  return out;
}

std::vector<int64_t> Seqs(const std::vector<LoggedProduct>& records) {
  std::vector<int64_t> out;
  for (const LoggedProduct& p : records) out.push_back(p.seq);
  return out;
}

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void SetBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string LittleEndian(uint64_t v, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  return out;
}

class ProductLogTest : public testing::TempDirTest {
 protected:
  std::string LogPath(int rank = 0) const { return ProductLogPath(dir_.string(), rank); }

  // Writes each batch with one Append and one Sync; returns the file size after each batch.
  std::vector<int64_t> WriteBatches(const std::vector<std::vector<LoggedProduct>>& batches,
                                    int rank = 0) {
    ProductLog log(LogPath(rank));
    std::vector<int64_t> sizes;
    for (const auto& batch : batches) {
      log.Append(batch);
      log.Sync();
      sizes.push_back(static_cast<int64_t>(std::filesystem::file_size(LogPath(rank))));
    }
    return sizes;
  }
};

TEST_F(ProductLogTest, PathIsAddsRankDotLog) {
  EXPECT_EQ(ProductLogPath("/x/logs", 3), "/x/logs/adds-3.log");
}

TEST_F(ProductLogTest, RoundTripKeepsEveryFieldWithNaNAndUnicode) {
  std::vector<LoggedProduct> records = Products({1, 2, 3});
  records[0].title = "Caf\xC3\xA9 mug \xE2\x98\x95 \xF0\x9F\x8D\xB5";  // é, a cup, a teacup
  records[0].colour = "\xE7\xBA\xA2";                                  // 红
  records[0].price = kNaN;
  records[0].rating = kNaN;
  records[0].release_day = data::kUnknownDay;
  records[1].vector = {};
  records[1].brand = "";
  records[1].cluster = -1;
  records[2].category = std::string("with\0nul", 8);
  records[2].vector.assign(300, -0.125f);
  records[2].index_build = int64_t{1} << 40;
  {
    ProductLog log(LogPath());
    EXPECT_EQ(log.records(), 0);
    log.Append(records);
    log.Sync();
    EXPECT_EQ(log.records(), 3);
  }
  const std::vector<LoggedProduct> back = ReadProductLogs(dir_.string());
  ASSERT_EQ(back.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(back[i] == records[i]) << "record " << i;
  EXPECT_TRUE(std::isnan(back[0].price));
  EXPECT_EQ(back[0].release_day, data::kUnknownDay);
  EXPECT_EQ(back[2].category.size(), 8u);
}

TEST_F(ProductLogTest, EqualityTreatsNaNAsEqualAndEveryFieldAsSignificant) {
  LoggedProduct a = Product(1), b = Product(1);
  a.price = b.price = kNaN;
  EXPECT_TRUE(a == b);
  b.price = 1;
  EXPECT_FALSE(a == b);
  b = a;
  b.vector[2] = 3.5f;
  EXPECT_FALSE(a == b);
  b = a;
  b.category = "x";
  EXPECT_FALSE(a == b);
}

// The layout documented at the top of product_log.h, byte for byte.
TEST_F(ProductLogTest, FileIsTheDocumentedLayout) {
  LoggedProduct p;
  p.seq = 5;
  p.index_build = 2;
  p.cluster = 9;
  p.vector = {1.0f};
  p.id = "a";
  p.title = "bc";
  p.price = 2.5f;
  {
    ProductLog log(LogPath());
    log.Append({p});
  }
  std::string payload = LittleEndian(5, 8) + LittleEndian(2, 8) + LittleEndian(9, 4) +
                        LittleEndian(1, 4) + LittleEndian(0x3f800000, 4) +  // 1.0f
                        LittleEndian(1, 4) + "a" + LittleEndian(2, 4) + "bc" + LittleEndian(0, 4) +
                        LittleEndian(0, 4) + LittleEndian(0, 4) +
                        LittleEndian(0x40200000, 4) +  // price 2.5f
                        LittleEndian(0x7fc00000, 4) +  // rating: quiet NaN
                        LittleEndian(0x80000000, 4);   // release day unknown: INT32_MIN
  const std::string expected =
      "RPL1" + LittleEndian(payload.size(), 4) + LittleEndian(StableHash(payload), 8) + payload;
  EXPECT_EQ(Bytes(LogPath()), expected);
}

TEST_F(ProductLogTest, ReopenContinuesTheFile) {
  WriteBatches({Products({1, 2})});
  {
    ProductLog log(LogPath());
    EXPECT_EQ(log.records(), 2);
    log.Append(Products({3}));
    log.Append(Products({4, 5}));
    log.Sync();
    EXPECT_EQ(log.records(), 5);
  }
  EXPECT_EQ(ProductLog(LogPath()).records(), 5);
  EXPECT_EQ(Seqs(ReadProductLogs(dir_.string())), (std::vector<int64_t>{1, 2, 3, 4, 5}));
}

TEST_F(ProductLogTest, SyncsCountsSyncCalls) {
  ProductLog log(LogPath());
  EXPECT_EQ(log.syncs(), 0);
  log.Append(Products({1, 2, 3}));
  log.Sync();
  log.Append({});
  log.Sync();
  EXPECT_EQ(log.syncs(), 2);
  EXPECT_EQ(log.records(), 3);
}

TEST_F(ProductLogTest, ATailCutAtEveryByteOfTheLastRecordIsCutOffAtOpen) {
  const std::vector<int64_t> sizes = WriteBatches({Products({1, 2}), Products({3})});
  const std::string whole = Bytes(LogPath());
  for (int64_t cut = sizes[0] + 1; cut < sizes[1]; ++cut) {
    SCOPED_TRACE("cut at byte " + std::to_string(cut));
    SetBytes(LogPath(), whole.substr(0, cut));
    // A reader skips the tail without changing the file.
    EXPECT_EQ(Seqs(ReadProductLogs(dir_.string())), (std::vector<int64_t>{1, 2}));
    EXPECT_EQ(static_cast<int64_t>(std::filesystem::file_size(LogPath())), cut);
    {
      ProductLog log(LogPath());
      EXPECT_EQ(log.records(), 2);
      EXPECT_EQ(static_cast<int64_t>(std::filesystem::file_size(LogPath())), sizes[0]);
      log.Append(Products({4}));
      log.Sync();
    }
    const std::vector<LoggedProduct> back = ReadProductLogs(dir_.string());
    EXPECT_EQ(Seqs(back), (std::vector<int64_t>{1, 2, 4}));
    ASSERT_EQ(back.size(), 3u);
    EXPECT_TRUE(back[2] == Product(4));
  }
}

TEST_F(ProductLogTest, AFlippedByteInTheLastRecordIsATornTail) {
  const std::vector<int64_t> sizes = WriteBatches({Products({1, 2}), Products({3})});
  const std::string whole = Bytes(LogPath());
  for (int64_t at = sizes[0]; at < sizes[1]; ++at) {
    SCOPED_TRACE("flipped byte " + std::to_string(at));
    std::string damaged = whole;
    damaged[at] ^= 0x20;
    SetBytes(LogPath(), damaged);
    EXPECT_EQ(Seqs(ReadProductLogs(dir_.string())), (std::vector<int64_t>{1, 2}));
    EXPECT_EQ(ProductLog(LogPath()).records(), 2);
    EXPECT_EQ(Bytes(LogPath()), whole.substr(0, sizes[0]));
  }
}

TEST_F(ProductLogTest, AZeroFilledTailIsATornTail) {
  const std::vector<int64_t> sizes = WriteBatches({Products({1})});
  SetBytes(LogPath(), Bytes(LogPath()) + std::string(4096, '\0'));
  EXPECT_EQ(ProductLog(LogPath()).records(), 1);
  EXPECT_EQ(static_cast<int64_t>(std::filesystem::file_size(LogPath())), sizes[0]);
}

TEST_F(ProductLogTest, AFlippedByteInAMiddleRecordThrowsNamingTheOffset) {
  const std::vector<int64_t> sizes = WriteBatches({Products({1}), Products({2}), Products({3})});
  const std::string whole = Bytes(LogPath());
  // In the magic, the length, the checksum and the payload of record 2.
  for (int64_t at : {sizes[0], sizes[0] + 5, sizes[0] + 12, sizes[0] + 30, sizes[1] - 1}) {
    SCOPED_TRACE("flipped byte " + std::to_string(at));
    std::string damaged = whole;
    damaged[at] ^= 0x01;
    SetBytes(LogPath(), damaged);
    const std::string offset = "byte offset " + std::to_string(sizes[0]);
    EXPECT_THAT(ErrorOf([&] { ProductLog log(LogPath()); }),
                AllOf(HasSubstr(LogPath()), HasSubstr(offset), HasSubstr("damaged")));
    EXPECT_THAT(ErrorOf([&] { ReadProductLogs(dir_.string()); }),
                AllOf(HasSubstr(LogPath()), HasSubstr(offset)));
    EXPECT_EQ(Bytes(LogPath()), damaged);  // left for repair, not cut
  }
}

// The search for an intact record after a failing one reads the file in 64 KiB windows: one
// whose magic straddles two windows is found.
TEST_F(ProductLogTest, AnIntactRecordFarAfterTheDamageIsFound) {
  const std::vector<int64_t> sizes = WriteBatches({Products({1})});
  const std::string record = Bytes(LogPath());
  for (int64_t gap : {65533, 65534, 65535, 65536, 200000}) {
    SCOPED_TRACE("gap " + std::to_string(gap));
    SetBytes(LogPath(), record + std::string(gap, 'x') + record);
    EXPECT_THAT(ErrorOf([&] { ProductLog log(LogPath()); }),
                HasSubstr("byte offset " + std::to_string(sizes[0])));
  }
}

TEST_F(ProductLogTest, AHugeLengthInAHeaderIsRefusedWithoutAllocating) {
  const std::vector<int64_t> sizes = WriteBatches({Products({1})});
  const std::string record = Bytes(LogPath());
  const std::string huge = "RPL1" + LittleEndian(0xFFFFFFF0u, 4) + LittleEndian(0, 8);
  // As the last record: a torn tail.
  SetBytes(LogPath(), record + huge + std::string(64, 'x'));
  EXPECT_EQ(Seqs(ReadProductLogs(dir_.string())), (std::vector<int64_t>{1}));
  EXPECT_EQ(ProductLog(LogPath()).records(), 1);
  EXPECT_EQ(Bytes(LogPath()), record);
  // Before an intact record: damage, named with the reason.
  SetBytes(LogPath(), record + huge + record);
  EXPECT_THAT(ErrorOf([&] { ProductLog log(LogPath()); }),
              AllOf(HasSubstr("byte offset " + std::to_string(sizes[0])),
                    HasSubstr("length over the limit")));
}

TEST_F(ProductLogTest, AppendOfABadRecordThrowsNamingItAndWritesNothing) {
  WriteBatches({Products({1})});
  const std::string before = Bytes(LogPath());
  LoggedProduct empty_title = Product(3), zero_seq = Product(4), nan_value = Product(5),
                infinite_value = Product(6), empty_id = Product(7);
  empty_title.title = "";
  zero_seq.seq = 0;
  nan_value.vector[1] = kNaN;
  infinite_value.vector[0] = std::numeric_limits<float>::infinity();
  empty_id.id = "";
  const std::vector<std::pair<LoggedProduct, std::string>> cases = {{empty_title, "'P3'"},
                                                                    {zero_seq, "'P4'"},
                                                                    {nan_value, "'P5'"},
                                                                    {infinite_value, "'P6'"},
                                                                    {empty_id, "id is empty"}};
  ProductLog log(LogPath());
  for (const auto& [bad, named] : cases) {
    SCOPED_TRACE(named);
    // The good record before it in the batch is not written either.
    EXPECT_THAT(ErrorOf([&] {
                  log.Append({Product(2), bad});
                }),
                AllOf(HasSubstr(LogPath()), HasSubstr(named), HasSubstr("not logged")));
    EXPECT_EQ(Bytes(LogPath()), before);
    EXPECT_EQ(log.records(), 1);
  }
  log.Append(Products({2}));
  log.Sync();
  EXPECT_EQ(Seqs(ReadProductLogs(dir_.string())), (std::vector<int64_t>{1, 2}));
}

TEST_F(ProductLogTest, ReadProductLogsMergesFilesInSeqOrder) {
  WriteBatches({Products({1, 4}), Products({9})}, 0);
  WriteBatches({Products({2, 3, 7})}, 1);
  WriteBatches({Products({5}), Products({6, 8})}, 12);
  SetBytes(Path("adds-1.log.bak"), "not a log");
  SetBytes(Path("notes.txt"), "not a log");
  const std::vector<LoggedProduct> back = ReadProductLogs(dir_.string());
  EXPECT_EQ(Seqs(back), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
  for (const LoggedProduct& p : back) EXPECT_TRUE(p == Product(p.seq)) << p.seq;
}

TEST_F(ProductLogTest, ReadProductLogsKeepsAnExactDuplicateOnce) {
  WriteBatches({Products({1, 2})}, 0);
  WriteBatches({Products({2, 3})}, 1);
  EXPECT_EQ(Seqs(ReadProductLogs(dir_.string())), (std::vector<int64_t>{1, 2, 3}));
}

TEST_F(ProductLogTest, ReadProductLogsThrowsOnTwoDifferentRecordsOfOneSeq) {
  WriteBatches({Products({1, 2})}, 0);
  LoggedProduct other = Product(2);
  other.title = "Another product";
  WriteBatches({{other}}, 3);
  EXPECT_THAT(ErrorOf([&] { ReadProductLogs(dir_.string()); }),
              AllOf(HasSubstr("seq 2"), HasSubstr(LogPath(0)), HasSubstr(LogPath(3))));
}

TEST_F(ProductLogTest, ReadProductLogsOfAMissingDirectoryIsEmpty) {
  EXPECT_TRUE(ReadProductLogs(Path("missing")).empty());
  EXPECT_TRUE(ReadProductLogs(dir_.string()).empty());
}

TEST_F(ProductLogTest, OpenInAMissingDirectoryThrowsNamingThePath) {
  const std::string path = ProductLogPath(Path("missing"), 0);
  EXPECT_THAT(ErrorOf([&] { ProductLog log(path); }), HasSubstr(path));
}

}  // namespace
}  // namespace recsys::serve
