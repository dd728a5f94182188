#pragma once
// This machine's name, for messages and for telling hosts apart in shared folders.

#include <unistd.h>

#include <climits>
#include <string>

namespace recsys {

// gethostname(), or "unknown-host" when it fails.
inline std::string HostName() {
  char name[HOST_NAME_MAX + 1] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "unknown-host";
  return name;
}

}  // namespace recsys
