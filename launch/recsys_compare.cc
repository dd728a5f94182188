// recsys_compare: the ranking comparison of chosen ranker checkpoints on a run's test queries.
//   mpirun -np N recsys_compare --run RUN [--name NAME] CHECKPOINT...
// Writes RUN/results/NAME.md, .csv and .png (serve/ranking_report.h).

#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>

#include "dist/make_communicator.h"
#include "launch/main_util.h"
#include "models/recall_eval.h"
#include "serve/rank_eval.h"
#include "serve/ranking_report.h"

namespace po = boost::program_options;

namespace recsys::launch {
namespace {

constexpr char kUsage[] =
    "Usage: mpirun -np N recsys_compare --run RUN [OPTIONS] CHECKPOINT...\n"
    "Ranks the test queries' candidates from the run's deployed recall stage (the fused top M of\n"
    "the hybrid recall) by each ranker checkpoint (recsys_train --stage rank writes them as\n"
    "RUN/checkpoints/ranker_<name>.h5), next to the candidate order, BM25 alone and popularity,\n"
    "and writes the comparison as RUN/results/NAME.md, NAME.csv and NAME.png.\n";

int Run(int argc, char** argv, dist::MpiRuntime& mpi) {
  serve::RankEvalOptions e;
  std::string name = "ranking_comparison", candidates = "100,1000", relevant = "E", gains;
  // clang-format off
  dist::CollectiveTimeouts timeouts;
  po::options_description options("Options");
  options.add_options()
      ("help,h", "show this help")
      ("run", po::value(&e.out)->required(), "run folder written by recsys_train (RUN/index, "
       "the two-tower checkpoint it was built from)")
      ("data", po::value(&e.data), "the dataset the run was built from (default RUN/dataset.h5)")
      ("name", po::value(&name)->default_value(name), "file name of the report, without suffix")
      ("eval-candidates", po::value(&candidates)->default_value(candidates),
       "the M of each block of rows (fused top M of the hybrid candidates)")
      ("nprobe", po::value(&e.recall.nprobe)->default_value(e.recall.nprobe),
       "clusters of the vector index probed per query")
      ("lexical-weight", po::value(&e.recall.fusion.lexical_weight)
           ->default_value(e.recall.fusion.lexical_weight),
       "hybrid: weight of the bm25 list against the dense list's 1")
      ("feature-buckets", po::value(&e.features.num_buckets)
           ->default_value(e.features.num_buckets),
       "hashed id space of the ranking features (as the rank stage's --feature-buckets)")
      ("relevant-grade", po::value(&relevant)->default_value(relevant),
       "the lowest grade counted as relevant: E | S | C")
      ("gains", po::value(&gains), "NDCG gains per grade, e.g. 'E=1,S=0.1,C=0.01,I=0' (default)")
      ("threads", po::value(&e.threads)->default_value(e.threads), "XGBoost prediction threads");
  // clang-format on
  AddCollectiveTimeoutOption(options, &timeouts);
  if (!ParseArguments(argc, argv, options, &e.checkpoints, kUsage, mpi.world_rank() == 0)) return 0;
  if (e.checkpoints.empty()) throw UsageError("no ranker checkpoint given");
  if (name.empty() || name.find('/') != std::string::npos) {
    throw UsageError("--name must be a file name, not '" + name + "'");
  }
  if (e.data.empty()) e.data = (std::filesystem::path(e.out) / "dataset.h5").string();
  e.relevant_from = ParseRelevantGrade(relevant);
  try {
    e.candidates.clear();
    for (int m : models::ParseCutoffs(candidates)) e.candidates.push_back(m);
    if (!gains.empty()) e.gains = models::ParseGradeGains(gains);
    serve::CheckRankEvalOptions(e);
  } catch (const Error& error) {
    throw UsageError(error.what());
  }
  auto comm = dist::MakeCommunicator(dist::Backend::kMpi, MPI_COMM_WORLD, timeouts);
  const serve::RankEvalResult result = serve::RunRankEval(e, *comm);
  if (comm->rank() == 0) {
    const std::string results = (std::filesystem::path(e.out) / "results").string();
    serve::WriteRankingReport(result.rows, results, name);
    std::cout << serve::FormatRankingTable(result.rows) << "wrote " << results << "/" << name
              << ".{md,csv,png}" << std::endl;
  }
  return 0;
}

}  // namespace
}  // namespace recsys::launch

int main(int argc, char** argv) {
  return recsys::launch::RunMain("recsys_compare", argc, argv, [&](recsys::dist::MpiRuntime& mpi) {
    return recsys::launch::Run(argc, argv, mpi);
  });
}
