// Atomic, durable replacement of files and directories, and the removal of what killed writers
// leave behind.

#include "core/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "core/host_name.h"
#include "tests/test_util.h"

namespace recsys {
namespace {

namespace fs = std::filesystem;
using AtomicFileTest = testing::TempDirTest;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The pid of a process that has exited (a child, reaped).
pid_t DeadPid() {
  const pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  return child;
}

TEST_F(AtomicFileTest, TemporaryPathNamesTheHostAndTheProcess) {
  EXPECT_EQ(TemporaryPath("/x/a.h5"), "/x/a.h5.tmp." + HostName() + "." + std::to_string(getpid()));
}

TEST_F(AtomicFileTest, StaleTemporariesOfDeadProcessesAreRemovedOthersKept) {
  const std::string target = Path("ckpt.h5");
  const std::string dead = target + ".tmp." + HostName() + "." + std::to_string(DeadPid());
  const std::string alive = TemporaryPath(target);  // this process: still running
  const std::string other_host = target + ".tmp.some-other-host." + std::to_string(DeadPid());
  const std::string other_file =
      Path("other.h5.tmp." + HostName() + "." + std::to_string(DeadPid()));
  for (const std::string& path : {dead, alive, other_host, other_file})
    Write(fs::path(path).filename(), "x");
  EXPECT_EQ(RemoveStaleTemporaries(target), 1);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(alive));
  EXPECT_TRUE(fs::exists(other_host)) << "another host's process may still be writing it";
  EXPECT_TRUE(fs::exists(other_file)) << "the temporary of another file";

  // The sweep of a whole folder, sub-folders included, takes every dead process's temporary.
  fs::create_directories(Path("run/checkpoints"));
  const std::string nested =
      Path("run/checkpoints/base.h5.tmp." + HostName() + "." + std::to_string(DeadPid()));
  std::ofstream(nested) << "x";
  EXPECT_EQ(RemoveStaleTemporariesUnder(dir_.string()), 2);
  EXPECT_FALSE(fs::exists(nested));
  EXPECT_FALSE(fs::exists(other_file));
  EXPECT_TRUE(fs::exists(alive));
}

TEST_F(AtomicFileTest, WriteFileAtomicallyReplacesTheWholeFileAndLeavesNoTemporary) {
  WriteFileAtomically(Path("a.md"), "first");
  WriteFileAtomically(Path("a.md"), "second");
  EXPECT_EQ(ReadAll(Path("a.md")), "second");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(AtomicFileTest, ReplaceDirectorySwapsInTheNewOneAndRemovesTheOld) {
  const std::string index = Path("index");
  const std::string staging = StagingDirectory(index);
  EXPECT_EQ(staging, Path("index.partial"));

  // The first build: there is nothing to replace.
  fs::create_directories(staging);
  std::ofstream(staging + "/manifest.h5") << "build 1";
  std::ofstream(staging + "/shard-0-of-2.h5") << "build 1";
  ReplaceDirectory(staging, index);
  EXPECT_FALSE(fs::exists(staging));
  EXPECT_EQ(ReadAll(index + "/manifest.h5"), "build 1");

  // The second build had one shard file: none of the first build's files survive.
  fs::create_directories(staging);
  std::ofstream(staging + "/manifest.h5") << "build 2";
  ReplaceDirectory(staging, index);
  EXPECT_FALSE(fs::exists(staging));
  EXPECT_EQ(ReadAll(index + "/manifest.h5"), "build 2");
  EXPECT_FALSE(fs::exists(index + "/shard-0-of-2.h5"));
}

}  // namespace
}  // namespace recsys
