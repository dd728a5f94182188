#include "core/gnuplot.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/test_util.h"

namespace recsys {
namespace {

using testing::ErrorOf;
using testing::Mentions;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class GnuplotTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (Mentions(ErrorOf([] { RunGnuplot(""); }), {"gnuplot not found"})) {
      GTEST_SKIP() << "gnuplot is not installed (launch/setup.sh installs gnuplot-nox)";
    }
  }
};

TEST_F(GnuplotTest, WritesAPng) {
  const std::string png = Path("sine.png");
  RunGnuplot("set terminal png size 320,200\nset output " + GnuplotQuoted(png) +
             "\nplot sin(x) title 'sine'\n");
  const std::string bytes = ReadFile(png);
  ASSERT_GT(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
}

TEST_F(GnuplotTest, ABrokenScriptThrowsWithGnuplotsMessage) {
  EXPECT_TRUE(Mentions(ErrorOf([] { RunGnuplot("set terminal dumb\nplot sin(x) with lnes\n"); }),
                       {"gnuplot failed (exit status", "unrecognized plot type"}));
}

TEST_F(GnuplotTest, QuotedStringsReachGnuplotAsWritten) {
  const std::string text = R"(it's "quoted" \n a_b^c {x} @ & | , ;)";
  const std::string out = Path("printed.txt");
  RunGnuplot("set print " + GnuplotQuoted(out) + "\nprint " + GnuplotQuoted(text) + "\n");
  EXPECT_EQ(ReadFile(out), text + "\n");
}

TEST(GnuplotMissingTest, ThrowsNamingThePackage) {
  const char* old = std::getenv("PATH");
  const std::string path = old ? old : "";
  setenv("PATH", "/nonexistent-recsys-test-dir", 1);
  const std::string message = ErrorOf([] { RunGnuplot("print 1\n"); });
  setenv("PATH", path.c_str(), 1);
  EXPECT_TRUE(Mentions(message, {"gnuplot not found: install gnuplot-nox (launch/setup.sh)"}));
}

}  // namespace
}  // namespace recsys
