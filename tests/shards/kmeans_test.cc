// Distributed k-means: bitwise the same centroids on any number of ranks, a decreasing objective,
// deterministic repair of empty clusters, and errors raised on every rank.

#include "shards/kmeans.h"

#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "dist/mpi_communicator.h"
#include "shards/centroid_search.h"
#include "shards/gaussian_mixture.h"
#include "tests/test_util.h"

namespace recsys::shards {
namespace {

using recsys::testing::ErrorOf;
using recsys::testing::Mentions;

// This rank's block of rows (all rows, rows x d) and its result, next to the one-rank result.
struct Runs {
  KMeansResult distributed, single;
};

Runs TrainBoth(const std::vector<float>& rows, int64_t d, const KMeansOptions& options) {
  dist::MpiCommunicator world(MPI_COMM_WORLD);
  dist::MpiCommunicator self(MPI_COMM_SELF);
  const int64_t n = static_cast<int64_t>(rows.size()) / d;
  const dist::Slice slice = BlockAlignedSlice(n, world.size(), world.rank());
  Runs runs;
  runs.distributed =
      TrainKMeans(rows.data() + slice.begin * d, slice.end - slice.begin, d, options, world);
  runs.single = TrainKMeans(rows.data(), n, d, options, self);
  return runs;
}

bool BitwiseEqual(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(KMeansTest, SameSeedGivesBitwiseTheSameCentroidsOnAnyNumberOfRanks) {
  // 3000 rows: 12 blocks, split unevenly and with a partial last block.
  const int64_t d = 16;
  const std::vector<float> rows = GaussianMixture(d, 30, 0.8, 11).Rows(0, 3000);
  KMeansOptions options;
  options.k = 25;
  options.iterations = 12;
  options.seed = 5;
  const Runs runs = TrainBoth(rows, d, options);
  EXPECT_TRUE(BitwiseEqual(runs.distributed.centroids, runs.single.centroids));
  EXPECT_EQ(runs.distributed.splits, runs.single.splits);
  ASSERT_EQ(runs.distributed.objective.size(), 12u);
  for (size_t t = 0; t < runs.single.objective.size(); ++t) {
    // A double sum in another order: equal to rounding only.
    EXPECT_NEAR(runs.distributed.objective[t], runs.single.objective[t],
                1e-12 * runs.single.objective[t]);
  }
  for (int64_t c = 0; c < options.k; ++c) {
    double norm2 = 0;
    for (int64_t j = 0; j < d; ++j) norm2 += std::pow(runs.distributed.centroids[c * d + j], 2);
    EXPECT_NEAR(norm2, 1.0, 1e-6) << "centroid " << c;
  }

  options.seed = 6;
  const Runs other = TrainBoth(rows, d, options);
  EXPECT_FALSE(BitwiseEqual(other.distributed.centroids, runs.distributed.centroids));
}

TEST(KMeansTest, ObjectiveDecreasesAndMatchesTheCentroids) {
  const int64_t d = 8;
  const std::vector<float> rows = GaussianMixture(d, 10, 0.5, 3).Rows(0, 2000);
  KMeansOptions options;
  options.k = 10;
  options.iterations = 15;
  const Runs runs = TrainBoth(rows, d, options);
  const KMeansResult& r = runs.distributed;
  ASSERT_EQ(r.splits, 0) << "the test needs no empty clusters for a monotone objective";
  for (size_t t = 1; t < r.objective.size(); ++t) {
    EXPECT_LE(r.objective[t], r.objective[t - 1] * (1 + 1e-9)) << "pass " << t;
  }
  EXPECT_LT(r.objective.back(), 0.8 * r.objective.front());
  // The centroids returned (after the last update) do at least as well as the last iteration's.
  std::vector<int32_t> assign(2000);
  std::vector<float> score(2000);
  NearestCentroids(rows.data(), 2000, r.centroids.data(), options.k, d, assign.data(),
                   score.data());
  double objective = 0;
  for (float s : score) objective += 1.0 - s;
  EXPECT_LE(objective, r.objective.back() * (1 + 1e-9));
}

TEST(KMeansTest, EmptyClustersAreSplitTheSameWayOnAnyNumberOfRanks) {
  // 1800 rows that are only 4 distinct vectors: 12 clusters must keep splitting.
  const int64_t d = 8;
  const std::vector<float> distinct = GaussianMixture(d, 4, 1.0, 9).Rows(0, 4);
  std::vector<float> rows;
  for (int i = 0; i < 1800; ++i) {
    rows.insert(rows.end(), distinct.begin() + (i % 4) * d, distinct.begin() + (i % 4 + 1) * d);
  }
  KMeansOptions options;
  options.k = 12;
  options.iterations = 6;
  const Runs runs = TrainBoth(rows, d, options);
  EXPECT_GT(runs.distributed.splits, 0);
  EXPECT_EQ(runs.distributed.splits, runs.single.splits);
  EXPECT_TRUE(BitwiseEqual(runs.distributed.centroids, runs.single.centroids));
  for (float v : runs.distributed.centroids) ASSERT_TRUE(std::isfinite(v));
}

TEST(KMeansTest, BadInputIsRefusedOnEveryRank) {
  dist::MpiCommunicator world(MPI_COMM_WORLD);
  const int64_t d = 4;
  std::vector<float> rows = GaussianMixture(d, 3, 0.3, 1).Rows(0, 600);
  const dist::Slice slice = BlockAlignedSlice(600, world.size(), world.rank());
  const float* mine = rows.data() + slice.begin * d;
  const int64_t n = slice.end - slice.begin;
  KMeansOptions options;
  options.k = 601;
  EXPECT_TRUE(Mentions(ErrorOf([&] { TrainKMeans(mine, n, d, options, world); }),
                       {"1 <= k <= points", "k=601", "600 points"}));

  options.k = 3;
  rows[599 * d] *= 2;  // the last row is not unit length; only its rank sees it
  EXPECT_TRUE(Mentions(ErrorOf([&] { TrainKMeans(mine, n, d, options, world); }),
                       {"L2-normalised", "point 599"}));

  if (world.size() > 1) {
    // Rank 0 holds 3 rows: rank 1's block would start at point 3.
    const int64_t count = world.rank() == 0 ? 3 : 1;
    EXPECT_TRUE(Mentions(ErrorOf([&] { TrainKMeans(rows.data(), count, d, options, world); }),
                         {"rank 1's block starts at point 3", "BlockAlignedSlice"}));
  }
}

TEST(KMeansTest, BlockAlignedSlicesCoverTheRowsInOrder) {
  for (int64_t rows : {int64_t{0}, int64_t{5}, int64_t{256}, int64_t{3000}, int64_t{100000}}) {
    for (int parts : {1, 2, 3, 4, 7}) {
      int64_t next = 0;
      for (int p = 0; p < parts; ++p) {
        const dist::Slice r = BlockAlignedSlice(rows, parts, p);
        EXPECT_EQ(r.begin, next);
        EXPECT_TRUE(r.begin % kAssignBlockRows == 0 || r.begin == rows);
        EXPECT_LE(r.begin, r.end);
        next = r.end;
      }
      EXPECT_EQ(next, rows);
    }
  }
}

}  // namespace
}  // namespace recsys::shards
