// The router's exactness: every cluster probed equals brute force (ids and order, ties by id);
// the same results whichever number of ranks wrote and loaded the index; the same as FAISS's
// IndexIVFFlat with the same centroids; edge cases (k above a cluster and above N, empty
// clusters, ranks that own nothing, duplicate vectors, empty batches).

#include "serve/router.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "shards/centroid_search.h"
#include "tests/shards/shards_test_util.h"
#include "tests/test_util.h"

namespace recsys::serve {
namespace {

using recsys::testing::ErrorOf;
using recsys::testing::Mentions;
using shards::IvfShard;
using shards::SearchResult;
using shards::testing_util::BruteForce;
using shards::testing_util::ExpectSameResults;
using shards::testing_util::FirstRanks;
using shards::testing_util::IntegerIndexData;
using shards::testing_util::IntegerVectors;
using shards::testing_util::SharedTempDir;
using shards::testing_util::WorldSize;

// Brute force restricted to each query's nprobe clusters, as the reference for nprobe < nlist.
SearchResult ProbedBruteForce(const IntegerIndexData& data, const std::vector<float>& queries,
                              int64_t nprobe, int64_t k) {
  const int64_t nq = static_cast<int64_t>(queries.size()) / data.d;
  const std::vector<int32_t> probes =
      shards::ProbeClusters(queries.data(), nq, data.centroids.data(), data.nlist, data.d, nprobe);
  const std::vector<std::vector<int64_t>> members = data.Members();
  std::vector<std::vector<bool>> allowed(nq, std::vector<bool>(data.n, false));
  for (int64_t q = 0; q < nq; ++q) {
    for (int64_t p = 0; p < nprobe; ++p) {
      for (int64_t id : members[probes[q * nprobe + p]]) allowed[q][id] = true;
    }
  }
  return BruteForce(queries, data.rows, data.d, k, &allowed);
}

TEST(RouterTest, EveryClusterProbedEqualsBruteForce) {
  SharedTempDir tmp;
  const IntegerIndexData data(1200, 8, 10, 3);
  data.Write(tmp.Path("index"), tmp.world());
  const IvfShard shard = IvfShard::Load(tmp.Path("index"), {}, tmp.world());
  Router router(shard, tmp.world());
  // Queries include stored rows, duplicated ones among them (rows 0 and 600 are equal).
  std::vector<float> queries = IntegerVectors(40, 8, 2, 77);
  queries.insert(queries.end(), data.rows.begin(), data.rows.begin() + 8);
  queries.insert(queries.end(), data.rows.begin() + 600 * 8, data.rows.begin() + 601 * 8);
  const int64_t nq = static_cast<int64_t>(queries.size()) / 8;
  const bool root = tmp.world().rank() == 0;
  // k: 1, a usual 10, more than any cluster holds, more than the index holds (N + 7).
  for (int64_t k : {int64_t{1}, int64_t{10}, int64_t{300}, int64_t{1207}}) {
    const SearchResult got = router.Search(root ? queries.data() : nullptr, root ? nq : 0, k,
                                           /*nprobe=*/data.nlist);
    if (!root) {
      EXPECT_EQ(got.nq, 0);
      continue;
    }
    ExpectSameResults(got, BruteForce(queries, data.rows, 8, k), "k=" + std::to_string(k));
    if (k == 1207) {
      for (int64_t q = 0; q < nq; ++q) ASSERT_EQ(got.Count(q), 1200) << "fewer than k: all N";
    }
  }
  if (root) {
    // The duplicated rows 0 and 600: tied, the smaller id first.
    const SearchResult got = router.Search(queries.data() + 40 * 8, 1, 1200, data.nlist);
    const auto at = [&](int64_t id) {
      return std::find(got.ids.begin(), got.ids.end(), id) - got.ids.begin();
    };
    EXPECT_LT(at(0), at(600));
    EXPECT_EQ(got.scores[at(0)], got.scores[at(600)]);
  } else {
    router.Search(nullptr, 0, 0, 0);
  }
}

TEST(RouterTest, SameResultsWhicheverRanksWroteAndLoadedTheIndex) {
  SharedTempDir tmp;
  const IntegerIndexData data(2000, 8, 16, 5);
  const std::vector<float> queries = IntegerVectors(64, 8, 2, 91);
  const int64_t k = 15, nprobe = 3;
  const SearchResult want = ProbedBruteForce(data, queries, nprobe, k);
  const int world = WorldSize();
  for (int writers = 1; writers <= world; ++writers) {
    const std::string dir = tmp.Path("on_" + std::to_string(writers));
    if (auto comm = FirstRanks(writers)) data.Write(dir, *comm);
    for (int loaders = 1; loaders <= world; ++loaders) {
      auto comm = FirstRanks(loaders);
      if (!comm) continue;
      const IvfShard shard = IvfShard::Load(dir, {}, *comm);
      Router router(shard, *comm);
      const bool root = comm->rank() == 0;
      const SearchResult got =
          router.Search(root ? queries.data() : nullptr, root ? 64 : 0, k, nprobe);
      if (root) {
        ExpectSameResults(
            got, want,
            std::to_string(writers) + " writers, " + std::to_string(loaders) + " loaders");
      }
    }
  }
}

TEST(RouterTest, RanksThatOwnNothingStillAnswer) {
  SharedTempDir tmp;
  // Two clusters, the second a copy of the first and so empty: on 2 or 4 ranks, all but one
  // rank own nothing.
  const IntegerIndexData data(500, 6, 2, 8);
  data.Write(tmp.Path("index"), tmp.world());
  const IvfShard shard = IvfShard::Load(tmp.Path("index"), {}, tmp.world());
  Router router(shard, tmp.world());
  const std::vector<float> queries = IntegerVectors(12, 6, 2, 5);
  const bool root = tmp.world().rank() == 0;
  for (int64_t nprobe : {int64_t{1}, int64_t{2}, int64_t{50}}) {
    const SearchResult got =
        router.Search(root ? queries.data() : nullptr, root ? 12 : 0, 7, nprobe);
    if (root) {
      ExpectSameResults(got, BruteForce(queries, data.rows, 6, 7),
                        "nprobe=" + std::to_string(nprobe));
    }
  }
}

TEST(RouterTest, SingleQueriesEqualTheBatchAndEmptyBatchesWork) {
  SharedTempDir tmp;
  const IntegerIndexData data(900, 8, 12, 4);
  data.Write(tmp.Path("index"), tmp.world());
  const IvfShard shard = IvfShard::Load(tmp.Path("index"), {}, tmp.world());
  Router router(shard, tmp.world());
  const std::vector<float> queries = IntegerVectors(10, 8, 2, 6);
  const bool root = tmp.world().rank() == 0;
  const SearchResult batch = router.Search(root ? queries.data() : nullptr, root ? 10 : 0, 5, 4);
  for (int64_t q = 0; q < 10; ++q) {
    const SearchResult one = router.Search(root ? queries.data() + q * 8 : nullptr, root, 5, 4);
    if (!root) continue;
    ASSERT_EQ(one.nq, 1);
    for (int64_t j = 0; j < 5; ++j) {
      EXPECT_EQ(one.ids[j], batch.ids[q * 5 + j]);
      EXPECT_EQ(one.scores[j], batch.scores[q * 5 + j]);
    }
  }
  const SearchResult none = router.Search(root ? queries.data() : nullptr, 0, 5, 4);
  EXPECT_EQ(none.nq, 0);
  EXPECT_TRUE(none.ids.empty());
}

// Real-valued vectors (rounding matters, unlike the integer ones above): a query's ids and
// scores are bit for bit the same alone and in any batch, as recsys_serve's micro-batching needs.
// (A batch scored by one sgemm and a single query by sgemv round differently.)
TEST(RouterTest, AQuerysResultsDoNotDependOnItsBatch) {
  SharedTempDir tmp;
  const int64_t n = 4000, d = 64, nlist = 20, nq = 40, k = 10, nprobe = 5;
  IntegerIndexData data(n, d, nlist, 21);
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  for (float& x : data.rows) x = normal(rng);
  for (float& x : data.centroids) x = normal(rng);
  std::vector<float> queries(nq * d);
  for (float& x : queries) x = normal(rng);
  data.Write(tmp.Path("index"), tmp.world());
  const IvfShard shard = IvfShard::Load(tmp.Path("index"), {}, tmp.world());
  Router router(shard, tmp.world());
  const bool root = tmp.world().rank() == 0;
  const SearchResult all = router.Search(root ? queries.data() : nullptr, root ? nq : 0, k, nprobe);
  // Each query alone, and the queries in batches of 3 starting at every offset.
  for (int64_t q = 0; q < nq; ++q) {
    const SearchResult one = router.Search(root ? queries.data() + q * d : nullptr, root, k, nprobe);
    const int64_t first = std::max<int64_t>(0, q - 1), count = std::min<int64_t>(3, nq - first);
    const SearchResult three =
        router.Search(root ? queries.data() + first * d : nullptr, root ? count : 0, k, nprobe);
    if (!root) continue;
    for (int64_t j = 0; j < k; ++j) {
      ASSERT_EQ(one.ids[j], all.ids[q * k + j]) << "query " << q << " entry " << j;
      ASSERT_EQ(one.scores[j], all.scores[q * k + j]) << "query " << q << " entry " << j;
      ASSERT_EQ(three.ids[(q - first) * k + j], all.ids[q * k + j]);
      ASSERT_EQ(three.scores[(q - first) * k + j], all.scores[q * k + j]);
    }
  }
}

// A row added while serving (IvfShard::Add on the owner of its cluster) is found by the next
// search, on any number of ranks, with the score a brute force gives.
TEST(RouterTest, AnAddedRowIsFoundByTheNextSearch) {
  SharedTempDir tmp;
  const IntegerIndexData data(600, 8, 6, 31);
  data.Write(tmp.Path("index"), tmp.world());
  IvfShard shard = IvfShard::Load(tmp.Path("index"), {}, tmp.world());
  Router router(shard, tmp.world());
  const bool root = tmp.world().rank() == 0;
  const std::vector<float> row = IntegerVectors(1, 8, 9, 77);  // larger than any built row
  const int32_t cluster = shards::ProbeClusters(row.data(), 1, data.centroids.data(), 6, 8, 1)[0];
  const bool owner = shard.owners()[cluster] == tmp.world().rank();
  if (owner) shard.Add(cluster, 600, row.data());
  const std::string refused = ErrorOf([&] { shard.Add(cluster, 599, row.data()); });
  EXPECT_TRUE(owner ? Mentions(refused, {"row 599", "built with rows 0..599"})
                    : Mentions(refused, {"cluster", "not owned by this rank"}));
  const SearchResult got = router.Search(root ? row.data() : nullptr, root, 1, 1);
  if (!root) return;
  float self = 0;
  for (float x : row) self += x * x;
  EXPECT_EQ(got.ids[0], 600);
  EXPECT_EQ(got.scores[0], self);
}

TEST(RouterTest, InvalidArgumentsThrowOnEveryRank) {
  SharedTempDir tmp;
  const IntegerIndexData data(300, 4, 3, 2);
  data.Write(tmp.Path("index"), tmp.world());
  const IvfShard shard = IvfShard::Load(tmp.Path("index"), {}, tmp.world());
  Router router(shard, tmp.world());
  const std::vector<float> queries = IntegerVectors(2, 4, 2, 1);
  const bool root = tmp.world().rank() == 0;
  const std::string message = ErrorOf([&] { router.Search(queries.data(), 2, root ? 0 : 5, 2); });
  if (root) {
    EXPECT_TRUE(Mentions(message, {"need k >= 1", "k=0"}));
  } else {
    EXPECT_TRUE(Mentions(message, {"rank 0 rejected the search arguments"}));
  }
  // A NaN in a query vector (its scores could not be ranked) is refused naming the row.
  std::vector<float> with_nan = queries;
  with_nan[4 + 2] = std::nanf("");
  const std::string nan_message =
      ErrorOf([&] { router.Search(with_nan.data(), root ? 2 : 0, 3, 3); });
  if (root) {
    EXPECT_TRUE(Mentions(nan_message, {"query vectors: row 1, column 2 is nan"}));
  } else {
    EXPECT_TRUE(Mentions(nan_message, {"rank 0 rejected the search arguments"}));
  }
  // The router is still usable afterwards.
  const SearchResult got = router.Search(queries.data(), root ? 2 : 0, 3, 3);
  if (root) ExpectSameResults(got, BruteForce(queries, data.rows, 4, 3), "after an error");
}

// Vectors whose every query score is distinct and exact, so FAISS's order (which breaks ties
// its own way) must equal ours: dims 0-7 small integers, dim 8 = row / 4096 on rows (0 on
// centroids), dim 9 = centroid / 4096 on centroids (0 on rows), and queries with 1 in dims 8-9.
// Row-centroid products stay integers (ties to the smaller cluster, exact everywhere).
std::vector<float> Tagged(int64_t n, uint64_t seed, int tag_dim) {
  std::vector<float> v = IntegerVectors(n, 10, 2, seed);
  for (int64_t i = 0; i < n; ++i) {
    v[i * 10 + 8] = tag_dim == 8 ? static_cast<float>(i) / 4096 : (tag_dim < 0 ? 1.0f : 0.0f);
    v[i * 10 + 9] = tag_dim == 9 ? static_cast<float>(i) / 4096 : (tag_dim < 0 ? 1.0f : 0.0f);
  }
  return v;
}

TEST(RouterTest, EqualsFaissIvfFlatWithTheSameCentroids) {
  SharedTempDir tmp;
  const int64_t n = 3000, d = 10, nlist = 24, nq = 50, k = 20;
  IntegerIndexData data(n, d, nlist, 12);
  data.rows = Tagged(n, 12, 8);
  data.centroids = Tagged(nlist, 13, 9);
  const std::vector<float> queries = Tagged(nq, 14, -1);
  data.Write(tmp.Path("index"), tmp.world());
  const IvfShard shard = IvfShard::Load(tmp.Path("index"), {}, tmp.world());
  Router router(shard, tmp.world());
  const bool root = tmp.world().rank() == 0;

  // FAISS on rank 0, with our centroids and our lists (from the index loaded on one rank).
  std::unique_ptr<faiss::IndexFlatIP> quantizer;
  std::unique_ptr<faiss::IndexIVFFlat> ivf;
  if (root) {
    dist::MpiCommunicator self(MPI_COMM_SELF);
    const IvfShard whole = IvfShard::Load(tmp.Path("index"), {}, self);
    quantizer = std::make_unique<faiss::IndexFlatIP>(d);
    quantizer->add(nlist, data.centroids.data());
    ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer.get(), d, nlist,
                                                faiss::METRIC_INNER_PRODUCT);
    ASSERT_TRUE(ivf->is_trained);
    for (int64_t c = 0; c < nlist; ++c) {
      const IvfShard::ClusterRows rows = whole.Cluster(c);
      if (rows.size == 0) continue;
      ivf->invlists->add_entries(c, rows.size, rows.ids,
                                 reinterpret_cast<const uint8_t*>(rows.vectors));
      ivf->ntotal += rows.size;
    }
  }
  for (int64_t nprobe : {int64_t{1}, int64_t{4}, nlist}) {
    const SearchResult got =
        router.Search(root ? queries.data() : nullptr, root ? nq : 0, k, nprobe);
    if (!root) continue;
    std::vector<float> distances(nq * k);
    std::vector<faiss::Index::idx_t> labels(nq * k);
    ivf->nprobe = nprobe;
    ivf->search(nq, queries.data(), k, distances.data(), labels.data());
    int64_t compared = 0;
    for (int64_t i = 0; i < nq * k; ++i) {
      ASSERT_EQ(got.ids[i], labels[i]) << "nprobe " << nprobe << " entry " << i;
      if (labels[i] < 0) continue;
      ASSERT_EQ(got.scores[i], distances[i]) << "nprobe " << nprobe << " entry " << i;
      ++compared;
    }
    EXPECT_GT(compared, nq * k / 2);
  }
}

}  // namespace
}  // namespace recsys::serve
