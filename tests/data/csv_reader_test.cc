#include "data/csv_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "tests/test_util.h"

namespace recsys::data {
namespace {

namespace fs = std::filesystem;
using Records = std::vector<std::vector<std::string>>;

using CsvReaderTest = testing::TempDirTest;

// All data records of path, and the line each starts on.
Records ReadAll(const std::string& path, std::vector<int64_t>* lines = nullptr,
                char delimiter = CsvReader::kDetectDelimiter) {
  CsvReader reader(path, delimiter);
  Records records;
  while (reader.Next()) {
    records.push_back(reader.fields());
    if (lines != nullptr) lines->push_back(reader.line());
  }
  return records;
}

using testing::ErrorOf;
using testing::Mentions;

TEST_F(CsvReaderTest, QuotedFieldsHoldDelimitersQuotesAndNewlines) {
  const std::string path = Write("q.csv",
                                 "id,text,tag\n"
                                 "1,plain,x\n"
                                 "2,\"a, b\",y\n"
                                 "3,\"say \"\"hi\"\"\",\"\"\n"
                                 "4,\"two\nlines\",w\n"
                                 "5,,\n");
  std::vector<int64_t> lines;
  const Records records = ReadAll(path, &lines);
  const Records expected = {{"1", "plain", "x"},
                            {"2", "a, b", "y"},
                            {"3", "say \"hi\"", ""},
                            {"4", "two\nlines", "w"},
                            {"5", "", ""}};
  EXPECT_EQ(records, expected);
  EXPECT_EQ(lines, (std::vector<int64_t>{2, 3, 4, 5, 7}));
  CsvReader reader(path);
  EXPECT_EQ(reader.header(), (std::vector<std::string>{"id", "text", "tag"}));
  EXPECT_EQ(reader.FindColumn("tag"), 2);
  EXPECT_EQ(reader.FindColumn("missing"), -1);
}

TEST_F(CsvReaderTest, CrlfBomAndNoFinalNewline) {
  const std::string path = Write("crlf.csv",
                                 "\xEF\xBB\xBF"
                                 "a,b\r\n1,2\r\n\"x\r\ny\",3");
  CsvReader reader(path);
  EXPECT_EQ(reader.header(), (std::vector<std::string>{"a", "b"}));
  std::vector<int64_t> lines;
  EXPECT_EQ(ReadAll(path, &lines), (Records{{"1", "2"}, {"x\r\ny", "3"}}));
  EXPECT_EQ(lines, (std::vector<int64_t>{2, 3}));
  // A trailing delimiter at the very end of the file is an empty last field.
  EXPECT_EQ(ReadAll(Write("tail.csv", "a,b\n1,")), (Records{{"1", ""}}));
}

TEST_F(CsvReaderTest, BlankLinesAndLoneCarriageReturnsCountAsLines) {
  std::vector<int64_t> lines;
  EXPECT_EQ(ReadAll(Write("blank.csv", "\na,b\n\n1,2\r\n\r\n3,4\n\n"), &lines),
            (Records{{"1", "2"}, {"3", "4"}}));
  EXPECT_EQ(lines, (std::vector<int64_t>{4, 6}));
  lines.clear();
  EXPECT_EQ(ReadAll(Write("mac.csv", "a,b\r1,2\r3,4"), &lines), (Records{{"1", "2"}, {"3", "4"}}));
  EXPECT_EQ(lines, (std::vector<int64_t>{2, 3}));
}

TEST_F(CsvReaderTest, DetectsTabsFromHeaderOrExtension) {
  const std::string tsv = "a\tb\n\"x\ty\"\t2,3\n";
  CsvReader by_header(Write("t.txt", tsv));
  EXPECT_EQ(by_header.delimiter(), '\t');
  EXPECT_EQ(ReadAll(by_header.path()), (Records{{"x\ty", "2,3"}}));
  // A header with both characters is decided by the extension.
  EXPECT_EQ(CsvReader(Write("both.tsv", "a,x\tb\n1\t2\n")).delimiter(), '\t');
  EXPECT_EQ(CsvReader(Write("both.csv", "a,x\tb\n1,2\n")).delimiter(), ',');
  EXPECT_EQ(CsvReader(Write("one.TSV", "a\n1\n")).delimiter(), '\t');
  EXPECT_EQ(CsvReader(Write("one.csv", "a\n1\n")).delimiter(), ',');
  // An explicit delimiter wins over detection.
  EXPECT_EQ(ReadAll(Write("explicit.tsv", "a,b\n1,2\n"), nullptr, ','), (Records{{"1", "2"}}));
}

TEST_F(CsvReaderTest, AcceptsValidMultiByteUtf8) {
  // 2-, 3- and 4-byte sequences at several alignments, and long ASCII runs between them.
  const std::string text = "caf\xC3\xA9 \xE2\x82\xAC 12345678 \xF0\x9F\x98\x80 \xEF\xBF\xBD";
  EXPECT_EQ(ReadAll(Write("u.csv", "a,b\n" + text + ",x\xC3\xA9\n")),
            (Records{{text, "x\xC3\xA9"}}));
}

// Reads back randomly generated records (quotes, delimiters, CR/LF, multi-byte text, some
// longer than a read block) and checks fields and start lines: exercises every block seam.
TEST_F(CsvReaderTest, RoundTripsRandomRecordsAcrossBlockBoundaries) {
  std::mt19937 rng(7);
  const std::vector<std::string> pieces = {"a",
                                           "Z",
                                           "9",
                                           " ",
                                           ",",
                                           "\t",
                                           "\"",
                                           "\n",
                                           "\r\n",
                                           "\r",
                                           "\xC3\xA9",
                                           "\xE2\x82\xAC",
                                           "\xF0\x9F\x98\x80"};
  for (const char delimiter : {',', '\t'}) {
    Records records;
    std::string file = delimiter == ',' ? "c0,c1,c2\n" : "c0\tc1\tc2\n";
    std::vector<int64_t> expected_lines;
    int64_t line = 2;
    while (file.size() < (size_t{3} << 20)) {
      std::vector<std::string> record(3);
      for (std::string& field : record) {
        const size_t length = rng() % 50 == 0 ? 300000 : rng() % 12;
        for (size_t i = 0; i < length; ++i) field += pieces[rng() % pieces.size()];
      }
      records.push_back(record);
      expected_lines.push_back(line);
      for (size_t i = 0; i < record.size(); ++i) {
        const std::string& field = record[i];
        if (i > 0) file += delimiter;
        if (field.find_first_of(",\t\"\r\n") == std::string::npos) {
          file += field;
          continue;
        }
        file += '"';
        for (const char c : field) file += c == '"' ? std::string("\"\"") : std::string(1, c);
        file += '"';
        for (const char c : field) line += c == '\n';
      }
      file += rng() % 2 ? "\r\n" : "\n";
      ++line;
    }
    std::vector<int64_t> lines;
    const std::string path = Write(delimiter == ',' ? "r.csv" : "r.tsv", file);
    EXPECT_EQ(ReadAll(path, &lines, delimiter), records);
    EXPECT_EQ(lines, expected_lines);
  }
}

TEST_F(CsvReaderTest, MissingAndEmptyFiles) {
  const std::string missing = (dir_ / "nope.csv").string();
  EXPECT_TRUE(Mentions(ErrorOf([&] { CsvReader r(missing); }), {missing, "cannot open"}));
  const std::string empty = Write("empty.csv", "");
  EXPECT_TRUE(Mentions(ErrorOf([&] { CsvReader r(empty); }), {empty, "empty file"}));
  const std::string bom_only = Write("bom.csv", "\xEF\xBB\xBF\r\n\n");
  EXPECT_TRUE(Mentions(ErrorOf([&] { CsvReader r(bom_only); }), {bom_only, "empty file"}));
  const std::string dir = dir_.string();
  EXPECT_TRUE(Mentions(ErrorOf([&] { ReadAll(dir); }), {dir}));
  // A header alone is a valid file with no records.
  EXPECT_TRUE(ReadAll(Write("header.csv", "a,b\n")).empty());
}

TEST_F(CsvReaderTest, BrokenQuotingNamesFileAndLine) {
  const std::string open = Write("open.csv", "a,b\n1,2\n3,\"never\nclosed\n4,5\n");
  EXPECT_TRUE(
      Mentions(ErrorOf([&] { ReadAll(open); }), {open + ":3:", "column 2 (b)", "never closed"}));
  const std::string inner = Write("inner.csv", "a,b\n1,2\n\n3,12\" pan\n");
  EXPECT_TRUE(Mentions(ErrorOf([&] { ReadAll(inner); }),
                       {inner + ":4:", "quote inside unquoted field", "column 2 (b)"}));
  const std::string after = Write("after.csv", "a,b\n\"x\ny\",\"ok\" junk\n");
  EXPECT_TRUE(Mentions(ErrorOf([&] { ReadAll(after); }),
                       {after + ":3:", "' ' after the closing quote", "column 2 (b)"}));
  const std::string header = Write("header.csv", "a,\"b\n");
  EXPECT_TRUE(Mentions(ErrorOf([&] { CsvReader r(header); }), {header + ":1:", "never closed"}));
}

TEST_F(CsvReaderTest, InvalidUtf8NamesLineColumnAndByte) {
  struct Case {
    std::string bytes, why;
  };
  const std::vector<Case> cases = {
      {"ab\xC0\xAF", "overlong encoding"},
      {"ab\xE0\x80\xAF", "overlong encoding"},
      {"ab\xF0\x80\x80\xAF", "overlong encoding"},
      {"ab\xC3\x28", "bad continuation byte"},
      {"ab\xED\xA0\x80", "UTF-16 surrogate"},
      {"ab\xF4\x90\x80\x80", "above U+10FFFF"},
      {"ab\xE2\x82", "cut short"},
      {"ab\x80", "continuation byte without a lead byte"},
      {"ab\xFF", "never occurs in UTF-8"},
  };
  for (const Case& c : cases) {
    const std::string path = Write("u.csv", "id,title\n1,ok\n2,\"x\ny\"\n3," + c.bytes + "\n");
    EXPECT_TRUE(Mentions(ErrorOf([&] { ReadAll(path); }),
                         {path + ":5:", "column 2 (title)", "byte offset 2", c.why}));
  }
  const std::string header = Write("h.csv", "id,ti\xC3\x28tle\n");
  EXPECT_TRUE(Mentions(ErrorOf([&] { CsvReader r(header); }),
                       {header + ":1:", "column 2", "byte offset 2"}));
}

TEST_F(CsvReaderTest, WrongFieldCountNamesLine) {
  const std::string path = Write("n.csv", "a,b\n1,2\n\"x\ny\",2\n1,2,3\n");
  EXPECT_TRUE(Mentions(ErrorOf([&] { ReadAll(path); }), {path + ":5: 3 fields, header has 2"}));
  const std::string few = Write("few.csv", "a,b,c\n1\n");
  EXPECT_TRUE(Mentions(ErrorOf([&] { ReadAll(few); }), {few + ":2: 1 fields, header has 3"}));
}

TEST_F(CsvReaderTest, WrongDelimiterIsNamed) {
  const std::string tsv = Write("data.csv", "query\tproduct_id\tlabel\nq\tp\tE\n");
  EXPECT_TRUE(Mentions(ErrorOf([&] { CsvReader r(tsv, ','); }),
                       {tsv + ":1:", "contains tabs", "TSV", "--delimiter tab"}));
  const std::string csv = Write("data.tsv", "query,product_id,label\nq,p,E\n");
  EXPECT_TRUE(Mentions(ErrorOf([&] { CsvReader r(csv, '\t'); }),
                       {csv + ":1:", "contains commas", "--delimiter comma"}));
}

TEST_F(CsvReaderTest, DuplicateColumnNamesAreRejected) {
  const std::string path = Write("dup.csv", "a,b,a\n");
  EXPECT_TRUE(Mentions(ErrorOf([&] { CsvReader r(path); }),
                       {path + ":1:", "'a' twice", "columns 1 and 3"}));
  // Unnamed columns (a pandas index) may repeat.
  EXPECT_EQ(CsvReader(Write("unnamed.csv", ",x,\n")).header().size(), 3u);
}

// Issue 11, finding 3: the pairwise duplicate check took minutes on a 1M-column header.
TEST_F(CsvReaderTest, MillionColumnHeaderIsCheckedInLinearTime) {
  constexpr int kColumns = 1000000;
  std::string header;
  for (int i = 0; i < kColumns; ++i) header += "c" + std::to_string(i) + ",";
  const std::string unique = Write("wide.csv", header + "last\n");
  const std::string repeated = Write("repeat.csv", header + "c0\n");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(CsvReader(unique).header().size(), kColumns + 1u);
  const std::string message = ErrorOf([&] { CsvReader r(repeated); });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(Mentions(message, {repeated + ":1:", "'c0' twice", "columns 1 and 1000001"}));
  // Linear: well under a second; quadratic: 5e11 comparisons.
  EXPECT_LT(seconds, 20.0);
}

// Issue 11, finding 3: input without line breaks was read forever (/dev/zero) or into one
// record as large as the file.
TEST_F(CsvReaderTest, RecordLongerThanTheLimitIsRefused) {
  const std::string fits = Write("fits.csv", "a,b\n" + std::string(5, 'x') + ",y\n");
  EXPECT_EQ(CsvReader(fits, ',', 8).header().size(), 2u);
  EXPECT_EQ(ReadAll(fits).size(), 1u);
  CsvReader tight(fits, ',', 6);
  EXPECT_TRUE(Mentions(ErrorOf([&] { tight.Next(); }),
                       {fits + ":2:", "longer than the limit of 6 bytes", "--max-line-bytes"}));
  const std::string quoted = Write("quoted.csv", "a,b\n1,\"" + std::string(100, '\n') + "\"\n");
  CsvReader lines(quoted, ',', 50);
  EXPECT_TRUE(Mentions(ErrorOf([&] { lines.Next(); }), {quoted + ":2:", "limit of 50 bytes"}));
  // A 9 MB "line" without a delimiter or a line break: refused at the default limit, in a
  // message of normal length.
  const std::string no_newline = Write("one_line.csv", std::string(9 << 20, 'a'));
  const std::string message = ErrorOf([&] { CsvReader r(no_newline); });
  EXPECT_TRUE(Mentions(message, {no_newline + ":1:", "longer than the limit of 8388608 bytes"}));
  EXPECT_LT(message.size(), 300u);
  EXPECT_TRUE(Mentions(ErrorOf([] { CsvReader r("/dev/zero"); }),
                       {"/dev/zero:1:", "NUL byte (0x00) in column 1"}));
  EXPECT_TRUE(Mentions(ErrorOf([&] { CsvReader r(fits, ',', 0); }), {"must be > 0 bytes"}));
}

// Issue 11, finding 3: NUL bytes were accepted, and cut the messages that quoted them.
TEST_F(CsvReaderTest, NulBytesAreRefusedWithLineAndColumn) {
  using namespace std::string_literals;
  const std::string plain = Write("nul.csv", "id,title\n1,ok\n2,x\0y\n"s);
  EXPECT_TRUE(Mentions(ErrorOf([&] { ReadAll(plain); }),
                       {plain + ":3:", "NUL byte (0x00) in column 2 (title)"}));
  const std::string quoted = Write("nulq.csv", "id,title\n1,\"a\nb\0\"\n"s);
  EXPECT_TRUE(Mentions(ErrorOf([&] { ReadAll(quoted); }),
                       {quoted + ":3:", "NUL byte (0x00) in column 2 (title)"}));
  const std::string header = Write("nulh.csv", "id,ti\0tle\n1,2\n"s);
  EXPECT_TRUE(
      Mentions(ErrorOf([&] { CsvReader r(header); }), {header + ":1:", "NUL byte", "column 2"}));
}

// Messages quote the input in bounded excerpts: a huge column name or field never makes a
// huge message.
TEST_F(CsvReaderTest, MessagesQuoteBoundedExcerpts) {
  const std::string name(1 << 20, 'n');
  const std::string dup = Write("dup.csv", name + "," + name + "\n");
  std::string message = ErrorOf([&] { CsvReader r(dup); });
  EXPECT_TRUE(Mentions(message, {"twice", "... (1048576 bytes)"}));
  EXPECT_LT(message.size(), 300u);
  const std::string utf8 = Write("utf8.csv", name + "\n" + std::string(1 << 20, 'v') + "\xFF\n");
  message = ErrorOf([&] { ReadAll(utf8); });
  EXPECT_TRUE(Mentions(message, {utf8 + ":2:", "invalid UTF-8", "byte offset 1048576"}));
  EXPECT_LT(message.size(), 300u);
}

TEST(ExcerptTest, CutsLongTextAtACharacterAndEscapesControlBytes) {
  EXPECT_EQ(Excerpt("short"), "short");
  EXPECT_EQ(Excerpt(std::string("a\0b\tc\n", 6)), "a\\x00b\\x09c\\x0A");
  EXPECT_EQ(Excerpt("abcdefgh", 4), "abcd... (8 bytes)");
  // "é" is two bytes: a cut after byte 4 would split it.
  EXPECT_EQ(Excerpt("abc\xC3\xA9"
                    "fgh",
                    4),
            "abc... (8 bytes)");
  EXPECT_EQ(Excerpt(std::string(1000, 'x')).size(), 80u + std::string("... (1000 bytes)").size());
}

TEST(ParseDelimiterTest, NamesAndCharacters) {
  EXPECT_EQ(ParseDelimiter("comma"), ',');
  EXPECT_EQ(ParseDelimiter(","), ',');
  EXPECT_EQ(ParseDelimiter("tab"), '\t');
  EXPECT_EQ(ParseDelimiter("\\t"), '\t');
  EXPECT_EQ(ParseDelimiter("auto"), CsvReader::kDetectDelimiter);
  EXPECT_TRUE(Mentions(ErrorOf([] { ParseDelimiter(";"); }), {"unknown delimiter ';'"}));
}

// Prints the parse rate for an ESCI-shaped file; never asserts on time.
TEST_F(CsvReaderTest, SpeedOn200kRows) {
  constexpr int kRows = 200000;
  std::string file =
      "query_id,query,product_id,product_title,product_brand,product_color,esci_label,split\n";
  for (int i = 0; i < kRows; ++i) {
    file += std::to_string(i / 20) + ",wireless noise cancelling headphones " +
            std::to_string(i / 20) + ",B0" + std::to_string(1000000 + i) +
            ",\"Sony WH-1000XM4 Wireless Premium Noise Canceling Overhead Headphones, "
            "Black, 30\"\" cable\",Sony,Black," +
            "ESCI"[i % 4] + (i % 5 ? ",train\n" : ",test\n");
  }
  const std::string path = Write("speed.csv", file);
  const auto start = std::chrono::steady_clock::now();
  CsvReader reader(path);
  int64_t rows = 0;
  while (reader.Next()) ++rows;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(rows, kRows);
  std::printf("CsvReader: %d rows, %.1f MB in %.3f s: %.0f rows/s, %.0f MB/s\n", kRows,
              file.size() / 1e6, seconds, rows / seconds, file.size() / 1e6 / seconds);
}

}  // namespace
}  // namespace recsys::data
