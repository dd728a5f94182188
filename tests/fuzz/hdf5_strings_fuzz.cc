// Fuzzes H5Reader::ReadStrings with valid HDF5 files whose string column comes from the input:
// byte 0 says how many offsets there are, byte 1 how the column is laid out (missing or 2-D
// datasets, other element types), then come the offsets (int64, little-endian) and the bytes.
// Fuzzing raw bytes as an HDF5 file finds crashes inside libhdf5 itself, not in this project's
// code (see tests/fuzz/README.md), so the file structure is valid and its contents are fuzzed.
// A column read back must have one string per offset pair; every error must be a
// recsys::Error.

#include "core/hdf5_file.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const recsys::fuzz::ScratchFile file("strings.h5");
  recsys::fuzz::ByteSource in(data, size);
  const size_t count = in.Byte();
  const uint8_t layout = in.Byte();
  std::vector<int64_t> offsets(count);
  for (int64_t& offset : offsets) offset = in.Int64();
  const std::vector<uint8_t> bytes(in.rest(), in.rest() + in.rest_size());
  try {
    recsys::H5Writer w(file.path());
    if (layout & 1) {
      w.Write("s/offsets", offsets.data(), {offsets.size() / 2, 2});
    } else if (layout & 2) {
      w.Write("s/offsets", std::vector<int32_t>(offsets.begin(), offsets.end()));
    } else if (!(layout & 4)) {
      w.Write("s/offsets", offsets);
    }
    if (layout & 8) {
      w.Write("s/bytes", std::vector<int8_t>(bytes.begin(), bytes.end()));
    } else if (!(layout & 16)) {
      w.Write("s/bytes", bytes);
    }
    w.Commit();
  } catch (const recsys::Error&) {
    return 0;  // not a file this project's writer makes
  }
  try {
    const std::vector<std::string> strings = recsys::H5Reader(file.path()).ReadStrings("s");
    size_t total = 0;
    for (const std::string& s : strings) total += s.size();
    recsys::fuzz::Require(strings.size() + 1 == offsets.size(), "one string per offset pair");
    recsys::fuzz::Require(total == bytes.size(), "the strings hold every byte");
  } catch (const recsys::Error& e) {
    recsys::fuzz::CheckError(e);
  }
  return 0;
}
