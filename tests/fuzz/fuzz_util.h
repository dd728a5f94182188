#pragma once
// What the fuzz targets share: a scratch file for the input, and the checks a target applies
// to the errors it expects. A target aborts (a crash to libFuzzer and to the replay test) when
// an invariant fails.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"

namespace recsys::fuzz {

// A file in the temporary folder, named after the process and the target; removed at exit.
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& name)
      : path_((std::filesystem::temp_directory_path() /
               ("recsys_fuzz_" + std::to_string(getpid()) + "_" + name))
                  .string()) {}
  ~ScratchFile() { std::remove(path_.c_str()); }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  const std::string& path() const { return path_; }
  void Write(const uint8_t* data, size_t size) const {
    std::ofstream(path_, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }

 private:
  std::string path_;
};

// Aborts with the message unless condition holds.
inline void Require(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "fuzz invariant failed: %s\n", what);
  std::abort();
}

// The error a bad input may end in: a complete message of bounded length with no NUL byte (input
// is quoted in excerpts only).
inline void CheckError(const Error& e) {
  const size_t length = std::strlen(e.what());
  Require(length > 0 && length < 4096, "error message empty or longer than 4096 bytes");
}

// Reads fuzz bytes in order; past the end it yields zeros.
class ByteSource {
 public:
  ByteSource(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  int64_t Int64() {
    uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value |= static_cast<uint64_t>(Byte()) << (8 * i);
    return static_cast<int64_t>(value);
  }
  // The bytes not read yet.
  const uint8_t* rest() const { return data_ + pos_; }
  size_t rest_size() const { return size_ - pos_; }
  void Skip(size_t n) { pos_ += std::min(n, size_ - pos_); }

 private:
  const uint8_t* data_;
  size_t size_, pos_ = 0;
};

}  // namespace recsys::fuzz
