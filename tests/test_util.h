#pragma once
// Helpers shared by the test binaries.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/error.h"
#include "dist/communicator.h"

namespace recsys::testing {

// Gives each test a fresh temporary directory, removed afterwards.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("recsys_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The path of name inside the directory.
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  // Writes content (bytes as given) to name inside the directory; returns its path.
  std::string Write(const std::string& name, const std::string& content) const {
    std::ofstream(Path(name), std::ios::binary) << content;
    return Path(name);
  }

  std::filesystem::path dir_;
};

// COLLECTIVE over comm: a temporary directory path for the whole job, named by rank 0 (prefix and
// its process id) and the same on every rank. Not created.
inline std::string SharedTempDir(dist::Communicator& comm, const std::string& prefix) {
  std::vector<uint8_t> name;
  if (comm.rank() == 0) {
    const std::string dir =
        (std::filesystem::temp_directory_path() / (prefix + "_" + std::to_string(getpid())))
            .string();
    name.assign(dir.begin(), dir.end());
  }
  dist::Broadcast(comm, name, 0);
  return std::string(name.begin(), name.end());
}

// The message of the recsys::Error that body throws ("" when it throws none).
inline std::string ErrorOf(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Succeeds when message is non-empty and contains every part.
inline ::testing::AssertionResult Mentions(const std::string& message,
                                           std::initializer_list<std::string> parts) {
  if (message.empty()) return ::testing::AssertionFailure() << "no error was thrown";
  for (const std::string& part : parts) {
    if (message.find(part) == std::string::npos) {
      return ::testing::AssertionFailure() << "'" << part << "' is not in: " << message;
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace recsys::testing
