#include "launch/main_util.h"

#include <mpi.h>

#include <boost/program_options/errors.hpp>
#include <cstdio>
#include <sstream>

#include "core/log.h"

namespace recsys::launch {

bool ParseArguments(int argc, char** argv,
                    const boost::program_options::options_description& options,
                    std::vector<std::string>* arguments, const char* usage, bool print) {
  namespace po = boost::program_options;
  po::options_description hidden;
  hidden.add_options()("argument", po::value(arguments));
  po::positional_options_description positional;
  positional.add("argument", -1);
  po::options_description all;
  all.add(options).add(hidden);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
  if (vm.count("help")) {
    if (print) std::printf("%s\n%s\n", usage, (std::ostringstream() << options).str().c_str());
    return false;
  }
  po::notify(vm);
  return true;
}

void CheckUsage(const std::function<void()>& checks) {
  try {
    checks();
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  for (char ch : text + ",") {
    if (ch == ',') {
      if (!item.empty()) out.push_back(item);
      item.clear();
    } else if (ch != ' ') {
      item += ch;
    }
  }
  return out;
}

void AddCollectiveTimeoutOption(boost::program_options::options_description& options,
                                dist::CollectiveTimeouts* timeouts, int default_seconds) {
  namespace po = boost::program_options;
  const std::string fallback = std::to_string(default_seconds);
  options.add_options()(
      "collective-timeout",
      po::value<std::string>()->default_value(fallback)->notifier([timeouts](const std::string& v) {
        try {
          *timeouts = dist::ParseCollectiveTimeouts(v);
        } catch (const Error& e) {
          throw UsageError(std::string("--collective-timeout: ") + e.what());
        }
      }),
      "seconds a collective waits for the other ranks before the job ends with an error naming "
      "the ranks that never arrived (a stopped or dead rank); 0 waits forever. Per kind: "
      "'300,alltoall=600,barrier=60' (kinds: allreduce, broadcast, gather, allgather, alltoall, "
      "barrier). Set it above the longest step one rank does alone.");
}

data::Grade ParseRelevantGrade(const std::string& letter) {
  if (letter == "E") return data::Grade::kExact;
  if (letter == "S") return data::Grade::kSubstitute;
  if (letter == "C") return data::Grade::kComplement;
  throw UsageError("--relevant-grade must be E, S or C, not '" + letter + "'");
}

int RunMain(const char* program, int argc, char** argv,
            const std::function<int(dist::MpiRuntime& mpi)>& body) {
  try {
    dist::MpiRuntime mpi(&argc, &argv);
    if (mpi.world_size() > 1) SetLogTag("r" + std::to_string(mpi.world_rank()));
    try {
      return body(mpi);
    } catch (const UsageError& e) {
      if (mpi.world_rank() == 0) std::fprintf(stderr, "%s: %s (see --help)\n", program, e.what());
      return 2;
    } catch (const boost::program_options::error& e) {
      if (mpi.world_rank() == 0) std::fprintf(stderr, "%s: %s (see --help)\n", program, e.what());
      return 2;
    } catch (const std::exception& e) {
      if (mpi.world_size() > 1) {
        std::fprintf(stderr, "%s: error on rank %d: %s\n", program, mpi.world_rank(), e.what());
        std::fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, 1);
      }
      std::fprintf(stderr, "%s: error: %s\n", program, e.what());
      return 1;
    }
  } catch (const std::exception& e) {
    // MPI itself failed to start or to finish.
    std::fprintf(stderr, "%s: error: %s\n", program, e.what());
    return 1;
  }
}

}  // namespace recsys::launch
