// recsys_search: nearest products of a few query vectors, through the sharded index's router.
//   mpirun -np M recsys_search --index RUN/index --vectors RUN/vectors.h5 --rows 0,17,42
//   mpirun -np M recsys_search --index RUN/index --vectors RUN/vectors.h5 --random 5 --k 10

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/numeric_checks.h"
#include "core/stable_hash.h"
#include "data/vector_file.h"
#include "dist/make_communicator.h"
#include "launch/main_util.h"
#include "serve/router.h"
#include "shards/ivf_shard.h"

namespace po = boost::program_options;

namespace recsys::launch {
namespace {

constexpr char kUsage[] =
    "Usage: mpirun -np M recsys_search --index DIR --vectors FILE (--rows LIST | --random N) "
    "[OPTIONS]\n"
    "Searches the sharded index DIR (any number of ranks M, whatever the number that built it)\n"
    "with the embeddings of products of vectors.h5 as queries, and prints each query's top k\n"
    "products (rows of the dataset) with their inner-product scores, best first, ties by row.\n"
    "vectors.h5 must come from the embedding model the index was built from.\n";

struct SearchOptions {
  std::string index;
  std::string vectors;
  std::string rows;
  int64_t random = 0;
  uint64_t seed = 1;
  int64_t k = 10;
  int64_t nprobe = 8;
};

std::vector<int64_t> ParseRows(const std::string& list) {
  std::vector<int64_t> rows;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    int64_t row = -1;
    try {
      row = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || row < 0) {
      throw UsageError("--rows: '" + item + "' is not a row number");
    }
    rows.push_back(row);
  }
  if (rows.empty()) throw UsageError("--rows: no rows given");
  return rows;
}

int Run(int argc, char** argv, dist::MpiRuntime& mpi) {
  SearchOptions o;
  dist::CollectiveTimeouts timeouts;
  po::options_description options("Options");
  options.add_options()("help,h", "show this help")("index", po::value(&o.index)->required(),
                                                    "index directory (RUN/index)")(
      "vectors", po::value(&o.vectors)->required(),
      "vectors.h5 holding the query products' embeddings; its model version must be the "
      "index's")("rows", po::value(&o.rows),
                 "comma-separated product rows to use as queries, e.g. 0,17,42")(
      "random", po::value(&o.random), "use N rows drawn at random (by --seed) as queries")(
      "seed", po::value(&o.seed)->default_value(o.seed), "seed of --random")(
      "k", po::value(&o.k)->default_value(o.k),
      "results per query (fewer when the probed "
      "clusters hold fewer products)")(
      "nprobe", po::value(&o.nprobe)->default_value(o.nprobe),
      "clusters searched per query (1 .. nlist; larger values mean all clusters: exact search)");
  AddCollectiveTimeoutOption(options, &timeouts);
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  if (vm.count("help")) {
    if (mpi.world_rank() == 0) std::cout << kUsage << "\n" << options << std::endl;
    return 0;
  }
  po::notify(vm);
  if (vm.count("rows") == vm.count("random"))
    throw UsageError("give exactly one of --rows, --random");
  std::vector<int64_t> rows = vm.count("rows") ? ParseRows(o.rows) : std::vector<int64_t>{};

  // Every rank checks the rows, so that all of them stop before the first collective.
  const data::VectorFileInfo info = data::ReadVectorInfo(o.vectors);
  CheckUsage([&] {
    CheckCount("--k", o.k, 1);
    CheckCount("--nprobe", o.nprobe, 1);
    if (vm.count("random")) CheckCount("--random", o.random, 1);
    // The queries' rows and vectors, before any is drawn.
    CheckFitsInMemory("--random " + std::to_string(o.random) + " queries of " +
                          std::to_string(info.dim) + " dimensions",
                      static_cast<double>(o.random) * (8 + 4 * info.dim));
  });
  if (o.random > 0 && info.rows == 0) throw UsageError(o.vectors + " holds no rows");
  for (int64_t i = 0; i < o.random; ++i) {
    rows.push_back(static_cast<int64_t>(HashCombine(o.seed, i) % info.rows));
  }
  for (int64_t row : rows) {
    if (row >= info.rows) {
      throw UsageError("row " + std::to_string(row) + " is not in " + o.vectors + " (" +
                       std::to_string(info.rows) + " rows)");
    }
  }

  auto comm = dist::MakeCommunicator(dist::Backend::kMpi, MPI_COMM_WORLD, timeouts);
  const shards::IvfShard shard =
      shards::IvfShard::Load(o.index, {info.model_version, info.dim}, *comm);
  serve::Router router(shard, *comm);
  const bool root = comm->rank() == 0;
  // More results than products cannot be found; the result arrays hold queries x k entries.
  const int64_t products = std::max<int64_t>(1, shard.manifest().rows);
  if (o.k > products) {
    if (root) {
      std::fprintf(stderr,
                   "recsys_search: note: --k %lld is more than the %lld products of %s; "
                   "using %lld\n",
                   static_cast<long long>(o.k), static_cast<long long>(products), o.index.c_str(),
                   static_cast<long long>(products));
    }
    o.k = products;
  }
  CheckFitsInMemory(
      "--k " + std::to_string(o.k) + " results for " + std::to_string(rows.size()) + " queries",
      static_cast<double>(o.k) * static_cast<double>(rows.size()) * 12);
  std::vector<float> queries;
  if (root) {
    for (int64_t row : rows) {
      const std::vector<float> v = data::ReadVectorRows(o.vectors, row, 1);
      queries.insert(queries.end(), v.begin(), v.end());
    }
  }
  const auto start = std::chrono::steady_clock::now();
  const shards::SearchResult result =
      router.Search(queries.data(), root ? static_cast<int64_t>(rows.size()) : 0, o.k, o.nprobe);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!root) return 0;
  std::printf(
      "index %s: %lld products, %lld clusters, %d rank(s); k %lld, nprobe %lld; "
      "%zu queries in %.3f ms\n",
      o.index.c_str(), static_cast<long long>(shard.manifest().rows),
      static_cast<long long>(shard.nlist()), comm->size(), static_cast<long long>(o.k),
      static_cast<long long>(std::min(o.nprobe, shard.nlist())), rows.size(), ms);
  for (size_t q = 0; q < rows.size(); ++q) {
    std::printf("query %zu (row %lld): %lld results\n", q + 1, static_cast<long long>(rows[q]),
                static_cast<long long>(result.Count(q)));
    for (int64_t j = 0; j < result.Count(q); ++j) {
      std::printf("  %3lld  row %-10lld score %.6f\n", static_cast<long long>(j + 1),
                  static_cast<long long>(result.ids[q * o.k + j]), result.scores[q * o.k + j]);
    }
  }
  return 0;
}

}  // namespace
}  // namespace recsys::launch

int main(int argc, char** argv) {
  return recsys::launch::RunMain("recsys_search", argc, argv, [&](recsys::dist::MpiRuntime& mpi) {
    return recsys::launch::Run(argc, argv, mpi);
  });
}
