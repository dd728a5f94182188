#include "core/atomic_file.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace recsys {

std::string TemporaryPath(const std::string& path) {
  return path + ".tmp." + std::to_string(getpid());
}

void RenameIntoPlace(const std::string& tmp, const std::string& path) {
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    RECSYS_THROW(path << ": cannot rename the finished file into place: " << ec.message());
  }
}

void WriteFileAtomically(const std::string& path, const std::string& content) {
  const std::string tmp = TemporaryPath(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    RECSYS_CHECK(out, tmp << ": cannot open for writing");
    out << content;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      RECSYS_THROW(tmp << ": write failed");
    }
  }
  RenameIntoPlace(tmp, path);
}

}  // namespace recsys
