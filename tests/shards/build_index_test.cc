// BuildIndex end to end from a vectors.h5: the manifest, the same centroids and clusters on any
// number of ranks (with and without a training sample), searchable, bad input refused.

#include "shards/build_index.h"

#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "data/vector_file.h"
#include "serve/router.h"
#include "shards/gaussian_mixture.h"
#include "shards/ivf_shard.h"
#include "tests/shards/shards_test_util.h"
#include "tests/test_util.h"

namespace recsys::shards {
namespace {

using recsys::testing::ErrorOf;
using recsys::testing::Mentions;
using testing_util::SharedTempDir;

constexpr int64_t kRows = 5000;
constexpr int64_t kDim = 16;

// COLLECTIVE: rank 0 writes vectors.h5 (kRows x kDim unit vectors) into tmp.
std::string WriteVectorsFile(SharedTempDir& tmp, const std::vector<float>& rows,
                             const std::string& name = "vectors.h5") {
  const std::string path = tmp.Path(name);
  if (tmp.world().rank() == 0) {
    data::WriteVectors(path, rows, static_cast<int64_t>(rows.size()) / kDim, kDim, "tower@7");
  }
  tmp.world().Barrier();
  return path;
}

TEST(BuildIndexTest, SameIndexOnAnyNumberOfRanksAndSearchable) {
  SharedTempDir tmp;
  const std::vector<float> rows = GaussianMixture(kDim, 40, 0.7, 2).Rows(0, kRows);
  const std::string vectors = WriteVectorsFile(tmp, rows);
  for (int64_t sample_rows : {int64_t{0}, int64_t{2000}}) {
    const std::string what = "sample_rows " + std::to_string(sample_rows);
    IndexBuildOptions options;
    options.vectors_path = vectors;
    options.index_dir = tmp.Path("index" + std::to_string(sample_rows));
    options.iterations = 8;
    options.sample_rows = sample_rows;
    options.show_progress = false;
    const IndexManifest m = BuildIndex(options, tmp.world());
    EXPECT_EQ(m.rows, kRows);
    EXPECT_EQ(m.dim, kDim);
    EXPECT_EQ(m.nlist, 71) << "round(sqrt(5000))";
    EXPECT_EQ(m.shards, tmp.world().size());
    EXPECT_EQ(m.model_version, "tower@7");
    const IndexManifest read = ReadManifest(options.index_dir);
    EXPECT_EQ(read.centroids, m.centroids);
    EXPECT_EQ(read.build_id, m.build_id);
    EXPECT_NE(read.build_info.find(sample_rows == 0 ? "on 5000 of 5000 rows" : "of 5000 rows"),
              std::string::npos)
        << read.build_info;

    if (tmp.world().rank() == 0) {
      // The same build on one rank: bitwise the same centroids, the same clusters.
      dist::MpiCommunicator self(MPI_COMM_SELF);
      IndexBuildOptions single = options;
      single.index_dir = options.index_dir + "_single";
      const IndexManifest one = BuildIndex(single, self);
      ASSERT_EQ(one.centroids.size(), m.centroids.size());
      EXPECT_EQ(
          std::memcmp(one.centroids.data(), m.centroids.data(), m.centroids.size() * sizeof(float)),
          0)
          << what;
      EXPECT_EQ(one.cluster_sizes, m.cluster_sizes) << what;
      const IvfShard a = IvfShard::Load(options.index_dir, {"tower@7"}, self);
      const IvfShard b = IvfShard::Load(single.index_dir, {"tower@7"}, self);
      for (int64_t c = 0; c < m.nlist; ++c) {
        const IvfShard::ClusterRows ra = a.Cluster(c), rb = b.Cluster(c);
        ASSERT_EQ(std::vector<int64_t>(ra.ids, ra.ids + ra.size),
                  std::vector<int64_t>(rb.ids, rb.ids + rb.size))
            << what << ", cluster " << c;
      }
    }

    // Every row finds itself first.
    const IvfShard shard = IvfShard::Load(options.index_dir, {"tower@7"}, tmp.world());
    serve::Router router(shard, tmp.world());
    const bool root = tmp.world().rank() == 0;
    const std::vector<float> queries(rows.begin(), rows.begin() + 30 * kDim);
    const SearchResult got =
        router.Search(root ? queries.data() : nullptr, root ? 30 : 0, 5, m.nlist);
    if (root) {
      for (int64_t q = 0; q < 30; ++q) EXPECT_EQ(got.ids[q * 5], q) << what;
    }
  }
}

TEST(BuildIndexTest, BadInputIsRefusedOnEveryRankNamingTheFile) {
  SharedTempDir tmp;
  std::vector<float> rows = GaussianMixture(kDim, 4, 0.7, 2).Rows(0, 600);
  const std::string vectors = WriteVectorsFile(tmp, rows);
  IndexBuildOptions options;
  options.vectors_path = vectors;
  options.index_dir = tmp.Path("index");
  options.show_progress = false;

  options.nlist = 601;
  EXPECT_TRUE(Mentions(ErrorOf([&] { BuildIndex(options, tmp.world()); }),
                       {"vectors.h5: nlist 601 is not in [1, rows=600]"}));
  options.nlist = 0;
  options.vectors_path = tmp.Path("absent.h5");
  EXPECT_TRUE(
      Mentions(ErrorOf([&] { BuildIndex(options, tmp.world()); }), {"absent.h5: no such file"}));

  rows[417 * kDim + 3] += 0.5f;  // one row off the unit sphere
  options.vectors_path = WriteVectorsFile(tmp, rows, "unnormalised.h5");
  EXPECT_TRUE(Mentions(ErrorOf([&] { BuildIndex(options, tmp.world()); }),
                       {"unnormalised.h5: row 417 has norm", "L2-normalised"}));
}

TEST(BuildIndexTest, AManifestWithANonFiniteCentroidIsRefusedNamingTheRow) {
  SharedTempDir tmp;
  if (tmp.world().rank() != 0) return;
  IndexManifest m;
  m.rows = 4;
  m.dim = 2;
  m.nlist = 2;
  m.shards = 1;
  m.centroids = {1, 0, 0, std::nanf("")};
  m.cluster_sizes = {2, 2};
  m.cluster_shard = {0, 0};
  const std::string dir = tmp.Path("nan_index");
  std::filesystem::create_directories(dir);
  WriteManifest(dir, m);
  EXPECT_TRUE(Mentions(ErrorOf([&] { ReadManifest(dir); }),
                       {"manifest.h5: centroids: row 1, column 1 is nan", "expected finite"}));
}

}  // namespace
}  // namespace recsys::shards
