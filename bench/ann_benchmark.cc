#include "bench/ann_benchmark.h"

#include <cblas.h>
#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <mpi.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "core/error.h"
#include "data/vector_file.h"
#include "dist/mpi_communicator.h"
#include "serve/router.h"
#include "shards/build_index.h"
#include "shards/centroid_search.h"
#include "shards/gaussian_mixture.h"
#include "shards/ivf_shard.h"
#include "shards/kmeans.h"

namespace recsys::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBatchRuns = 3;
using Ids = std::vector<int64_t>;
// Searches nq queries (rank 0's; other ranks pass nullptr, 0) and returns their top-k ids on
// rank 0 (size nq * k).
using Search = std::function<Ids(const float* queries, int64_t nq)>;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// OpenMP and BLAS threads of FAISS for a measurement; back to one thread afterwards.
class FaissThreads {
 public:
  explicit FaissThreads(int threads) {
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
  }
  ~FaissThreads() {
    omp_set_num_threads(1);
    openblas_set_num_threads(1);
  }
};

struct Measure {
  double recall = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double qps = 0;
};

std::string Format(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string Format(const char* format, ...) {
  char line[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  return line;
}

class AnnBenchmark {
 public:
  AnnBenchmark(const AnnBenchOptions& o, std::ostream& out)
      : o_(o),
        out_(out),
        world_(MPI_COMM_WORLD),
        self_(MPI_COMM_SELF),
        root_(world_.rank() == 0),
        mixture_(o.dim, o.components > 0 ? o.components : std::max<int64_t>(1, o.n / 1000),
                 o.spread, o.seed) {}

  void Run() {
    std::set<std::string> tables;
    for (char c : o_.tables) {
      if (c != ',') tables.insert(std::string(1, c));
    }
    OnRootAlone([&] {
      std::filesystem::remove_all(o_.workdir);
      std::filesystem::create_directories(o_.workdir);
      const auto start = Clock::now();
      database_ = mixture_.Rows(0, o_.n);
      queries_ = mixture_.Rows(o_.n, o_.queries);
      Print(
          Format("recsys_bench_ann: %lld x %lld unit vectors (Gaussian mixture: %lld components, "
                 "spread %.2f, seed %llu; made in %.1f s), %lld queries from the same mixture, "
                 "k %lld, %d MPI rank(s), 1 thread per rank unless stated",
                 ll(o_.n), ll(o_.dim), ll(mixture_components()), o_.spread,
                 static_cast<unsigned long long>(o_.seed), Seconds(start), ll(o_.queries), ll(o_.k),
                 world_.size()));
    });
    if (tables.count("1")) TableSizes();
    if (tables.count("2")) TableNprobe();
    if (tables.count("3")) TableKMeans();
    OnRootAlone([&] { std::filesystem::remove_all(o_.workdir); });
  }

 private:
  static long long ll(int64_t v) { return static_cast<long long>(v); }
  int64_t mixture_components() const {
    return o_.components > 0 ? o_.components : std::max<int64_t>(1, o_.n / 1000);
  }
  void Print(const std::string& line) {
    if (!root_) return;
    out_ << line << "\n";
    out_.flush();
  }

  // Runs fn on rank 0 while the other ranks wait in a barrier they poll every 0.5 ms, so that
  // they leave the cores to rank 0 (a blocking MPI wait spins).
  void OnRootAlone(const std::function<void()>& fn) {
    if (root_) fn();
    MPI_Request request;
    MPI_Ibarrier(world_.mpi_comm(), &request);
    int done = 0;
    while (!done) {
      MPI_Test(&request, &done, MPI_STATUS_IGNORE);
      if (!done && !root_) usleep(500);
    }
  }

  // Times `search` on the single queries one by one and on the whole batch (best of kBatchRuns);
  // recall@k of the batch against truth. all_ranks: every rank calls search (the P-rank index);
  // otherwise rank 0 alone while the others sleep. The result is valid on rank 0.
  Measure Time(bool all_ranks, const Search& search, const Ids& truth, int64_t singles) {
    Measure m;
    auto body = [&] {
      const float* q = root_ ? queries_.data() : nullptr;
      search(q, root_ ? std::min<int64_t>(8, o_.queries) : 0);  // warm-up
      std::vector<double> ms;
      for (int64_t i = 0; i < singles; ++i) {
        const auto start = Clock::now();
        search(root_ ? q + i * o_.dim : nullptr, root_ ? 1 : 0);
        ms.push_back(1e3 * Seconds(start));
      }
      // The best of a few batches: on a shared machine the slowest runs measure the neighbours.
      Ids ids;
      double batch = 0;
      for (int run = 0; run < kBatchRuns; ++run) {
        const auto start = Clock::now();
        ids = search(q, root_ ? o_.queries : 0);
        batch = run == 0 ? Seconds(start) : std::min(batch, Seconds(start));
      }
      if (!root_) return;
      std::sort(ms.begin(), ms.end());
      m.p50_ms = ms[ms.size() / 2];
      m.p99_ms = ms[std::min(ms.size() - 1, static_cast<size_t>(0.99 * ms.size()))];
      m.qps = o_.queries / batch;
      int64_t hits = 0;
      for (int64_t i = 0; i < o_.queries; ++i) {
        const auto begin = truth.begin() + i * o_.k, end = begin + o_.k;
        for (int64_t j = 0; j < o_.k; ++j) hits += std::count(begin, end, ids[i * o_.k + j]);
      }
      m.recall = static_cast<double>(hits) / (o_.queries * o_.k);
    };
    if (all_ranks) {
      body();
    } else {
      OnRootAlone(body);
    }
    return m;
  }

  Search RouterSearch(serve::Router& router, int64_t nprobe) {
    return [this, &router, nprobe](const float* q, int64_t nq) {
      return router.Search(q, nq, o_.k, nprobe).ids;
    };
  }
  Search FaissSearch(faiss::Index& index) {
    return [this, &index](const float* q, int64_t nq) {
      Ids ids(nq * o_.k);
      std::vector<float> distances(nq * o_.k);
      index.search(nq, q, o_.k, distances.data(), ids.data());
      return ids;
    };
  }

  std::string VectorsFile(int64_t n) {
    const std::string path = o_.workdir + "/vectors_" + std::to_string(n) + ".h5";
    OnRootAlone([&] {
      if (std::filesystem::exists(path)) return;
      const std::vector<float> rows(database_.begin(), database_.begin() + n * o_.dim);
      data::WriteVectors(path, rows, n, o_.dim, "bench-mixture");
    });
    return path;
  }

  // COLLECTIVE: builds the index of the first n rows with nlist clusters on every rank, or
  // reuses it; returns its directory and sets *seconds to the build time (0 when reused).
  std::string Index(int64_t n, int64_t nlist, double* seconds) {
    const std::string dir =
        o_.workdir + "/index_" + std::to_string(n) + "_" + std::to_string(nlist);
    *seconds = 0;
    if (built_.count(dir)) return dir;
    shards::IndexBuildOptions b;
    b.vectors_path = VectorsFile(n);
    b.index_dir = dir;
    b.nlist = nlist;
    b.iterations = o_.iterations;
    b.seed = o_.seed;
    b.show_progress = false;
    world_.Barrier();
    const auto start = Clock::now();
    shards::BuildIndex(b, world_);
    *seconds = Seconds(start);
    built_.insert(dir);
    return dir;
  }

  // Exact top-k of the queries over the first n rows (FAISS IndexFlatIP, rank 0).
  const Ids& Truth(int64_t n) {
    Ids& truth = truth_[n];
    OnRootAlone([&] {
      if (!truth.empty()) return;
      faiss::IndexFlatIP flat(o_.dim);
      flat.add(n, database_.data());
      truth = FaissSearch(flat)(queries_.data(), o_.queries);
    });
    return truth;
  }

  void TableSizes() {
    const int ranks = world_.size();
    Print("");
    Print(Format(
        "Table 1. Brute force vs this index (nprobe %lld; index on %d rank(s)). Search: "
        "single-query p50 and batch q/s (best of %d batches of %lld); memory: the largest rank's.",
        ll(o_.nprobe), ranks, kBatchRuns, ll(o_.queries)));
    Print(Format("%-9s %-24s %6s %9s %12s %12s %10s %10s", "N", "method", "nlist", "build s",
                 "p50 ms/query", "batch q/s", "MB/rank",
                 ("recall@" + std::to_string(o_.k)).c_str()));
    for (int64_t n : {o_.n / 10, o_.n / 2, o_.n}) {
      if (n < o_.k) continue;
      const Ids& truth = Truth(n);
      std::unique_ptr<faiss::IndexFlatIP> flat;
      Measure bf;
      {
        FaissThreads threads(1);
        OnRootAlone([&] {
          flat = std::make_unique<faiss::IndexFlatIP>(o_.dim);
          flat->add(n, database_.data());
        });
        bf = Time(false, root_ ? FaissSearch(*flat) : Search(), truth,
                  std::min<int64_t>(o_.single_queries, 20));
        flat.reset();
      }
      Print(Format("%-9lld %-24s %6s %9s %12.3f %12.0f %10.1f %10.4f", ll(n),
                   "brute force (FAISS flat)", "-", "-", bf.p50_ms, bf.qps,
                   n * o_.dim * 4 / 1048576.0, bf.recall));
      for (int64_t nlist : o_.nlist_list) {
        if (nlist > n) continue;
        double build = 0;
        const std::string dir = Index(n, nlist, &build);
        const shards::IvfShard shard = shards::IvfShard::Load(dir, {}, world_);
        serve::Router router(shard, world_);
        const int64_t memory =
            dist::AllReduceValue(world_, shard.MemoryBytes(), dist::ReduceOp::kMax);
        const Measure m = Time(true, RouterSearch(router, o_.nprobe), truth, o_.single_queries);
        Print(Format("%-9lld %-24s %6lld %9.1f %12.3f %12.0f %10.1f %10.4f", ll(n),
                     ("this index, " + std::to_string(ranks) + " rank(s)").c_str(), ll(nlist),
                     build, m.p50_ms, m.qps, memory / 1048576.0, m.recall));
      }
    }
  }

  void TableNprobe() {
    const int ranks = world_.size();
    double build = 0;
    const std::string dir = Index(o_.n, o_.nlist, &build);
    const Ids& truth = Truth(o_.n);
    const shards::IvfShard shard = shards::IvfShard::Load(dir, {}, world_);
    serve::Router router(shard, world_);
    // Rank 0 alone: the index on one rank, and FAISS with its centroids and lists.
    std::unique_ptr<shards::IvfShard> single;
    std::unique_ptr<serve::Router> single_router;
    faiss::IndexFlatIP quantizer(o_.dim);
    std::unique_ptr<faiss::IndexIVFFlat> ivf;
    OnRootAlone([&] {
      single = std::make_unique<shards::IvfShard>(shards::IvfShard::Load(dir, {}, self_));
      single_router = std::make_unique<serve::Router>(*single, self_);
      quantizer.add(o_.nlist, single->manifest().centroids.data());
      ivf = std::make_unique<faiss::IndexIVFFlat>(&quantizer, o_.dim, o_.nlist,
                                                  faiss::METRIC_INNER_PRODUCT);
      for (int64_t c = 0; c < o_.nlist; ++c) {
        const shards::IvfShard::ClusterRows rows = single->Cluster(c);
        if (rows.size == 0) continue;
        ivf->invlists->add_entries(c, rows.size, rows.ids,
                                   reinterpret_cast<const uint8_t*>(rows.vectors));
        ivf->ntotal += rows.size;
      }
    });
    Print("");
    Print(
        Format("Table 2. nprobe sweep, N %lld, d %lld, nlist %lld: FAISS IndexIVFFlat (same "
               "centroids and lists) with 1 and 2 threads vs this index on 1 and %d rank(s). "
               "p50/p99: %lld single queries; q/s: the best of %d batches of %lld.",
               ll(o_.n), ll(o_.dim), ll(o_.nlist), ranks, ll(o_.single_queries), kBatchRuns,
               ll(o_.queries)));
    const std::string r = std::to_string(ranks) + "r";
    Print(Format("%6s | %8s %8s | %7s %7s %7s %7s | %7s %7s %7s %7s | %8s %8s %8s %8s", "nprobe",
                 "rec FAISS", "rec ours", "p50 F1t", "F2t", "ours1r", ("ours" + r).c_str(),
                 "p99 F1t", "F2t", "ours1r", ("ours" + r).c_str(), "q/s F1t", "F2t", "ours1r",
                 ("ours" + r).c_str()));
    for (int64_t nprobe : o_.nprobe_list) {
      if (nprobe > o_.nlist) continue;
      if (root_) ivf->nprobe = nprobe;
      Measure f1, f2, o1, op;
      {
        FaissThreads threads(1);
        f1 = Time(false, root_ ? FaissSearch(*ivf) : Search(), truth, o_.single_queries);
      }
      {
        FaissThreads threads(2);
        f2 = Time(false, root_ ? FaissSearch(*ivf) : Search(), truth, o_.single_queries);
      }
      o1 = Time(false, root_ ? RouterSearch(*single_router, nprobe) : Search(), truth,
                o_.single_queries);
      op = ranks > 1 ? Time(true, RouterSearch(router, nprobe), truth, o_.single_queries) : o1;
      Print(
          Format("%6lld | %8.4f %8.4f | %7.3f %7.3f %7.3f %7.3f | %7.3f %7.3f %7.3f %7.3f | "
                 "%8.0f %8.0f %8.0f %8.0f",
                 ll(nprobe), f1.recall, op.recall, f1.p50_ms, f2.p50_ms, o1.p50_ms, op.p50_ms,
                 f1.p99_ms, f2.p99_ms, o1.p99_ms, op.p99_ms, f1.qps, f2.qps, o1.qps, op.qps));
    }
    OnRootAlone([&] {
      ivf.reset();
      single_router.reset();
      single.reset();
    });
  }

  void TableKMeans() {
    const int ranks = world_.size();
    const int64_t points = std::min(o_.n, 256 * o_.nlist);
    shards::KMeansOptions km;
    km.k = o_.nlist;
    km.iterations = o_.iterations;
    km.seed = o_.seed;
    // Sum of 1 - cosine to the nearest centroid: the objective all rows report.
    auto objective = [&](const std::vector<float>& centroids) {
      std::vector<int32_t> assign(points);
      std::vector<float> score(points);
      shards::NearestCentroids(database_.data(), points, centroids.data(), o_.nlist, o_.dim,
                               assign.data(), score.data());
      double sum = 0;
      for (float s : score) sum += 1.0 - s;
      return sum;
    };
    struct Row {
      std::string method;
      double seconds = 0;
      double objective = 0;
    };
    std::vector<Row> rows;
    auto faiss_run = [&](int threads) {
      OnRootAlone([&] {
        FaissThreads t(threads);
        faiss::ClusteringParameters cp;
        cp.niter = o_.iterations;
        cp.spherical = true;
        cp.max_points_per_centroid = 1 << 30;  // the same points: no subsampling
        cp.seed = static_cast<int>(o_.seed);
        faiss::Clustering clustering(o_.dim, o_.nlist, cp);
        faiss::IndexFlatIP index(o_.dim);
        const auto start = Clock::now();
        clustering.train(points, database_.data(), index);
        const double seconds = Seconds(start);
        rows.push_back({Format("faiss::Clustering, %d thread(s)", threads), seconds,
                        objective(clustering.centroids)});
      });
    };
    faiss_run(1);
    faiss_run(2);
    OnRootAlone([&] {
      const auto start = Clock::now();
      const shards::KMeansResult r =
          shards::TrainKMeans(database_.data(), points, o_.dim, km, self_);
      rows.push_back({"this k-means, 1 rank", Seconds(start), objective(r.centroids)});
    });
    if (ranks > 1) {
      const dist::Slice slice = shards::BlockAlignedSlice(points, ranks, world_.rank());
      const std::vector<float> mine = mixture_.Rows(slice.begin, slice.end - slice.begin);
      world_.Barrier();
      const auto start = Clock::now();
      const shards::KMeansResult r =
          shards::TrainKMeans(mine.data(), slice.end - slice.begin, o_.dim, km, world_);
      const double seconds = Seconds(start);
      if (root_) {
        rows.push_back({Format("this k-means, %d ranks", ranks), seconds, objective(r.centroids)});
      }
    }
    Print("");
    Print(
        Format("Table 3. k-means build: %lld points x %lld, k %lld, %d iterations, spherical. "
               "Objective: sum over the points of 1 - cosine to the nearest final centroid.",
               ll(points), ll(o_.dim), ll(o_.nlist), o_.iterations));
    Print(Format("%-32s %9s %9s %14s %12s %12s", "method", "time s", "s/iter", "objective",
                 "time/F1t", "obj/F1t"));
    for (const Row& row : rows) {
      Print(Format("%-32s %9.2f %9.3f %14.2f %12.3f %12.4f", row.method.c_str(), row.seconds,
                   row.seconds / o_.iterations, row.objective, row.seconds / rows[0].seconds,
                   row.objective / rows[0].objective));
    }
  }

  const AnnBenchOptions& o_;
  std::ostream& out_;
  dist::MpiCommunicator world_;
  dist::MpiCommunicator self_;
  const bool root_;
  shards::GaussianMixture mixture_;
  std::vector<float> database_;  // rank 0: o_.n rows
  std::vector<float> queries_;   // rank 0: o_.queries rows
  std::map<int64_t, Ids> truth_;
  std::set<std::string> built_;
};

}  // namespace

void RunAnnBenchmark(const AnnBenchOptions& options, std::ostream& out) {
  RECSYS_CHECK(options.n >= 1 && options.dim >= 1 && options.nlist >= 1 && options.k >= 1 &&
                   options.queries >= 1 && options.single_queries >= 1 &&
                   options.nlist <= options.n,
               "bench: bad sizes");
  AnnBenchmark(options, out).Run();
}

}  // namespace recsys::bench
