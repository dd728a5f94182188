// main() for the MPI test binaries (see recsys_add_mpi_test in tests/CMakeLists.txt): every rank
// runs every test. Rank 0 keeps GoogleTest's usual output; the other ranks print only their
// failures, each line prefixed with their rank. The exit code is non-zero on every rank when any
// rank failed, so mpiexec and ctest see a failure that happened on rank 3 only.
//
// With several ranks, the first failed assertion on any rank ends the whole job (MPI_Abort)
// right after it is printed: a rank that failed may skip collectives the others are waiting in,
// and the test would otherwise hang until ctest's timeout instead of failing.

#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdio>
#include <exception>
#include <string>

#include "dist/communicator.h"
#include "dist/mpi_communicator.h"
#include "dist/mpi_runtime.h"

namespace {

class RankFailurePrinter : public testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : prefix_("[rank " + std::to_string(rank) + "] ") {}

  void OnTestPartResult(const testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::string text = prefix_ + (result.file_name() ? result.file_name() : "unknown file") + ":" +
                       std::to_string(result.line_number()) + ": Failure\n" + prefix_;
    for (const char* c = result.message(); *c != '\0'; ++c) {
      text += *c;
      if (*c == '\n' && c[1] != '\0') text += prefix_;
    }
    // One write per failure, so lines from different ranks do not interleave mid-line.
    std::fprintf(stderr, "%s\n", text.c_str());
    std::fflush(stderr);
  }

  void OnTestEnd(const testing::TestInfo& info) override {
    if (!info.result()->Failed()) return;
    std::fprintf(stderr, "%sFAILED %s.%s\n", prefix_.c_str(), info.test_suite_name(), info.name());
    std::fflush(stderr);
  }

 private:
  std::string prefix_;
};

class AbortOnFailure : public testing::EmptyTestEventListener {
 public:
  explicit AbortOnFailure(int rank) : rank_(rank) {}

  void OnTestPartResult(const testing::TestPartResult& result) override {
    if (!result.failed()) return;
    // Not UnitTest::current_test_info(): GoogleTest holds its lock while it reports a result.
    std::fprintf(stderr,
                 "mpi_test_main: assertion failed on rank %d at %s:%d; aborting every rank\n",
                 rank_, result.file_name() ? result.file_name() : "?", result.line_number());
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }

 private:
  int rank_;
};

}  // namespace

int main(int argc, char** argv) {
  try {
    recsys::dist::MpiRuntime mpi(&argc, &argv);
    testing::InitGoogleTest(&argc, argv);
    if (mpi.world_rank() != 0) {
      testing::TestEventListeners& listeners = testing::UnitTest::GetInstance()->listeners();
      delete listeners.Release(listeners.default_result_printer());
      listeners.Append(new RankFailurePrinter(mpi.world_rank()));
    }
    // Appended last, so the failure is printed before the job ends.
    if (mpi.world_size() > 1) {
      testing::UnitTest::GetInstance()->listeners().Append(new AbortOnFailure(mpi.world_rank()));
    }
    const int local_failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
    recsys::dist::MpiCommunicator world(MPI_COMM_WORLD);
    const int failed_ranks = recsys::dist::AllReduceValue(world, local_failed);
    if (failed_ranks > 0 && mpi.world_rank() == 0) {
      std::fprintf(stderr, "%d of %d ranks had failing tests\n", failed_ranks, mpi.world_size());
    }
    return failed_ranks > 0 ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mpi_test_main: %s\n", e.what());
    return 2;
  }
}
