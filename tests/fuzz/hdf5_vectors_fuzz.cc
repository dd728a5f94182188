// Fuzzes the vectors-file reader (data/vector_file.h) with valid HDF5 files whose shape,
// attributes and contents come from the input: byte 0 the rank of 'vectors' (0..3) and which
// attributes are written right or wrong, then one byte per dimension (0..16), the row range
// asked for (two int64), and the float values. See hdf5_strings_fuzz.cc for why the file
// structure is valid. Rows read back must be count x dim values; every error must be a
// recsys::Error.

#include "core/hdf5_file.h"
#include "data/vector_file.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const recsys::fuzz::ScratchFile file("vectors.h5");
  recsys::fuzz::ByteSource in(data, size);
  const uint8_t flags = in.Byte();
  std::vector<uint64_t> dims(flags & 3);
  uint64_t elements = 1;
  for (uint64_t& d : dims) elements *= (d = in.Byte() % 17);
  const int64_t begin = in.Int64(), count = in.Int64();
  std::vector<float> values(elements, 0.0f);
  if (elements > 0) {
    std::memcpy(values.data(), in.rest(), std::min(in.rest_size(), elements * sizeof(float)));
  }
  try {
    recsys::H5Writer w(file.path());
    if (flags & 4) {
      w.Write("vectors", values.data(), dims);
    } else {
      w.Write("vectors", std::vector<double>(values.begin(), values.end()).data(), dims);
    }
    if (flags & 8) w.SetFormat((flags & 16) ? "recsys-vectors" : "recsys-other", flags >> 6);
    if (flags & 32) w.SetAttribute("/", "model_version", std::string("m1"));
    w.Commit();
  } catch (const recsys::Error&) {
    return 0;
  }
  try {
    const recsys::data::VectorFileInfo info = recsys::data::ReadVectorInfo(file.path());
    const std::vector<float> rows = recsys::data::ReadVectorRows(file.path(), begin, count);
    recsys::fuzz::Require(static_cast<int64_t>(rows.size()) == count * info.dim, "count x dim");
  } catch (const recsys::Error& e) {
    recsys::fuzz::CheckError(e);
  }
  return 0;
}
