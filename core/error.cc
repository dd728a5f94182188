#include "core/error.h"

#include <cstring>

namespace recsys::detail {

void ThrowError(const char* file, int line, const std::string& message) {
  // Keep only the path below the repository root: "dist/mpi_communicator.cc:42".
  const char* short_file = file;
  for (const char* dir : {"/core/", "/dist/", "/data/", "/models/", "/shards/", "/serve/",
                          "/launch/", "/bench/", "/tests/"}) {
    if (const char* p = std::strstr(file, dir)) {
      short_file = p + 1;
      break;
    }
  }
  throw Error(message + " [" + short_file + ":" + std::to_string(line) + "]");
}

}  // namespace recsys::detail
