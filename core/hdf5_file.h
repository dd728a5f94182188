#pragma once
// Thin helpers over the HDF5 C++ API for the project's files (dataset.h5, checkpoints, vectors,
// index shards). Paths inside a file use '/' ("products/price"); groups are created on demand.
// Every HDF5 failure becomes recsys::Error naming the file and the object.
//
// Strings are stored as a group holding "bytes" (uint8, all strings concatenated) and "offsets"
// (int64, size n + 1): compact and fast for millions of titles, and trivially sliced.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace recsys {

// Element types the helpers read and write.
enum class H5Type { kInt8, kUInt8, kInt16, kInt32, kInt64, kFloat32, kFloat64 };

template <typename T>
constexpr H5Type H5TypeOf();
template <>
constexpr H5Type H5TypeOf<int8_t>() {
  return H5Type::kInt8;
}
template <>
constexpr H5Type H5TypeOf<uint8_t>() {
  return H5Type::kUInt8;
}
template <>
constexpr H5Type H5TypeOf<int16_t>() {
  return H5Type::kInt16;
}
template <>
constexpr H5Type H5TypeOf<int32_t>() {
  return H5Type::kInt32;
}
template <>
constexpr H5Type H5TypeOf<int64_t>() {
  return H5Type::kInt64;
}
template <>
constexpr H5Type H5TypeOf<float>() {
  return H5Type::kFloat32;
}
template <>
constexpr H5Type H5TypeOf<double>() {
  return H5Type::kFloat64;
}

// Writes one HDF5 file atomically and durably: everything goes to TemporaryPath(path)
// (core/atomic_file.h; stale temporaries of dead writers are removed first); Commit() flushes,
// closes, fsyncs and renames it onto path. Destroyed without Commit() (an exception on the way),
// the temporary file is removed and nothing appears under the final name. Not collective: one
// rank writes a given file.
//
// Checksums: every non-empty dataset is chunked with HDF5's Fletcher-32 filter, and the file uses
// the 1.8 format, whose metadata (attributes included) carries checksums; HDF5 verifies both on
// every read, so a flipped byte anywhere fails the read with an error naming the object.
class H5Writer {
 public:
  explicit H5Writer(std::string path);
  ~H5Writer();
  H5Writer(const H5Writer&) = delete;
  H5Writer& operator=(const H5Writer&) = delete;

  // A 1-D dataset of values.size() elements.
  template <typename T>
  void Write(const std::string& name, const std::vector<T>& values) {
    WriteRaw(name, values.data(), {values.size()}, H5TypeOf<T>());
  }
  // An n-D dataset; data holds the product of dims elements, row-major.
  template <typename T>
  void Write(const std::string& name, const T* data, const std::vector<uint64_t>& dims) {
    WriteRaw(name, data, dims, H5TypeOf<T>());
  }
  void WriteStrings(const std::string& name, const std::vector<std::string>& values);

  // Attributes on an existing object ("" or "/" is the file's root group).
  void SetAttribute(const std::string& object, const std::string& key, const std::string& value);
  void SetAttribute(const std::string& object, const std::string& key, int64_t value);
  void SetAttribute(const std::string& object, const std::string& key, double value);

  // Marks the file as one of the project's formats: root attributes format and format_version.
  void SetFormat(const std::string& format, int64_t version);

  void Commit();
  const std::string& path() const { return path_; }

 private:
  void WriteRaw(const std::string& name, const void* data, const std::vector<uint64_t>& dims,
                H5Type type);
  struct Impl;
  std::string path_, tmp_path_;
  std::unique_ptr<Impl> impl_;
};

// Reads an HDF5 file. Opening a missing file, or one that is not HDF5, throws naming the path.
class H5Reader {
 public:
  explicit H5Reader(std::string path);
  ~H5Reader();
  H5Reader(const H5Reader&) = delete;
  H5Reader& operator=(const H5Reader&) = delete;

  bool Has(const std::string& name) const;
  // Dimensions of a dataset.
  std::vector<uint64_t> Shape(const std::string& name) const;

  // A whole dataset, flattened row-major; throws if the stored type is not exactly T.
  template <typename T>
  std::vector<T> Read(const std::string& name) const {
    std::vector<T> out(ElementCount(name));
    ReadRaw(name, out.data(), out.size(), H5TypeOf<T>());
    return out;
  }
  // Rows [begin, begin + count) along the first dimension of a dataset (1-D or n-D),
  // flattened row-major: how a rank reads its slice of a large file.
  // Throws naming the file unless the rows lie inside the dataset (before allocating anything).
  template <typename T>
  std::vector<T> ReadRows(const std::string& name, uint64_t begin, uint64_t count) const {
    std::vector<T> out(count * CheckedRowSize(name, begin, count));
    ReadRowsRaw(name, begin, count, out.data(), H5TypeOf<T>());
    return out;
  }
  std::vector<std::string> ReadStrings(const std::string& name) const;

  std::string StringAttribute(const std::string& object, const std::string& key) const;
  int64_t Int64Attribute(const std::string& object, const std::string& key) const;
  double DoubleAttribute(const std::string& object, const std::string& key) const;
  bool HasAttribute(const std::string& object, const std::string& key) const;
  // Throws naming the file unless H5Writer::SetFormat(format, version) marked it.
  void CheckFormat(const std::string& format, int64_t version) const;

  const std::string& path() const { return path_; }

 private:
  uint64_t ElementCount(const std::string& name) const;
  // Elements per row of a dataset; throws unless rows [begin, begin + count) lie inside it.
  uint64_t CheckedRowSize(const std::string& name, uint64_t begin, uint64_t count) const;
  void ReadRaw(const std::string& name, void* data, uint64_t count, H5Type type) const;
  void ReadRowsRaw(const std::string& name, uint64_t begin, uint64_t count, void* data,
                   H5Type type) const;
  struct Impl;
  std::string path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace recsys
