#pragma once
// The side-by-side ANN benchmark behind recsys_bench_ann: this sharded index against FAISS on the
// same synthetic vectors and queries.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace recsys::bench {

struct AnnBenchOptions {
  int64_t n = 1000000;  // largest database; table 1 also runs n/10 and n/2
  int64_t dim = 64;
  int64_t nlist = 1024;                                              // tables 2 and 3
  std::vector<int64_t> nlist_list = {100, 250, 500, 1024};           // table 1
  int64_t nprobe = 16;                                               // table 1
  std::vector<int64_t> nprobe_list = {1, 2, 4, 8, 16, 32, 64, 128};  // table 2
  int64_t queries = 1000;        // batch size, and the queries recall is measured on
  int64_t single_queries = 200;  // queries timed one at a time (p50, p99)
  int64_t k = 10;
  int iterations = 20;  // k-means iterations, ours and FAISS's
  uint64_t seed = 1;
  // Gaussian mixture: components (0: n / 1000) and noise norm around each unit centre. The
  // defaults give IVF recall curves like real embeddings' (recall@10 about 0.6 at nprobe 1 and
  // 0.95 at nprobe 16 with nlist near the number of components).
  int64_t components = 0;
  double spread = 1.5;
  std::string workdir = "/tmp/recsys_bench_ann";  // vectors files and indexes (removed after)
  std::string tables = "1,2,3";
};

// COLLECTIVE over MPI_COMM_WORLD (mpirun -np P, P >= 1). Prints, on rank 0, to out:
//  1. database sizes n/10, n/2, n: FAISS brute force (IndexFlatIP, 1 thread) and this index
//     (built by BuildIndex on P ranks) at every nlist of nlist_list: build time, single-query
//     p50, batch queries/s, memory per rank, recall@k against exact search;
//  2. at n and nlist, for every nprobe: recall@k, single-query p50/p99 and batch queries/s of
//     FAISS IndexIVFFlat (1 and 2 threads; the same centroids and lists as this index) and of
//     this index on 1 rank and on P ranks;
//  3. k-means on min(n, 256 nlist) points: this distributed k-means on 1 and P ranks against
//     faiss::Clustering (1 and 2 threads), the same points, k and iterations: time and final
//     objective (sum of 1 - cosine to the nearest centroid, computed the same way for all).
// Batch queries/s is the best of 3 batches. While one rank measures something alone (FAISS, the
// 1-rank index), the others sleep in a polling barrier rather than spin, so the cores are free.
void RunAnnBenchmark(const AnnBenchOptions& options, std::ostream& out);

}  // namespace recsys::bench
