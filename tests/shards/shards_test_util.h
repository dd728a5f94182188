#pragma once
// Helpers shared by the index and router tests (multi-rank, under mpiexec).

#include <gtest/gtest.h>
#include <mpi.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "core/stable_hash.h"
#include "dist/mpi_communicator.h"
#include "shards/centroid_search.h"
#include "shards/index_writer.h"
#include "shards/search_result.h"

namespace recsys::shards::testing_util {

// A temporary directory every rank of MPI_COMM_WORLD sees under the same name. COLLECTIVE to
// create and to destroy (rank 0 makes it and removes it after a barrier).
class SharedTempDir {
 public:
  SharedTempDir() : world_(MPI_COMM_WORLD) {
    std::vector<uint8_t> name;
    if (world_.rank() == 0) {
      char pattern[] = "/tmp/recsys_shards_test_XXXXXX";
      const char* made = mkdtemp(pattern);
      std::string text = made ? made : "";
      name.assign(text.begin(), text.end());
    }
    dist::Broadcast(world_, name, 0);
    path_.assign(name.begin(), name.end());
  }
  ~SharedTempDir() {
    world_.Barrier();
    if (world_.rank() == 0) std::filesystem::remove_all(path_);
  }
  std::string Path(const std::string& name) const { return path_ + "/" + name; }
  dist::MpiCommunicator& world() { return world_; }

 private:
  dist::MpiCommunicator world_;
  std::string path_;
};

// COLLECTIVE over MPI_COMM_WORLD: a communicator of world ranks [0, m), or nullptr on the other
// ranks.
inline std::unique_ptr<dist::MpiCommunicator> FirstRanks(int m) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm sub = MPI_COMM_NULL;
  MPI_Comm_split(MPI_COMM_WORLD, rank < m ? 0 : MPI_UNDEFINED, rank, &sub);
  if (sub == MPI_COMM_NULL) return nullptr;
  auto comm = std::make_unique<dist::MpiCommunicator>(sub);
  MPI_Comm_free(&sub);
  return comm;
}

inline int WorldSize() {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

// n x d vectors of small integers in [-range, range] (exact inner products in float, and many
// ties), the same on every rank for a seed.
inline std::vector<float> IntegerVectors(int64_t n, int64_t d, int range, uint64_t seed) {
  std::vector<float> v(n * d);
  for (int64_t i = 0; i < n * d; ++i) {
    v[i] = static_cast<float>(static_cast<int64_t>(HashCombine(seed, i) % (2 * range + 1)) - range);
  }
  return v;
}

// Exact top k of each query (size nq * d) over base (size n * d; row i has id i), scores in
// double (exact for small integers): score descending, ties to the smaller id; SearchResult layout.
// allowed (size n, optional): rows that may be returned.
inline SearchResult BruteForce(const std::vector<float>& queries, const std::vector<float>& base,
                               int64_t d, int64_t k,
                               const std::vector<std::vector<bool>>* allowed = nullptr) {
  const int64_t nq = static_cast<int64_t>(queries.size()) / d;
  const int64_t n = static_cast<int64_t>(base.size()) / d;
  SearchResult r;
  r.nq = nq;
  r.k = k;
  r.ids.assign(nq * k, -1);
  r.scores.assign(nq * k, -std::numeric_limits<float>::infinity());
  std::vector<double> s(n);
  std::vector<int64_t> order;
  for (int64_t q = 0; q < nq; ++q) {
    order.clear();
    for (int64_t i = 0; i < n; ++i) {
      if (allowed && !(*allowed)[q][i]) continue;
      double dot = 0;
      for (int64_t j = 0; j < d; ++j) dot += double(queries[q * d + j]) * base[i * d + j];
      s[i] = dot;
      order.push_back(i);
    }
    std::sort(order.begin(), order.end(),
              [&](int64_t a, int64_t b) { return s[a] != s[b] ? s[a] > s[b] : a < b; });
    for (int64_t j = 0; j < k && j < static_cast<int64_t>(order.size()); ++j) {
      r.ids[q * k + j] = order[j];
      r.scores[q * k + j] = static_cast<float>(s[order[j]]);
    }
  }
  return r;
}

// Integer rows (exact scores, many ties) where rows [rows/2, rows/2 + 60) repeat rows [0, 60),
// and nlist integer centroids of which the last repeats centroid 0, so that it stays empty (ties
// go to the smaller cluster).
struct IntegerIndexData {
  IntegerIndexData(int64_t n, int64_t d, int64_t nlist, uint64_t seed)
      : rows(IntegerVectors(n, d, 2, seed)),
        centroids(IntegerVectors(nlist, d, 3, seed + 1)),
        n(n),
        d(d),
        nlist(nlist) {
    for (int64_t i = 0; i < 60 && n / 2 + i < n; ++i) {
      std::copy(rows.begin() + i * d, rows.begin() + (i + 1) * d, rows.begin() + (n / 2 + i) * d);
    }
    if (nlist > 1) {
      std::copy(centroids.begin(), centroids.begin() + d, centroids.begin() + (nlist - 1) * d);
    }
  }

  // Row ids of each cluster, ascending.
  std::vector<std::vector<int64_t>> Members() const {
    std::vector<int32_t> assign(n);
    std::vector<float> score(n);
    NearestCentroids(rows.data(), n, centroids.data(), nlist, d, assign.data(), score.data());
    std::vector<std::vector<int64_t>> members(nlist);
    for (int64_t i = 0; i < n; ++i) members[assign[i]].push_back(i);
    return members;
  }

  // COLLECTIVE over comm: writes the index into dir, rows split evenly over comm's ranks (not
  // block-aligned: the writer does not need it).
  IndexManifest Write(const std::string& dir, dist::Communicator& comm,
                      const std::string& version = "model@1") const {
    const int64_t begin = n * comm.rank() / comm.size();
    const int64_t end = n * (comm.rank() + 1) / comm.size();
    std::vector<int64_t> ids(end - begin);
    for (int64_t i = begin; i < end; ++i) ids[i - begin] = i;
    return WriteIndex(dir, centroids, rows.data() + begin * d, ids.data(), end - begin, d,
                      {version, "test centroids"}, comm);
  }

  std::vector<float> rows;       // size n * d
  std::vector<float> centroids;  // size nlist * d
  int64_t n, d, nlist;
};

inline void ExpectSameResults(const SearchResult& got, const SearchResult& want,
                              const std::string& what) {
  ASSERT_EQ(got.nq, want.nq) << what;
  ASSERT_EQ(got.k, want.k) << what;
  for (int64_t q = 0; q < got.nq; ++q) {
    for (int64_t j = 0; j < got.k; ++j) {
      const int64_t at = q * got.k + j;
      ASSERT_EQ(got.ids[at], want.ids[at]) << what << ": query " << q << " position " << j;
      ASSERT_EQ(got.scores[at], want.scores[at]) << what << ": query " << q << " position " << j;
    }
  }
}

}  // namespace recsys::shards::testing_util
