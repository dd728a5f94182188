// recsys_bench_ann: this sharded index side by side with FAISS (see bench/ann_benchmark.h).
//   mpirun -np 2 recsys_bench_ann --n 1000000 --dim 64 --nlist 1024
// With -np 2 one run prints every column: FAISS and the 1-rank index run on rank 0 while rank 1
// sleeps, the 2-rank index on both. bench/run_ann_bench.sh runs it with the reference settings.

#include <boost/program_options.hpp>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/ann_benchmark.h"
#include "core/numeric_checks.h"
#include "launch/main_util.h"

namespace po = boost::program_options;

namespace recsys::bench {
namespace {

std::vector<int64_t> ParseList(const std::string& flag, const std::string& text) {
  std::vector<int64_t> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    int64_t v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || v < 1) {
      throw launch::UsageError(flag + ": '" + item + "' is not a positive number");
    }
    values.push_back(v);
  }
  if (values.empty()) throw launch::UsageError(flag + ": empty list");
  return values;
}

std::string Join(const std::vector<int64_t>& values) {
  std::string text;
  for (int64_t v : values) text += (text.empty() ? "" : ",") + std::to_string(v);
  return text;
}

int Run(int argc, char** argv, dist::MpiRuntime& mpi) {
  AnnBenchOptions o;
  std::string nlist_list = Join(o.nlist_list), nprobe_list = Join(o.nprobe_list);
  po::options_description options(
      "Usage: mpirun -np P recsys_bench_ann [OPTIONS]\n"
      "Prints three tables comparing this sharded index with FAISS on the same synthetic\n"
      "vectors and queries (see bench/ann_benchmark.h). Options");
  options.add_options()("help,h", "show this help")(
      "n", po::value(&o.n)->default_value(o.n), "largest database; table 1 also runs n/10 and n/2")(
      "dim", po::value(&o.dim)->default_value(o.dim), "vector dimension")(
      "nlist", po::value(&o.nlist)->default_value(o.nlist), "clusters for tables 2 and 3")(
      "nlist-list", po::value(&nlist_list)->default_value(nlist_list), "clusters for table 1")(
      "nprobe", po::value(&o.nprobe)->default_value(o.nprobe), "clusters probed in table 1")(
      "nprobe-list", po::value(&nprobe_list)->default_value(nprobe_list),
      "clusters probed in table 2")("queries", po::value(&o.queries)->default_value(o.queries),
                                    "batch size, and the queries recall is measured on")(
      "single-queries", po::value(&o.single_queries)->default_value(o.single_queries),
      "queries timed one at a time (p50, p99)")("k", po::value(&o.k)->default_value(o.k),
                                                "neighbours per query (recall@k)")(
      "iterations", po::value(&o.iterations)->default_value(o.iterations),
      "k-means iterations (ours and FAISS's)")("seed", po::value(&o.seed)->default_value(o.seed),
                                               "data, queries and k-means seed")(
      "components", po::value(&o.components)->default_value(o.components),
      "Gaussian mixture components; 0: n / 1000")("spread",
                                                  po::value(&o.spread)->default_value(o.spread),
                                                  "noise norm around each unit centre")(
      "workdir", po::value(&o.workdir)->default_value(o.workdir),
      "scratch directory for vectors files and indexes (emptied, then removed)")(
      "tables", po::value(&o.tables)->default_value(o.tables), "tables to print, e.g. 2,3");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  if (vm.count("help")) {
    if (mpi.world_rank() == 0) std::cout << options << std::endl;
    return 0;
  }
  po::notify(vm);
  o.nlist_list = ParseList("--nlist-list", nlist_list);
  o.nprobe_list = ParseList("--nprobe-list", nprobe_list);
  if (o.n < 1 || o.dim < 1 || o.nlist < 1 || o.nlist > o.n || o.k < 1 || o.queries < 1 ||
      o.single_queries < 1 || o.iterations < 0) {
    throw launch::UsageError("need n, dim, k, queries, single-queries >= 1 and 1 <= nlist <= n");
  }
  // The database, its copy in the index and the queries' results, before any is generated.
  launch::CheckUsage([&] {
    CheckFitsInMemory("--n " + std::to_string(o.n) + " x --dim " + std::to_string(o.dim),
                      2.0 * static_cast<double>(o.n) * o.dim * sizeof(float));
  });
  RunAnnBenchmark(o, std::cout);
  return 0;
}

}  // namespace
}  // namespace recsys::bench

int main(int argc, char** argv) {
  return recsys::launch::RunMain(
      "recsys_bench_ann", argc, argv,
      [&](recsys::dist::MpiRuntime& mpi) { return recsys::bench::Run(argc, argv, mpi); });
}
