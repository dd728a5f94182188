// Fuzzes CsvReader: the input's first byte picks the delimiter option and the record limit, the
// rest is the file. Every record must have the header's field count, and every error must be a
// recsys::Error with a bounded message.

#include "data/csv_reader.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using recsys::data::CsvReader;
  if (size == 0) return 0;
  static const recsys::fuzz::ScratchFile file("input.csv");
  const char kDelimiters[] = {CsvReader::kDetectDelimiter, ',', '\t'};
  const char delimiter = kDelimiters[data[0] % 3];
  const int64_t max_record_bytes = 1 + (data[0] / 3) * 64;  // 1 .. 5441: the limit is reached
  file.Write(data + 1, size - 1);
  try {
    CsvReader reader(file.path(), delimiter, max_record_bytes);
    recsys::fuzz::Require(!reader.header().empty(), "empty header");
    int64_t last_line = reader.line();
    while (reader.Next()) {
      recsys::fuzz::Require(reader.fields().size() == reader.header().size(), "field count");
      recsys::fuzz::Require(reader.line() > last_line, "record lines must increase");
      last_line = reader.line();
    }
  } catch (const recsys::Error& e) {
    recsys::fuzz::CheckError(e);
  }
  return 0;
}
