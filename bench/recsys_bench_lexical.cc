// recsys_bench_lexical: the BM25 lexical index on 1 rank and on all ranks, side by side.
//   mpirun -np 2 recsys_bench_lexical --data /tmp/1m.h5
// Builds, in a scratch directory, a vector index whose clusters give the ownership (vectors: the
// sum of a seeded random vector per title word, normalised, so that clusters gather products of
// one kind, as trained embeddings do; centroids: nlist products' vectors), then the lexical index
// on all ranks. Then, loaded on rank 0 alone (the other ranks wait, polling) and on all ranks:
// load time, the largest rank's memory, single-query p50/p99 latency and batch queries/s over the
// dataset's test queries. bench/run_lexical_bench.sh runs it at 20K and 1M products.

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "core/stable_hash.h"
#include "data/dataset.h"
#include "data/text_featurizer.h"
#include "dist/distributed_sampler.h"
#include "dist/mpi_communicator.h"
#include "launch/main_util.h"
#include "serve/lexical_router.h"
#include "shards/index_writer.h"
#include "shards/lexical_builder.h"
#include "shards/lexical_shard.h"

namespace po = boost::program_options;

namespace recsys::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string data;
  std::string workdir = "/tmp/recsys_bench_lexical";
  std::string stemmer = "plural";
  int64_t k = 50;
  int64_t batch = 256;
  int64_t nlist = 0;  // 0: round(sqrt(products))
  int64_t dim = 32;
};

// Per column: what one load of the index costs and how fast it answers.
struct Measure {
  double load_s = 0;
  double memory_mib = 0;  // the largest rank's
  double p50_ms = 0;
  double p99_ms = 0;
  double single_qps = 0;
  double batch_qps = 0;
};

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Waits for every rank in a barrier polled every 0.5 ms, so that waiting ranks leave the cores
// to the ones working (a blocking MPI wait spins).
void PollingBarrier(dist::MpiCommunicator& world) {
  MPI_Request request;
  MPI_Ibarrier(world.mpi_comm(), &request);
  for (int done = 0; !done;) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (!done) usleep(500);
  }
}

// The bag-of-words vector of a title (size dim, unit norm; e_0 for a title without words).
void TitleVector(const std::string& title, int64_t dim, float* out) {
  std::fill(out, out + dim, 0.0f);
  for (const std::string& w : data::TextFeaturizer::Tokenize(title)) {
    const uint64_t h = StableHash(w);
    for (int64_t j = 0; j < dim; ++j) {
      out[j] += static_cast<float>(HashCombine(h, j) >> 11) * 0x1.0p-53f - 0.5f;
    }
  }
  double norm = 0;
  for (int64_t j = 0; j < dim; ++j) norm += double(out[j]) * out[j];
  if (norm == 0) {
    out[0] = 1;
    return;
  }
  for (int64_t j = 0; j < dim; ++j) out[j] = static_cast<float>(out[j] / std::sqrt(norm));
}

// COLLECTIVE over world: the vector index of the titles into dir.
void WriteOwnershipIndex(const data::Dataset& dataset, const Options& o, const std::string& dir,
                         dist::MpiCommunicator& world) {
  const auto n = static_cast<int64_t>(dataset.products.size());
  const int64_t nlist =
      o.nlist > 0 ? o.nlist : std::max<int64_t>(1, std::llround(std::sqrt(double(n))));
  std::vector<float> centroids(nlist * o.dim);
  for (int64_t c = 0; c < nlist; ++c) {
    TitleVector(dataset.products.title[c * n / nlist], o.dim, centroids.data() + c * o.dim);
  }
  const dist::Slice mine = dist::SliceOf(n, world.rank(), world.size());
  std::vector<float> vectors(mine.size() * o.dim);
  std::vector<int64_t> ids(mine.size());
  for (int64_t i = 0; i < mine.size(); ++i) {
    ids[i] = mine.begin + i;
    TitleVector(dataset.products.title[mine.begin + i], o.dim, vectors.data() + i * o.dim);
  }
  shards::WriteIndex(dir, centroids, vectors.data(), ids.data(), mine.size(), o.dim,
                     {"bench", "title bag-of-words vectors"}, world);
}

// COLLECTIVE over comm (the ranks that run this column): load, then time the queries.
Measure Time(const std::string& dir, const std::vector<std::string>& texts, const Options& o,
             dist::Communicator& comm) {
  Measure m;
  const bool root = comm.rank() == 0;
  comm.Barrier();
  auto start = Clock::now();
  const shards::LexicalShard shard = shards::LexicalShard::Load(dir, comm);
  comm.Barrier();
  m.load_s = Seconds(start);
  m.memory_mib = dist::AllReduceValue(comm, shard.MemoryBytes(), dist::ReduceOp::kMax) / 1048576.0;
  serve::LexicalRouter router(shard, comm);
  router.Search({texts[0]}, o.k);  // first touch of the score buffer
  std::vector<double> ms;
  start = Clock::now();
  for (const std::string& text : texts) {
    const auto one = Clock::now();
    router.Search({text}, o.k);
    ms.push_back(Seconds(one) * 1e3);
  }
  m.single_qps = static_cast<double>(texts.size()) / Seconds(start);
  std::sort(ms.begin(), ms.end());
  m.p50_ms = ms[ms.size() / 2];
  m.p99_ms = ms[std::min(ms.size() - 1, static_cast<size_t>(0.99 * ms.size()))];
  start = Clock::now();
  for (size_t b = 0; b < texts.size(); b += o.batch) {
    const size_t e = std::min(texts.size(), b + static_cast<size_t>(o.batch));
    router.Search(std::vector<std::string>(texts.begin() + b, texts.begin() + e), o.k);
  }
  m.batch_qps = static_cast<double>(texts.size()) / Seconds(start);
  if (!root) m = {};
  return m;
}

