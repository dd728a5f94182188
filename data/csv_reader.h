#pragma once
// A streaming reader for RFC 4180 CSV and for TSV files of judged search data (millions of rows).
// Quoted fields may hold delimiters, doubled quotes and line breaks, so one record can span
// several physical lines; every error names the file and the physical line, and quotes the
// input only in bounded excerpts (Excerpt), so that a hostile file cannot make a huge message.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace recsys::data {

class CsvReader {
 public:
  // Asks the constructor to choose ',' or '\t' from the header line.
  static constexpr char kDetectDelimiter = '\0';
  // The default longest record (a line, or the lines of a quoted field with line breaks), in
  // bytes: well above any real judged row, low enough that input without line breaks
  // (/dev/zero, a binary file) is refused after reading this much instead of forever.
  static constexpr int64_t kDefaultMaxRecordBytes = int64_t{8} << 20;

  // Opens path and reads its header record. delimiter: ',' or '\t', or kDetectDelimiter: a
  // header line with tabs and no commas means TSV, commas and no tabs CSV, and otherwise a
  // ".tsv" / ".tab" extension means TSV. A UTF-8 byte order mark before the header is skipped.
  // Throws recsys::Error for a missing, unreadable or empty file, a broken or non-UTF-8 header,
  // a column name used twice, and a one-column header that contains the other delimiter (the
  // usual sign of a wrong delimiter). max_record_bytes (> 0) bounds every record, the header's
  // too: Next() and the constructor throw for a longer one.
  explicit CsvReader(const std::string& path, char delimiter = kDetectDelimiter,
                     int64_t max_record_bytes = kDefaultMaxRecordBytes);
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  const std::string& path() const { return path_; }
  char delimiter() const { return delimiter_; }
  const std::vector<std::string>& header() const { return header_; }
  // Index of the header column called name (exact match), or -1 when there is none.
  int FindColumn(std::string_view name) const;

  // Reads the next data record into fields(); returns false at the end of the file. Empty lines
  // are skipped. Throws recsys::Error ("path:line: ...") for broken quoting, invalid UTF-8, a
  // NUL byte, a record longer than max_record_bytes and a record whose field count differs
  // from the header's.
  bool Next();
  // The record read by the last successful Next(), one field per header column. The strings
  // are reused (not reallocated) by the next call.
  const std::vector<std::string>& fields() const { return fields_; }
  // The physical line (1-based) where that record starts. Line breaks are "\n", "\r\n" and,
  // outside quoted fields, a lone "\r".
  int64_t line() const { return record_line_; }
  // "path:line" for that record: the prefix of error messages about it.
  std::string Where() const { return Where(record_line_); }

 private:
  struct FileCloser {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };

  std::string Where(int64_t line) const;
  char DetectDelimiter() const;
  // Reads the next block; false at the end of the file.
  bool Fill();
  // Reads one record into *fields (resized to its field count); false at the end of the file.
  bool ReadRecord(std::vector<std::string>* fields);
  // Appends the next field of the current record to *field; true when it ends the record.
  // record_bytes: the bytes of the record before this field.
  bool ReadField(std::string* field, size_t column, int64_t record_bytes);
  // Throws unless a record of record_bytes so far, starting on record_line_, is within limits.
  void CheckRecordBytes(int64_t record_bytes) const;
  // Throws for a NUL byte in text, the piece of field column just read.
  void CheckNoNul(std::string_view text, size_t column) const;
  void CheckUniqueHeader() const;
  // Counts the line break whose first character (already consumed) is c.
  void EndLine(char c);
  void CheckUtf8(const std::vector<std::string>& fields) const;
  std::string ColumnName(size_t column) const;

  std::string path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  char delimiter_;
  int64_t max_record_bytes_;
  bool stops_unquoted_[256] = {};  // bytes that end a run of plain characters in a field
  std::vector<char> buffer_;
  const char* pos_ = nullptr;  // next unread byte in buffer_
  const char* end_ = nullptr;
  int64_t line_ = 1;  // physical line of pos_
  int64_t record_line_ = 0;
  std::vector<std::string> header_, fields_;
};

// Parses a delimiter as named on a command line: "comma" or ",", "tab" or "\t" (also the two
// characters backslash-t), "auto" (kDetectDelimiter). Throws recsys::Error for anything else.
char ParseDelimiter(std::string_view name);

// text as it may be quoted in an error message: bytes below 0x20 and 0x7F written \xNN, and text
// longer than max_bytes cut (at a UTF-8 character boundary) and ended with "... (N bytes)".
std::string Excerpt(std::string_view text, size_t max_bytes = 80);

}  // namespace recsys::data
