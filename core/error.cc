#include "core/error.h"

namespace recsys::detail {

void ThrowError(const char* file, int line, const std::string& message) {
  // file is relative to the repository (-fmacro-prefix-map in CMakeLists.txt).
  throw Error(message + " [" + file + ":" + std::to_string(line) + "]");
}

}  // namespace recsys::detail