int Run(int argc, char** argv, dist::MpiRuntime& mpi) {
  Options o;
  po::options_description options(
      "Usage: mpirun -np P recsys_bench_lexical --data FILE [OPTIONS]\n"
      "Prints the lexical index's load time, memory, latency and throughput on 1 rank and on P\n"
      "ranks side by side, over FILE's test queries. Options");
  options.add_options()("help,h", "show this help")("data", po::value(&o.data)->required(),
                                                    "dataset.h5 (recsys_data generate)")(
      "stemmer", po::value(&o.stemmer)->default_value(o.stemmer), "none or plural")(
      "k", po::value(&o.k)->default_value(o.k), "results per query")(
      "batch", po::value(&o.batch)->default_value(o.batch), "queries per batch for queries/s")(
      "nlist", po::value(&o.nlist)->default_value(o.nlist),
      "clusters of the ownership index; 0: sqrt(products)")(
      "dim", po::value(&o.dim)->default_value(o.dim), "dimension of the ownership vectors")(
      "workdir", po::value(&o.workdir)->default_value(o.workdir),
      "scratch directory (emptied, then removed)");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  if (vm.count("help")) {
    if (mpi.world_rank() == 0) std::cout << options << std::endl;
    return 0;
  }
  po::notify(vm);
  if (o.k < 1 || o.batch < 1 || o.nlist < 0 || o.dim < 1) {
    throw launch::UsageError("need k, batch, dim >= 1 and nlist >= 0");
  }
  const shards::Stemmer stemmer = shards::ParseStemmer(o.stemmer);

  dist::MpiCommunicator world(MPI_COMM_WORLD);
  const bool root = world.rank() == 0;
  if (root) {
    std::filesystem::remove_all(o.workdir);
    std::filesystem::create_directories(o.workdir);
  }
  world.Barrier();
  const data::Dataset dataset = data::ReadDataset(o.data);
  std::vector<std::string> texts;
  for (size_t q = 0; q < dataset.queries.size(); ++q) {
    if (dataset.queries.split[q] == data::Split::kTest) texts.push_back(dataset.queries.text[q]);
  }
  if (texts.empty()) throw Error(o.data + ": no test queries");
  const std::string dir = o.workdir + "/index";
  auto start = Clock::now();
  WriteOwnershipIndex(dataset, o, dir, world);
  const double vector_s = Seconds(start);
  start = Clock::now();
  const shards::LexicalManifest manifest =
      shards::BuildLexicalIndex({o.data, dir, {}, stemmer}, world);
  const double build_s = Seconds(start);
  int64_t disk = 0;
  if (root) {
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().filename().string().rfind("lexical", 0) == 0) disk += e.file_size();
    }
  }

  Measure one;
  if (root) {
    dist::MpiCommunicator self(MPI_COMM_SELF);
    one = Time(dir, texts, o, self);
  }
  PollingBarrier(world);
  const Measure all = Time(dir, texts, o, world);
  if (root) {
    const std::string ranks =
        std::to_string(world.size()) + " rank" + (world.size() > 1 ? "s" : "");
    std::printf(
        "recsys_bench_lexical: %s: %lld products, %zu terms, stemmer %s; %zu test queries, k %lld, "
        "batches of %lld\nownership index (%lld clusters) %.1f s; lexical build on %s %.2f s, "
        "%.1f MiB on disk\n",
        o.data.c_str(), static_cast<long long>(manifest.products), manifest.terms.size(),
        o.stemmer.c_str(), texts.size(), static_cast<long long>(o.k),
        static_cast<long long>(o.batch), static_cast<long long>(manifest.nlist()), vector_s,
        ranks.c_str(), build_s, disk / 1048576.0);
    std::printf("%-26s %12s %12s\n", "", "1 rank", ranks.c_str());
    const auto row = [&](const char* name, double a, double b) {
      std::printf("%-26s %12.3f %12.3f\n", name, a, b);
    };
    row("load (s)", one.load_s, all.load_s);
    row("memory, largest rank (MiB)", one.memory_mib, all.memory_mib);
    row("single query p50 (ms)", one.p50_ms, all.p50_ms);
    row("single query p99 (ms)", one.p99_ms, all.p99_ms);
    row("single queries/s", one.single_qps, all.single_qps);
    row("batch queries/s", one.batch_qps, all.batch_qps);
    std::filesystem::remove_all(o.workdir);
  }
  return 0;
}

}  // namespace
}  // namespace recsys::bench

int main(int argc, char** argv) {
  return recsys::launch::RunMain(
      "recsys_bench_lexical", argc, argv,
      [&](recsys::dist::MpiRuntime& mpi) { return recsys::bench::Run(argc, argv, mpi); });
}
