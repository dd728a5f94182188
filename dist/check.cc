#include "dist/check.h"

#include <cctype>

#include "dist/process_env.h"

namespace recsys::dist::detail {

std::string Where() {
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  std::string where = "rank ? (MPI not running)";
  if (initialized && !finalized) {
    int rank = -1;
    int size = -1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    where = "rank " + std::to_string(rank) + " of " + std::to_string(size);
  }
  return where + " on host " + HostName();
}

std::string CallName(const char* call_text) {
  std::string name;
  for (const char* c = call_text; *c != '\0' && *c != '('; ++c) {
    if (!std::isspace(static_cast<unsigned char>(*c))) name += *c;
  }
  return name;
}

void ThrowMpiError(const char* call_text, int code, const char* file, int line) {
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) {
    length = 0;
  }
  const std::string error =
      length > 0 ? std::string(text, length) : "unknown MPI error code " + std::to_string(code);
  ::recsys::detail::ThrowError(file, line,
                               CallName(call_text) + " failed: " + error + " (" + Where() + ")");
}

void CheckRoot(const char* op, int root, int size) {
  RECSYS_DIST_CHECK(root >= 0 && root < size, op,
                    "root " << root << " is out of range [0, " << size << ")");
}

void CheckCounts(const char* op, const char* name, const std::vector<int64_t>& counts, int size) {
  RECSYS_DIST_CHECK(
      counts.size() == static_cast<size_t>(size), op,
      name << " has " << counts.size() << " entries, the communicator has " << size << " ranks");
  for (size_t r = 0; r < counts.size(); ++r) {
    RECSYS_DIST_CHECK(counts[r] >= 0, op, name << "[" << r << "] = " << counts[r] << " < 0");
  }
}

}  // namespace recsys::dist::detail
