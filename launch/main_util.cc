#include "launch/main_util.h"

#include <mpi.h>

#include <boost/program_options/errors.hpp>
#include <cstdio>

#include "core/log.h"

namespace recsys::launch {

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
