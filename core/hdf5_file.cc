#include "core/hdf5_file.h"

#include <H5Cpp.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"

namespace recsys {
namespace {

const H5::PredType& NativeType(H5Type type) {
  switch (type) {
    case H5Type::kInt8:
      return H5::PredType::NATIVE_INT8;
    case H5Type::kUInt8:
      return H5::PredType::NATIVE_UINT8;
    case H5Type::kInt16:
      return H5::PredType::NATIVE_INT16;
    case H5Type::kInt32:
      return H5::PredType::NATIVE_INT32;
    case H5Type::kInt64:
      return H5::PredType::NATIVE_INT64;
    case H5Type::kFloat32:
      return H5::PredType::NATIVE_FLOAT;
    case H5Type::kFloat64:
      return H5::PredType::NATIVE_DOUBLE;
  }
  RECSYS_THROW("unknown H5Type " << static_cast<int>(type));
}

const char* TypeName(H5Type type) {
  static const char* kNames[] = {"int8", "uint8", "int16", "int32", "int64", "float32", "float64"};
  return kNames[static_cast<int>(type)];
}

// The H5Type of a stored dataset, or throws for types the project never writes.
H5Type StoredType(const H5::DataSet& ds) {
  H5T_class_t cls = ds.getTypeClass();
  size_t size = ds.getDataType().getSize();
  if (cls == H5T_FLOAT) {
    if (size == 4) return H5Type::kFloat32;
    if (size == 8) return H5Type::kFloat64;
  } else if (cls == H5T_INTEGER) {
    bool is_signed = ds.getIntType().getSign() != H5T_SGN_NONE;
    if (size == 1) return is_signed ? H5Type::kInt8 : H5Type::kUInt8;
    if (size == 2 && is_signed) return H5Type::kInt16;
    if (size == 4 && is_signed) return H5Type::kInt32;
    if (size == 8 && is_signed) return H5Type::kInt64;
  }
  RECSYS_THROW("unsupported HDF5 element type (class " << cls << ", " << size << " bytes)");
}

std::string Normalize(const std::string& name) {
  return name.empty() || name[0] != '/' ? "/" + name : name;
}

// The innermost entry of HDF5's error stack at the last failed call ("data error detected by
// Fletcher32 checksum"): the cause, where the exception's own message names only the API call.
// Recorded by HDF5's automatic error callback, before the C++ wrappers' clean-up calls clear it.
thread_local std::string last_hdf5_cause;

herr_t RecordHdf5Cause(hid_t stack, void*) {
  last_hdf5_cause.clear();
  H5Ewalk2(
      stack, H5E_WALK_UPWARD,
      [](unsigned depth, const H5E_error2_t* error, void* out) -> herr_t {
        if (depth == 0 && error->desc != nullptr) *static_cast<std::string*>(out) = error->desc;
        return 0;
      },
      &last_hdf5_cause);
  return 0;
}

// Runs fn, turning HDF5 C++ exceptions into recsys::Error naming the file, the object and the
// cause.
template <typename Fn>
auto Guard(const std::string& file, const std::string& object, const char* what, Fn&& fn) {
  last_hdf5_cause.clear();
  try {
    return fn();
  } catch (const H5::Exception& e) {
    const std::string cause = last_hdf5_cause;
    RECSYS_THROW(file << ": cannot " << what << " '" << object << "': " << e.getDetailMsg()
                      << (cause.empty() || cause == e.getDetailMsg() ? "" : " (" + cause + ")"));
  }
}

// Chunked layout with HDF5's Fletcher-32 filter, so that a flipped byte in the data fails the
// read instead of changing a result. Chunks of about 1 MiB, whole rows.
H5::DSetCreatPropList ChecksummedLayout(const std::vector<hsize_t>& dims, size_t element_size) {
  H5::DSetCreatPropList props;
  hsize_t row_bytes = element_size;
  for (size_t i = 1; i < dims.size(); ++i) row_bytes *= dims[i];
  std::vector<hsize_t> chunk = dims;
  chunk[0] = std::clamp<hsize_t>((hsize_t{1} << 20) / std::max<hsize_t>(row_bytes, 1), 1, dims[0]);
  props.setChunk(static_cast<int>(chunk.size()), chunk.data());
  props.setFletcher32();
  return props;
}

void InstallHdf5ErrorRecorder() {
  // HDF5 prints its own error stack to stderr by default; our exceptions carry the message and
  // its cause instead.
  static const bool once = [] {
    H5Eset_auto2(H5E_DEFAULT, RecordHdf5Cause, nullptr);
    return true;
  }();
  (void)once;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
struct H5Writer::Impl {
  H5::H5File file;
};

H5Writer::H5Writer(std::string path) : path_(std::move(path)), tmp_path_(TemporaryPath(path_)) {
  InstallHdf5ErrorRecorder();
  RemoveStaleTemporaries(path_);
  impl_ = Guard(path_, tmp_path_, "create", [&] {
    // The 1.8 file format: superblock, object headers (attributes included) and B-trees carry
    // checksums that HDF5 verifies on every read.
    H5::FileAccPropList access;
    access.setLibverBounds(H5F_LIBVER_V18, H5F_LIBVER_LATEST);
    return std::make_unique<Impl>(
        Impl{H5::H5File(tmp_path_, H5F_ACC_TRUNC, H5::FileCreatPropList::DEFAULT, access)});
  });
}

H5Writer::~H5Writer() {
  if (!impl_) return;
  try {
    impl_->file.close();
  } catch (const H5::Exception&) {
  }
  std::remove(tmp_path_.c_str());
}

void H5Writer::WriteRaw(const std::string& name, const void* data,
                        const std::vector<uint64_t>& dims, H5Type type) {
  RECSYS_CHECK(impl_, path_ << ": write after Commit()");
  std::string full = Normalize(name);
  Guard(path_, full, "write", [&] {
    // Create the intermediate groups ("a/b/c": a, then a/b).
    H5::LinkCreatPropList link_props;
    link_props.setCreateIntermediateGroup(true);
    std::vector<hsize_t> h5dims(dims.begin(), dims.end());
    H5::DataSpace space(static_cast<int>(h5dims.size()), h5dims.data());
    uint64_t count = 1;
    for (uint64_t d : dims) count *= d;
    // An empty dataset holds no data to protect (and a chunk cannot have a zero extent).
    const H5::DSetCreatPropList layout = count > 0 && !dims.empty()
                                             ? ChecksummedLayout(h5dims, NativeType(type).getSize())
                                             : H5::DSetCreatPropList::DEFAULT;
    H5::DataSet ds = impl_->file.createDataSet(full, NativeType(type), space, layout,
                                               H5::DSetAccPropList::DEFAULT, link_props);
    if (count > 0) ds.write(data, NativeType(type));
    return 0;
  });
}

void H5Writer::WriteStrings(const std::string& name, const std::vector<std::string>& values) {
  std::vector<int64_t> offsets(values.size() + 1, 0);
  for (size_t i = 0; i < values.size(); ++i) offsets[i + 1] = offsets[i] + values[i].size();
  std::vector<uint8_t> bytes(offsets.back());
  for (size_t i = 0; i < values.size(); ++i)
    std::copy(values[i].begin(), values[i].end(), bytes.begin() + offsets[i]);
  Write(name + "/bytes", bytes);
  Write(name + "/offsets", offsets);
}

namespace {
template <typename Fn>
void WithObject(H5::H5File& file, const std::string& object, Fn&& fn) {
  std::string full = Normalize(object);
  if (full == "/" || file.childObjType(full) == H5O_TYPE_GROUP) {
    H5::Group g = file.openGroup(full);
    fn(static_cast<H5::H5Object&>(g));
  } else {
    H5::DataSet d = file.openDataSet(full);
    fn(static_cast<H5::H5Object&>(d));
  }
}
}  // namespace

void H5Writer::SetAttribute(const std::string& object, const std::string& key,
                            const std::string& value) {
  RECSYS_CHECK(impl_, path_ << ": write after Commit()");
  Guard(path_, object + "@" + key, "write attribute", [&] {
    WithObject(impl_->file, object, [&](H5::H5Object& o) {
      H5::StrType type(H5::PredType::C_S1, value.empty() ? 1 : value.size());
      H5::Attribute a = o.createAttribute(key, type, H5::DataSpace(H5S_SCALAR));
      a.write(type, value.empty() ? std::string(1, '\0') : value);
    });
    return 0;
  });
}

void H5Writer::SetAttribute(const std::string& object, const std::string& key, int64_t value) {
  RECSYS_CHECK(impl_, path_ << ": write after Commit()");
  Guard(path_, object + "@" + key, "write attribute", [&] {
    WithObject(impl_->file, object, [&](H5::H5Object& o) {
      o.createAttribute(key, H5::PredType::NATIVE_INT64, H5::DataSpace(H5S_SCALAR))
          .write(H5::PredType::NATIVE_INT64, &value);
    });
    return 0;
  });
}

void H5Writer::SetAttribute(const std::string& object, const std::string& key, double value) {
  RECSYS_CHECK(impl_, path_ << ": write after Commit()");
  Guard(path_, object + "@" + key, "write attribute", [&] {
    WithObject(impl_->file, object, [&](H5::H5Object& o) {
      o.createAttribute(key, H5::PredType::NATIVE_DOUBLE, H5::DataSpace(H5S_SCALAR))
          .write(H5::PredType::NATIVE_DOUBLE, &value);
    });
    return 0;
  });
}

void H5Writer::SetFormat(const std::string& format, int64_t version) {
  SetAttribute("/", "format", format);
  SetAttribute("/", "format_version", version);
}

void H5Writer::Commit() {
  RECSYS_CHECK(impl_, path_ << ": Commit() called twice");
  Guard(path_, tmp_path_, "flush and close", [&] {
    impl_->file.flush(H5F_SCOPE_GLOBAL);
    impl_->file.close();
    return 0;
  });
  impl_.reset();
  RenameIntoPlace(tmp_path_, path_);
}

// ---------------------------------------------------------------------------------------------
struct H5Reader::Impl {
  H5::H5File file;
};

H5Reader::H5Reader(std::string path) : path_(std::move(path)) {
  InstallHdf5ErrorRecorder();
  RECSYS_CHECK(std::filesystem::exists(path_), path_ << ": no such file");
  bool is_hdf5 = Guard(path_, "/", "probe", [&] { return H5::H5File::isHdf5(path_); });
  RECSYS_CHECK(is_hdf5, path_ << ": not an HDF5 file");
  impl_ = Guard(path_, "/", "open",
                [&] { return std::make_unique<Impl>(Impl{H5::H5File(path_, H5F_ACC_RDONLY)}); });
}

H5Reader::~H5Reader() = default;

bool H5Reader::Has(const std::string& name) const {
  std::string full = Normalize(name);
  // Check each path component: H5Lexists fails on a missing intermediate group.
  size_t pos = 0;
  while ((pos = full.find('/', pos + 1)) != std::string::npos) {
    if (!H5Lexists(impl_->file.getId(), full.substr(0, pos).c_str(), H5P_DEFAULT)) return false;
  }
  return H5Lexists(impl_->file.getId(), full.c_str(), H5P_DEFAULT) > 0;
}

std::vector<uint64_t> H5Reader::Shape(const std::string& name) const {
  std::string full = Normalize(name);
  RECSYS_CHECK(Has(full), path_ << ": missing dataset '" << full << "'");
  return Guard(path_, full, "read shape of", [&] {
    H5::DataSet ds = impl_->file.openDataSet(full);
    H5::DataSpace space = ds.getSpace();
    std::vector<hsize_t> dims(space.getSimpleExtentNdims());
    space.getSimpleExtentDims(dims.data());
    // The files this project writes store every element (no compression), so a shape larger than
    // the bytes stored is a damaged or hostile file: refused before anyone allocates for it.
    uint64_t bytes = ds.getDataType().getSize();
    bool overflow = false;
    for (hsize_t d : dims) overflow |= __builtin_mul_overflow(bytes, d, &bytes);
    RECSYS_CHECK(!overflow && bytes <= ds.getStorageSize(),
                 path_ << ": dataset '" << full << "' declares "
                       << (overflow ? std::string("more than 2^64") : std::to_string(bytes))
                       << " bytes of elements but stores " << ds.getStorageSize()
                       << ": the file is damaged");
    return std::vector<uint64_t>(dims.begin(), dims.end());
  });
}

uint64_t H5Reader::ElementCount(const std::string& name) const {
  uint64_t count = 1;
  for (uint64_t d : Shape(name)) count *= d;
  return count;
}

void H5Reader::ReadRaw(const std::string& name, void* data, uint64_t count, H5Type type) const {
  std::string full = Normalize(name);
  Guard(path_, full, "read", [&] {
    H5::DataSet ds = impl_->file.openDataSet(full);
    H5Type stored = StoredType(ds);
    RECSYS_CHECK(stored == type, path_ << ": dataset '" << full << "' holds " << TypeName(stored)
                                       << ", expected " << TypeName(type));
    if (count > 0) ds.read(data, NativeType(type));
    return 0;
  });
}

uint64_t H5Reader::CheckedRowSize(const std::string& name, uint64_t begin, uint64_t count) const {
  const std::string full = Normalize(name);
  const std::vector<uint64_t> shape = Shape(full);
  // Written so that begin + count cannot wrap around.
  RECSYS_CHECK(!shape.empty() && begin <= shape[0] && count <= shape[0] - begin,
               path_ << ": " << count << " rows from row " << begin << " of '" << full
                     << "' are outside its " << (shape.empty() ? 0 : shape[0]) << " rows");
  uint64_t row_size = 1;
  for (size_t i = 1; i < shape.size(); ++i) row_size *= shape[i];
  return row_size;
}

void H5Reader::ReadRowsRaw(const std::string& name, uint64_t begin, uint64_t count, void* data,
                           H5Type type) const {
  const std::string full = Normalize(name);
  const std::vector<uint64_t> shape = Shape(full);
  Guard(path_, full, "read rows of", [&] {
    H5::DataSet ds = impl_->file.openDataSet(full);
    H5Type stored = StoredType(ds);
    RECSYS_CHECK(stored == type, path_ << ": dataset '" << full << "' holds " << TypeName(stored)
                                       << ", expected " << TypeName(type));
    if (count == 0) return 0;
    std::vector<hsize_t> offset(shape.size(), 0), extent(shape.begin(), shape.end());
    offset[0] = begin;
    extent[0] = count;
    H5::DataSpace file_space = ds.getSpace();
    file_space.selectHyperslab(H5S_SELECT_SET, extent.data(), offset.data());
    H5::DataSpace memory_space(static_cast<int>(extent.size()), extent.data());
    ds.read(data, NativeType(type), memory_space, file_space);
    return 0;
  });
}

std::vector<std::string> H5Reader::ReadStrings(const std::string& name) const {
  const std::string column = Normalize(name);
  const std::string where = path_ + ": string column '" + name + "' is corrupt: ";
  RECSYS_CHECK(Shape(column + "/bytes").size() == 1 && Shape(column + "/offsets").size() == 1,
               where << "'bytes' and 'offsets' must be 1-D datasets");
  const auto bytes = Read<uint8_t>(column + "/bytes");
  const auto offsets = Read<int64_t>(column + "/offsets");
  RECSYS_CHECK(!offsets.empty(), where << "'offsets' is empty (expected one more than the rows)");
  RECSYS_CHECK(offsets.front() == 0, where << "offsets[0] is " << offsets.front() << ", not 0");
  // Check every offset before reading any string: one past the bytes would read out of bounds.
  const auto size = static_cast<int64_t>(bytes.size());
  for (size_t i = 0; i + 1 < offsets.size(); ++i) {
    RECSYS_CHECK(offsets[i] <= offsets[i + 1],
                 where << "row " << i << ": offsets decrease (offsets[" << i << "] = " << offsets[i]
                       << ", offsets[" << i + 1 << "] = " << offsets[i + 1] << ")");
    RECSYS_CHECK(offsets[i + 1] <= size, where << "row " << i << " ends at offsets[" << i + 1
                                               << "] = " << offsets[i + 1] << ", past the " << size
                                               << " stored bytes");
  }
  RECSYS_CHECK(offsets.back() == size, where << "the last offset is " << offsets.back() << ", but "
                                             << size << " bytes are stored");
  std::vector<std::string> out(offsets.size() - 1);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].assign(reinterpret_cast<const char*>(bytes.data()) + offsets[i],
                  offsets[i + 1] - offsets[i]);
  }
  return out;
}

namespace {
template <typename Fn>
void WithObject(const H5::H5File& file, const std::string& object, Fn&& fn) {
  WithObject(const_cast<H5::H5File&>(file), object, fn);
}
}  // namespace

bool H5Reader::HasAttribute(const std::string& object, const std::string& key) const {
  bool found = false;
  Guard(path_, object + "@" + key, "look up attribute", [&] {
    WithObject(impl_->file, object, [&](H5::H5Object& o) { found = o.attrExists(key); });
    return 0;
  });
  return found;
}

void H5Reader::CheckFormat(const std::string& format, int64_t version) const {
  RECSYS_CHECK(HasAttribute("/", "format") && StringAttribute("/", "format") == format,
               path_ << ": not a " << format << " file (no format=" << format << " attribute)");
  const int64_t stored = Int64Attribute("/", "format_version");
  RECSYS_CHECK(stored == version, path_ << ": " << format << " format version " << stored
                                        << ", this build reads version " << version);
}

std::string H5Reader::StringAttribute(const std::string& object, const std::string& key) const {
  RECSYS_CHECK(HasAttribute(object, key),
               path_ << ": missing attribute '" << key << "' on '" << Normalize(object) << "'");
  std::string value;
  Guard(path_, object + "@" + key, "read attribute", [&] {
    WithObject(impl_->file, object, [&](H5::H5Object& o) {
      H5::Attribute a = o.openAttribute(key);
      a.read(a.getStrType(), value);
    });
    return 0;
  });
  // Empty strings are stored as one NUL byte.
  while (!value.empty() && value.back() == '\0') value.pop_back();
  return value;
}

int64_t H5Reader::Int64Attribute(const std::string& object, const std::string& key) const {
  RECSYS_CHECK(HasAttribute(object, key),
               path_ << ": missing attribute '" << key << "' on '" << Normalize(object) << "'");
  int64_t value = 0;
  Guard(path_, object + "@" + key, "read attribute", [&] {
    WithObject(impl_->file, object, [&](H5::H5Object& o) {
      o.openAttribute(key).read(H5::PredType::NATIVE_INT64, &value);
    });
    return 0;
  });
  return value;
}

double H5Reader::DoubleAttribute(const std::string& object, const std::string& key) const {
  RECSYS_CHECK(HasAttribute(object, key),
               path_ << ": missing attribute '" << key << "' on '" << Normalize(object) << "'");
  double value = 0;
  Guard(path_, object + "@" + key, "read attribute", [&] {
    WithObject(impl_->file, object, [&](H5::H5Object& o) {
      o.openAttribute(key).read(H5::PredType::NATIVE_DOUBLE, &value);
    });
    return 0;
  });
  return value;
}

}  // namespace recsys
