#pragma once
// What every executable's main() shares: MPI start-up, the rank tag on log lines, and the
// mapping of exceptions to a one-line message and an exit code.

#include <boost/program_options.hpp>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/dataset.h"
#include "dist/collective_watchdog.h"
#include "dist/mpi_runtime.h"

namespace recsys::launch {

// Bad command-line usage. Every rank parses the same arguments, so every rank throws it the same
// way: only rank 0 prints it, and all ranks exit with code 2 without aborting the job.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(message) {}
};

// Runs checks of flag values (core/numeric_checks.h, the libraries' option checks) and turns the
// recsys::Error they throw into a UsageError (exit code 2). Not collective: every rank runs the
// same checks on the same flags.
void CheckUsage(const std::function<void()>& checks);

// Parses the command line: the named options, and the arguments without a name into *arguments.
// On --help prints usage and the options (when print) and returns false.
bool ParseArguments(int argc, char** argv,
                    const boost::program_options::options_description& options,
                    std::vector<std::string>* arguments, const char* usage, bool print);

// "a, b,c" -> {"a", "b", "c"} (spaces dropped, empty items skipped).
std::vector<std::string> SplitList(const std::string& text);

// Adds --collective-timeout (dist::ParseCollectiveTimeouts syntax, default default_seconds) to
// options; the parsed value lands in *timeouts when the
// options are notified, and a bad one is a UsageError.
void AddCollectiveTimeoutOption(boost::program_options::options_description& options,
                                dist::CollectiveTimeouts* timeouts,
                                int default_seconds = dist::CollectiveTimeouts::kDefaultSeconds);

// --relevant-grade's letter: E, S or C; UsageError otherwise.
data::Grade ParseRelevantGrade(const std::string& letter);

// Starts MPI, tags log lines with the rank when there are several, and runs body. Exit codes:
// body's result; 2 for UsageError and Boost.Program_options errors; 1 for any other exception,
// after printing "PROGRAM: error: MESSAGE". With several ranks, such an error on one rank aborts
// the whole job (MPI_Abort): the others may be blocked in a collective and would hang.
int RunMain(const char* program, int argc, char** argv,
            const std::function<int(dist::MpiRuntime& mpi)>& body);

}  // namespace recsys::launch
