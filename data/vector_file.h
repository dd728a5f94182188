#pragma once
// vectors.h5: product embeddings, N x d float32, L2-normalised, one row per product of the
// dataset (row i embeds product row i), with the version of the model that made them.
//
//   vectors        float32 [N, d]
//   @format        "recsys-vectors", @format_version 1
//   @model_version string naming the model and its training run (checked by the index)
//
// Written by one rank (atomically); any number of ranks read their own row slices.

#include <cstdint>
#include <string>
#include <vector>

namespace recsys::data {

struct VectorFileInfo {
  int64_t rows = 0;
  int64_t dim = 0;
  std::string model_version;
};

// Writes rows x dim values (row-major). Throws if values.size() != rows * dim, or naming the row
// of the first NaN or infinite value.
void WriteVectors(const std::string& path, const std::vector<float>& values, int64_t rows,
                  int64_t dim, const std::string& model_version);

// Shape and version; throws naming the file if it is not a vectors file.
VectorFileInfo ReadVectorInfo(const std::string& path);

// Rows [begin, begin + count), row-major (count * dim values). Throws naming the row of the
// first NaN or infinite value.
std::vector<float> ReadVectorRows(const std::string& path, int64_t begin, int64_t count);

}  // namespace recsys::data
