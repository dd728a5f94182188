#include "data/vector_file.h"

#include "core/error.h"
#include "core/hdf5_file.h"
#include "core/numeric_checks.h"

namespace recsys::data {
namespace {
constexpr int64_t kFormatVersion = 1;
}  // namespace

void WriteVectors(const std::string& path, const std::vector<float>& values, int64_t rows,
                  int64_t dim, const std::string& model_version) {
  RECSYS_CHECK(
      rows >= 0 && dim > 0 && static_cast<int64_t>(values.size()) == rows * dim,
      path << ": " << values.size() << " values do not make " << rows << " rows of " << dim);
  CheckFiniteRows(path + " (vectors to write)", values.data(), rows, dim);
  H5Writer w(path);
  w.Write("vectors", values.data(), {static_cast<uint64_t>(rows), static_cast<uint64_t>(dim)});
  w.SetFormat("recsys-vectors", kFormatVersion);
  w.SetAttribute("/", "model_version", model_version);
  w.Commit();
}

VectorFileInfo ReadVectorInfo(const std::string& path) {
  H5Reader r(path);
  r.CheckFormat("recsys-vectors", kFormatVersion);
  std::vector<uint64_t> shape = r.Shape("vectors");
  RECSYS_CHECK(shape.size() == 2 && shape[1] > 0,
               path << ": 'vectors' must be a 2-D dataset [rows, dim]");
  return {static_cast<int64_t>(shape[0]), static_cast<int64_t>(shape[1]),
          r.StringAttribute("/", "model_version")};
}

std::vector<float> ReadVectorRows(const std::string& path, int64_t begin, int64_t count) {
  const int64_t dim = ReadVectorInfo(path).dim;
  RECSYS_CHECK(begin >= 0 && count >= 0, path << ": bad row range " << begin << "+" << count);
  std::vector<float> rows = H5Reader(path).ReadRows<float>("vectors", begin, count);
  CheckFiniteRows(path, rows.data(), count, dim, begin);
  return rows;
}

}  // namespace recsys::data
