#include "core/stable_hash.h"

#include <gtest/gtest.h>

#include <set>

namespace recsys {
namespace {

// Pinned values, computed independently (a Python transcription of FNV-1a + SplitMix64): feature
// ids, data splits and generated data depend on these never changing.
TEST(StableHashTest, GoldenValues) {
  EXPECT_EQ(StableHash(""), 0x5b21f68ffa77f14cULL);
  EXPECT_EQ(StableHash("headphones"), 0x27a98e15b1adfa71ULL);
  EXPECT_EQ(StableHash("headphones", 1), 0x166c479cca0ccff9ULL);
  EXPECT_EQ(Mix64(0), 0xe220a8397b1dcdafULL);
}

TEST(StableHashTest, SeedAndBytesChangeTheValue) {
  EXPECT_NE(StableHash("abc"), StableHash("abd"));
  EXPECT_NE(StableHash("abc", 0), StableHash("abc", 1));
  EXPECT_NE(HashCombine(1, 2), HashCombine(2, 1));
  // Embedded NUL bytes count.
  EXPECT_NE(StableHash(std::string_view("a\0b", 3)), StableHash("a"));
}

TEST(StableHashTest, LowBitsSpreadOverBuckets) {
  // 10,000 similar strings into 256 buckets: every bucket used, none overloaded.
  std::vector<int> counts(256, 0);
  for (int i = 0; i < 10000; ++i) ++counts[StableHash("item" + std::to_string(i)) & 255];
  for (int c : counts) {
    EXPECT_GT(c, 10);
    EXPECT_LT(c, 80);
  }
}

}  // namespace
}  // namespace recsys
