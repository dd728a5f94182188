#include "data/csv_reader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unordered_map>

#include "core/error.h"

namespace recsys::data {
namespace {

// Large blocks keep fread calls rare; a field that straddles two blocks is appended in pieces.
constexpr size_t kBlockBytes = size_t{1} << 20;

// Offset of the first byte of text that does not belong to a valid UTF-8 sequence (overlong
// forms, surrogates and code points above U+10FFFF are invalid), or npos; *why says what is
// wrong with it.
size_t FindInvalidUtf8(std::string_view text, const char** why) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // Judged search data is mostly ASCII: skip it a word at a time.
    if (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, s + i, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned char lead = s[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // Allowed range of the second byte; the others are plain continuation bytes.
    size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;
    if (lead < 0xC0) {
      *why = "continuation byte without a lead byte";
      return i;
    } else if (lead < 0xC2) {
      *why = "overlong encoding";
      return i;
    } else if (lead < 0xE0) {
      length = 2;
    } else if (lead < 0xF0) {
      length = 3;
      if (lead == 0xE0) low = 0xA0;
      if (lead == 0xED) high = 0x9F;
    } else if (lead < 0xF5) {
      length = 4;
      if (lead == 0xF0) low = 0x90;
      if (lead == 0xF4) high = 0x8F;
    } else {
      *why = "byte that never occurs in UTF-8";
      return i;
    }
    for (size_t k = 1; k < length; ++k) {
      if (i + k == n) {
        *why = "multi-byte sequence cut short by the end of the field";
        return i;
      }
      const unsigned char c = s[i + k];
      const bool in_range = k == 1 ? (c >= low && c <= high) : (c >= 0x80 && c <= 0xBF);
      if (!in_range) {
        if (c < 0x80 || c > 0xBF) {
          *why = "bad continuation byte";
        } else if (lead == 0xED) {
          *why = "UTF-16 surrogate";
        } else if (lead == 0xF4) {
          *why = "code point above U+10FFFF";
        } else {
          *why = "overlong encoding";
        }
        return i;
      }
    }
    i += length;
  }
  return std::string_view::npos;
}

constexpr char kHex[] = "0123456789ABCDEF";

// A byte as it can be printed in an error message.
std::string Printable(char c) {
  if (std::isprint(static_cast<unsigned char>(c))) return std::string("'") + c + "'";
  const auto b = static_cast<unsigned char>(c);
  return std::string("byte 0x") + kHex[b >> 4] + kHex[b & 15];
}

}  // namespace

CsvReader::CsvReader(const std::string& path, char delimiter, int64_t max_record_bytes)
    : path_(path),
      delimiter_(delimiter),
      max_record_bytes_(max_record_bytes),
      buffer_(kBlockBytes) {
  RECSYS_CHECK(delimiter == ',' || delimiter == '\t' || delimiter == kDetectDelimiter,
               "unsupported delimiter " << Printable(delimiter) << " for " << path);
  RECSYS_CHECK(max_record_bytes > 0,
               "the longest record must be > 0 bytes, got " << max_record_bytes << " for " << path);
  file_.reset(std::fopen(path.c_str(), "rb"));
  if (!file_) RECSYS_THROW("cannot open '" << path << "': " << std::strerror(errno));
  if (Fill() && end_ - pos_ >= 3 && std::memcmp(pos_, "\xEF\xBB\xBF", 3) == 0) pos_ += 3;
  if (delimiter_ == kDetectDelimiter) delimiter_ = DetectDelimiter();
  for (const char c : {delimiter_, '"', '\n', '\r', '\0'}) {
    stops_unquoted_[static_cast<unsigned char>(c)] = true;
  }

  // Read into fields_ so that errors in the header do not name columns by the header itself.
  if (!ReadRecord(&fields_)) RECSYS_THROW(path_ << ": empty file (expected a header line)");
  CheckUtf8(fields_);
  header_ = std::move(fields_);
  fields_.clear();
  const char other = delimiter_ == ',' ? '\t' : ',';
  if (header_.size() == 1 && header_[0].find(other) != std::string::npos) {
    RECSYS_THROW(Where() << ": the header has 1 column when split at "
                         << (delimiter_ == ',' ? "commas" : "tabs") << ", but it contains "
                         << (other == '\t' ? "tabs: is this a TSV file? use --delimiter tab"
                                           : "commas: is this a CSV file? use --delimiter comma"));
  }
  CheckUniqueHeader();
}

void CsvReader::CheckUniqueHeader() const {
  // A hash map, not a pairwise comparison: a header of a million columns takes milliseconds.
  std::unordered_map<std::string_view, size_t> first_column;
  first_column.reserve(header_.size());
  for (size_t i = 0; i < header_.size(); ++i) {
    if (header_[i].empty()) continue;  // unnamed columns (a pandas index) may repeat
    const auto [it, added] = first_column.try_emplace(header_[i], i);
    if (!added) {
      RECSYS_THROW(Where() << ": the header names column '" << Excerpt(header_[i])
                           << "' twice (columns " << it->second + 1 << " and " << i + 1 << ")");
    }
  }
}

int CsvReader::FindColumn(std::string_view name) const {
  const auto it = std::find(header_.begin(), header_.end(), name);
  return it == header_.end() ? -1 : static_cast<int>(it - header_.begin());
}

bool CsvReader::Next() {
  if (!ReadRecord(&fields_)) return false;
  if (fields_.size() != header_.size()) {
    RECSYS_THROW(Where() << ": " << fields_.size() << " fields, header has " << header_.size()
                         << " (delimiter " << (delimiter_ == ',' ? "comma" : "tab") << ")");
  }
  CheckUtf8(fields_);
  return true;
}

std::string CsvReader::Where(int64_t line) const { return path_ + ":" + std::to_string(line); }

char CsvReader::DetectDelimiter() const {
  const auto* eol = static_cast<const char*>(std::memchr(pos_, '\n', end_ - pos_));
  if (eol == nullptr) eol = end_;
  const bool tabs = std::find(pos_, eol, '\t') != eol;
  const bool commas = std::find(pos_, eol, ',') != eol;
  if (tabs != commas) return tabs ? '\t' : ',';
  std::string extension = std::filesystem::path(path_).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return extension == ".tsv" || extension == ".tab" ? '\t' : ',';
}

bool CsvReader::Fill() {
  const size_t n = std::fread(buffer_.data(), 1, buffer_.size(), file_.get());
  if (n == 0 && std::ferror(file_.get())) {
    RECSYS_THROW("cannot read '" << path_ << "' near line " << line_ << ": "
                                 << std::strerror(errno));
  }
  pos_ = buffer_.data();
  end_ = pos_ + n;
  return n > 0;
}

bool CsvReader::ReadRecord(std::vector<std::string>* fields) {
  for (;;) {
    if (pos_ == end_ && !Fill()) return false;
    if (*pos_ != '\n' && *pos_ != '\r') break;
    EndLine(*pos_++);
  }
  record_line_ = line_;
  size_t count = 0;
  int64_t record_bytes = 0;  // field bytes and delimiters so far
  bool last = false;
  while (!last) {
    if (count == fields->size()) fields->emplace_back();
    std::string& field = (*fields)[count];
    field.clear();
    last = ReadField(&field, count++, record_bytes);
    record_bytes += static_cast<int64_t>(field.size()) + 1;
  }
  fields->resize(count);
  return true;
}

bool CsvReader::ReadField(std::string* field, size_t column, int64_t record_bytes) {
  if (pos_ == end_ && !Fill()) return true;  // the file ends right after a delimiter
  if (*pos_ != '"') {
    for (;;) {
      const char* p = pos_;
      while (p != end_ && !stops_unquoted_[static_cast<unsigned char>(*p)]) ++p;
      field->append(pos_, p);
      CheckRecordBytes(record_bytes + static_cast<int64_t>(field->size()));
      pos_ = p;
      if (p == end_) {
        if (!Fill()) return true;
        continue;
      }
      const char c = *pos_++;
      if (c == delimiter_) return false;
      if (c == '\0') CheckNoNul(std::string_view(&c, 1), column);
      if (c == '"') {
        RECSYS_THROW(Where(line_) << ": quote inside unquoted field " << ColumnName(column)
                                  << " (a field with quotes must be quoted as a whole, its quotes"
                                     " doubled: \"12\"\" pan\")");
      }
      EndLine(c);
      return true;
    }
  }
  ++pos_;
  const int64_t start_line = line_;
  for (;;) {
    const auto* quote = static_cast<const char*>(std::memchr(pos_, '"', end_ - pos_));
    const char* p = quote != nullptr ? quote : end_;
    line_ += std::count(pos_, p, '\n');
    CheckNoNul(std::string_view(pos_, p - pos_), column);
    field->append(pos_, p);
    CheckRecordBytes(record_bytes + static_cast<int64_t>(field->size()));
    pos_ = p;
    if (quote == nullptr) {
      if (!Fill()) {
        RECSYS_THROW(Where(start_line) << ": quoted field " << ColumnName(column)
                                       << " starting on this line is never closed (end of file"
                                          " inside quotes)");
      }
      continue;
    }
    ++pos_;
    if (pos_ == end_ && !Fill()) return true;
    const char c = *pos_++;
    if (c == '"') {
      field->push_back('"');
      continue;
    }
    if (c == delimiter_) return false;
    if (c == '\n' || c == '\r') {
      EndLine(c);
      return true;
    }
    RECSYS_THROW(Where(line_) << ": " << Printable(c) << " after the closing quote of field "
                              << ColumnName(column)
                              << " (quotes inside a quoted field must be"
                                 " doubled)");
  }
}

void CsvReader::CheckRecordBytes(int64_t record_bytes) const {
  if (record_bytes <= max_record_bytes_) return;
  RECSYS_THROW(Where(record_line_) << ": the record starting on this line is longer than the limit"
                                   << " of " << max_record_bytes_
                                   << " bytes (--max-line-bytes): a file without line breaks, or"
                                      " not CSV/TSV text?");
}

void CsvReader::CheckNoNul(std::string_view text, size_t column) const {
  const auto* nul = static_cast<const char*>(std::memchr(text.data(), '\0', text.size()));
  if (nul == nullptr) return;
  RECSYS_THROW(Where(line_ - std::count(nul, text.data() + text.size(), '\n'))
               << ": NUL byte (0x00) in " << ColumnName(column)
               << ": text fields cannot hold NUL bytes (a binary file, or UTF-16 text?)");
}

void CsvReader::EndLine(char c) {
  ++line_;
  if (c == '\r' && (pos_ != end_ || Fill()) && *pos_ == '\n') ++pos_;
}

void CsvReader::CheckUtf8(const std::vector<std::string>& fields) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    const char* why = nullptr;
    const size_t offset = FindInvalidUtf8(fields[i], &why);
    if (offset != std::string_view::npos) {
      RECSYS_THROW(Where() << ": invalid UTF-8 in " << ColumnName(i) << " at byte offset " << offset
                           << " of the field (" << Printable(fields[i][offset]) << "): " << why);
    }
  }
}

std::string CsvReader::ColumnName(size_t column) const {
  std::string name = "column " + std::to_string(column + 1);
  if (column < header_.size()) name += " (" + Excerpt(header_[column], 40) + ")";
  return name;
}

char ParseDelimiter(std::string_view name) {
  if (name == "auto") return CsvReader::kDetectDelimiter;
  if (name == "comma" || name == ",") return ',';
  if (name == "tab" || name == "\t" || name == "\\t") return '\t';
  RECSYS_THROW("unknown delimiter '" << name << "' (expected comma, tab or auto)");
}

std::string Excerpt(std::string_view text, size_t max_bytes) {
  size_t cut = text.size();
  if (cut > max_bytes) {
    cut = max_bytes;
    // Never end inside a multi-byte character.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  }
  std::string out;
  for (const char c : text.substr(0, cut)) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7F) {
      out += {'\\', 'x', kHex[b >> 4], kHex[b & 15]};
    } else {
      out += c;
    }
  }
  if (cut < text.size()) out += "... (" + std::to_string(text.size()) + " bytes)";
  return out;
}

}  // namespace recsys::data
