#include "core/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/error.h"
#include "core/host_name.h"
#include "core/log.h"

namespace recsys {
namespace fs = std::filesystem;
namespace {

std::string Parent(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

}  // namespace

std::string TemporaryPath(const std::string& path) {
  return path + ".tmp." + HostName() + "." + std::to_string(getpid());
}

namespace {

// The pid in a temporary file name made on this host ("<file>.tmp.<host>.<pid>"), or 0.
long TemporaryOwner(const std::string& name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos) return 0;
  const std::string infix = ".tmp." + HostName();
  if (dot < infix.size() || name.compare(dot - infix.size(), infix.size(), infix) != 0) return 0;
  char* end = nullptr;
  const long pid = std::strtol(name.c_str() + dot + 1, &end, 10);
  return *end == '\0' && pid > 0 ? pid : 0;
}

// Removes entry when it is a temporary file of a process of this host that no longer runs.
bool RemoveIfStale(const fs::path& entry) {
  const long pid = TemporaryOwner(entry.filename().string());
  if (pid == 0 || kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) return false;
  std::error_code ec;
  if (fs::remove_all(entry, ec) == 0 || ec) return false;
  RECSYS_INFO("removed " << entry.string() << ", left by process " << pid
                         << " that no longer runs");
  return true;
}

}  // namespace

int RemoveStaleTemporaries(const std::string& path) {
  const std::string prefix = fs::path(path).filename().string() + ".tmp.";
  std::error_code ec;
  int removed = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(Parent(path), ec)) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) removed += RemoveIfStale(entry);
  }
  return removed;
}

int RemoveStaleTemporariesUnder(const std::string& dir) {
  std::vector<fs::path> entries;  // collected first: removing while iterating is undefined
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    entries.push_back(it->path());
  }
  int removed = 0;
  for (const fs::path& entry : entries) removed += RemoveIfStale(entry);
  return removed;
}

void SyncPath(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  RECSYS_CHECK(fd >= 0, path << ": cannot open to sync: " << std::strerror(errno));
  const int rc = fsync(fd);
  const int error = errno;
  close(fd);
  RECSYS_CHECK(rc == 0, path << ": fsync failed: " << std::strerror(error));
}

void RenameIntoPlace(const std::string& tmp, const std::string& path) {
  try {
    SyncPath(tmp);
  } catch (const Error&) {
    std::remove(tmp.c_str());
    throw;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    RECSYS_THROW(path << ": cannot rename the finished file into place: " << ec.message());
  }
  SyncPath(Parent(path));
}

void WriteFileAtomically(const std::string& path, const std::string& content) {
  RemoveStaleTemporaries(path);
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

std::string StagingDirectory(const std::string& dir) {
  return (fs::path(dir).parent_path() / (fs::path(dir).filename().string() + ".partial")).string();
}

void ReplaceDirectory(const std::string& staging, const std::string& dir) {
  const std::string parent = Parent(dir);
  SyncPath(staging);
  if (!fs::exists(dir)) {
    std::error_code ec;
    fs::rename(staging, dir, ec);
    RECSYS_CHECK(!ec, dir << ": cannot rename " << staging << " into place: " << ec.message());
  } else {
    // Atomic exchange: dir is the new directory and staging the old one at every instant.
    RECSYS_CHECK(renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0,
                 dir << ": cannot exchange it with " << staging << ": " << std::strerror(errno));
    SyncPath(parent);
    std::error_code ec;
    fs::remove_all(staging, ec);
    if (ec) RECSYS_WARN("cannot remove the replaced " << staging << ": " << ec.message());
  }
  SyncPath(parent);
}

}  // namespace recsys
