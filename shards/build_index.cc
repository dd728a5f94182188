#include "shards/build_index.h"

#include <cmath>
#include <limits>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "core/stable_hash.h"
#include "data/vector_file.h"
#include "dist/collective_try.h"
#include "shards/centroid_search.h"
#include "shards/index_writer.h"
#include "shards/kmeans.h"

namespace recsys::shards {
namespace {
constexpr double kNormTolerance = 1e-3;
// Keeps the sample's hash stream apart from the initial centroids' (same seed).
constexpr uint64_t kSampleSalt = 0x73616d706c65ULL;

bool BlockSampled(uint64_t seed, int64_t block, double fraction) {
  if (fraction >= 1) return true;
  // 2^64 * fraction < 2^64, so the conversion is defined.
  const auto threshold = static_cast<uint64_t>(fraction * 18446744073709551616.0);
  return HashCombine(seed ^ kSampleSalt, static_cast<uint64_t>(block)) < threshold;
}
}  // namespace

IndexManifest BuildIndex(const IndexBuildOptions& options, dist::Communicator& comm) {
  data::VectorFileInfo info;
  int64_t nlist = options.nlist;
  int64_t sample_rows = options.sample_rows;
  dist::CollectiveTry(comm, [&] {
    info = data::ReadVectorInfo(options.vectors_path);
    if (nlist == 0) nlist = std::max<int64_t>(1, std::llround(std::sqrt(double(info.rows))));
    RECSYS_CHECK(
        nlist >= 1 && nlist <= info.rows,
        options.vectors_path << ": nlist " << nlist << " is not in [1, rows=" << info.rows << "]");
    RECSYS_CHECK(options.iterations >= 0 && sample_rows >= 0,
                 "index: iterations and sample_rows must not be negative");
    if (sample_rows == 0) sample_rows = std::min(info.rows, 256 * nlist);
  });
  const int64_t d = info.dim;
  const dist::Slice slice = BlockAlignedSlice(info.rows, comm.size(), comm.rank());
  const int64_t n = slice.end - slice.begin;

  // 1. This rank's rows.
  std::vector<float> rows;
  dist::CollectiveTry(comm, [&] {
    rows = data::ReadVectorRows(options.vectors_path, slice.begin, n);
    for (int64_t i = 0; i < n; ++i) {
      double norm2 = 0;
      for (int64_t j = 0; j < d; ++j) norm2 += double(rows[i * d + j]) * rows[i * d + j];
      RECSYS_CHECK(std::abs(std::sqrt(norm2) - 1) <= kNormTolerance,
                   options.vectors_path << ": row " << slice.begin + i << " has norm "
                                        << std::sqrt(norm2)
                                        << "; the index needs L2-normalised vectors");
    }
  });

  // 2. k-means on the sampled blocks.
  const double fraction = double(sample_rows) / double(info.rows);
  std::vector<float> sample;
  for (int64_t begin = 0; begin < n; begin += kAssignBlockRows) {
    const int64_t block = (slice.begin + begin) / kAssignBlockRows;
    if (!BlockSampled(options.seed, block, fraction)) continue;
    const int64_t end = std::min(n, begin + kAssignBlockRows);
    sample.insert(sample.end(), rows.begin() + begin * d, rows.begin() + end * d);
  }
  const bool use_all = dist::AllReduceValue(comm, static_cast<int64_t>(sample.size()) / d) < nlist;
  if (use_all) std::vector<float>().swap(sample);
  const float* train = use_all ? rows.data() : sample.data();
  const int64_t train_n = use_all ? n : static_cast<int64_t>(sample.size()) / d;
  const int64_t train_total = dist::AllReduceValue(comm, train_n);
  if (comm.rank() == 0) {
    RECSYS_INFO("k-means: " << info.rows << " x " << d << " vectors, nlist " << nlist << ", "
                            << options.iterations << " iterations on " << train_total
                            << " sampled rows over " << comm.size() << " rank(s)");
  }
  KMeansOptions kmeans;
  kmeans.k = nlist;
  kmeans.iterations = options.iterations;
  kmeans.seed = options.seed;
  kmeans.show_progress = options.show_progress;
  const KMeansResult clusters = TrainKMeans(train, train_n, d, kmeans, comm);
  std::vector<float>().swap(sample);

  // 3. The index.
  std::ostringstream build_info;
  build_info << "spherical k-means: nlist " << nlist << ", seed " << options.seed << ", "
             << options.iterations << " iterations on " << train_total << " of " << info.rows
             << " rows; " << clusters.splits << " empty-cluster splits";
  if (!clusters.objective.empty()) {
    build_info << "; objective (sum of 1 - cosine) " << clusters.objective.front() << " -> "
               << clusters.objective.back();
  }
  if (comm.rank() == 0) RECSYS_INFO(build_info.str());
  std::vector<int64_t> ids(n);
  for (int64_t i = 0; i < n; ++i) ids[i] = slice.begin + i;
  return WriteIndex(options.index_dir, clusters.centroids, rows.data(), ids.data(), n, d,
                    {info.model_version, build_info.str()}, comm);
}

}  // namespace recsys::shards
