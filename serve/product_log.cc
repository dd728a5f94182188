#include "serve/product_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <utility>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/stable_hash.h"

namespace recsys::serve {
namespace fs = std::filesystem;
namespace {

constexpr char kMagic[4] = {'R', 'P', 'L', '1'};
constexpr int64_t kHeaderBytes = 16;

bool SameFloat(float a, float b) { return a == b || (std::isnan(a) && std::isnan(b)); }

// Little-endian encoding, whatever the host's byte order.
void PutU32(uint32_t v, std::string* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutU64(uint64_t v, std::string* out) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutF32(float v, std::string* out) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  PutU32(bits, out);
}
void PutString(const std::string& s, std::string* out) {
  PutU32(static_cast<uint32_t>(s.size()), out);
  out->append(s);
}

uint64_t LoadLittleEndian(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

// Reads the payload fields in order; ok() turns false at the first read past the end.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view payload) : in_(payload) {}
  bool ok() const { return ok_; }
  bool at_end() const { return ok_ && pos_ == in_.size(); }

  uint64_t U(int bytes) {
    if (!Has(bytes)) return 0;
    const uint64_t v = LoadLittleEndian(in_.data() + pos_, bytes);
    pos_ += bytes;
    return v;
  }
  float F32() {
    const uint32_t bits = static_cast<uint32_t>(U(4));
    float v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
  }
  std::string String() {
    const uint64_t n = U(4);
    if (!Has(n)) return "";
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }

 private:
  bool Has(uint64_t n) {
    ok_ = ok_ && n <= in_.size() - pos_;
    return ok_;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Whether p is a record that Decode would accept; the reason in *why when not.
bool Decodable(const LoggedProduct& p, std::string* why) {
  if (p.seq < 1) {
    *why = "seq must be >= 1, got " + std::to_string(p.seq);
  } else if (p.id.empty() || p.title.empty()) {
    *why = p.id.empty() ? "the id is empty" : "the title is empty";
  } else if (!std::all_of(p.vector.begin(), p.vector.end(),
                          [](float v) { return std::isfinite(v); })) {
    *why = "the vector has a value that is not finite";
  } else {
    return true;
  }
  return false;
}

// Appends p's record (header and payload) to out; throws naming the product when it would not
// decode, leaving out as it was.
void EncodeRecord(const LoggedProduct& p, const std::string& path, std::string* out) {
  std::string why;
  RECSYS_CHECK(Decodable(p, &why),
               path << ": product '" << p.id << "' (seq " << p.seq << ") not logged: " << why);
  std::string payload;
  PutU64(static_cast<uint64_t>(p.seq), &payload);
  PutU64(static_cast<uint64_t>(p.index_build), &payload);
  PutU32(static_cast<uint32_t>(p.cluster), &payload);
  PutU32(static_cast<uint32_t>(p.vector.size()), &payload);
  for (float v : p.vector) PutF32(v, &payload);
  for (const std::string* s : {&p.id, &p.title, &p.brand, &p.colour, &p.category}) {
    PutString(*s, &payload);
  }
  PutF32(p.price, &payload);
  PutF32(p.rating, &payload);
  PutU32(static_cast<uint32_t>(p.release_day), &payload);
  RECSYS_CHECK(payload.size() <= kMaxProductPayloadBytes,
               path << ": product '" << p.id << "' (seq " << p.seq << ") not logged: its record of "
                    << payload.size() << " bytes is over the limit of " << kMaxProductPayloadBytes);

  out->append(kMagic, sizeof kMagic);
  PutU32(static_cast<uint32_t>(payload.size()), out);
  PutU64(StableHash(payload), out);
  out->append(payload);
}

// The product in payload, or false when the payload is not exactly one decodable record.
bool Decode(std::string_view payload, LoggedProduct* p) {
  PayloadReader in(payload);
  p->seq = static_cast<int64_t>(in.U(8));
  p->index_build = static_cast<int64_t>(in.U(8));
  p->cluster = static_cast<int32_t>(in.U(4));
  const uint64_t dimension = in.U(4);
  if (!in.ok() || dimension > payload.size() / 4) return false;
  p->vector.resize(dimension);
  for (float& v : p->vector) v = in.F32();
  for (std::string* s : {&p->id, &p->title, &p->brand, &p->colour, &p->category}) {
    *s = in.String();
  }
  p->price = in.F32();
  p->rating = in.F32();
  p->release_day = static_cast<int32_t>(in.U(4));
  std::string why;
  return in.at_end() && Decodable(*p, &why);
}

// pread of up to n bytes at offset, fewer only at the end of the file; throws on an I/O error.
int64_t ReadAt(int fd, const std::string& path, char* buffer, int64_t n, int64_t offset) {
  int64_t done = 0;
  while (done < n) {
    const ssize_t got = pread(fd, buffer + done, n - done, offset + done);
    if (got < 0 && errno == EINTR) continue;
    RECSYS_CHECK(got >= 0, path << ": read failed at byte offset " << offset + done << ": "
                                << std::strerror(errno));
    if (got == 0) break;
    done += got;
  }
  return done;
}

int64_t FileBytes(int fd, const std::string& path) {
  struct stat st;
  RECSYS_CHECK(fstat(fd, &st) == 0, path << ": cannot stat: " << std::strerror(errno));
  return st.st_size;
}

enum class RecordState { kIntact, kCutShort, kBadMagic, kTooLong, kBadChecksum };

const char* Describe(RecordState state) {
  switch (state) {
    case RecordState::kIntact:
      return "intact";
    case RecordState::kCutShort:
      return "cut short";
    case RecordState::kBadMagic:
      return "no record magic";
    case RecordState::kTooLong:
      return "payload length over the limit";
    case RecordState::kBadChecksum:
      return "checksum mismatch";
  }
  return "?";
}

// Reads the record at offset of a file of file_bytes bytes; its payload in *payload when intact.
// Allocates at most kMaxProductPayloadBytes, whatever the header says.
RecordState ReadRecord(int fd, const std::string& path, int64_t offset, int64_t file_bytes,
                       std::string* payload) {
  char header[kHeaderBytes];
  if (ReadAt(fd, path, header, kHeaderBytes, offset) < kHeaderBytes) {
    return RecordState::kCutShort;
  }
  if (std::memcmp(header, kMagic, sizeof kMagic) != 0) return RecordState::kBadMagic;
  const uint64_t length = LoadLittleEndian(header + 4, 4);
  if (length > kMaxProductPayloadBytes) return RecordState::kTooLong;
  if (offset + kHeaderBytes + static_cast<int64_t>(length) > file_bytes) {
    return RecordState::kCutShort;
  }
  payload->resize(length);
  if (ReadAt(fd, path, payload->data(), length, offset + kHeaderBytes) <
      static_cast<int64_t>(length)) {
    return RecordState::kCutShort;
  }
  return StableHash(*payload) == LoadLittleEndian(header + 8, 8) ? RecordState::kIntact
                                                                 : RecordState::kBadChecksum;
}

// Whether an intact record starts anywhere in [from, file_bytes): tells damage (acknowledged
// records after it) from a torn tail.
bool IntactRecordAfter(int fd, const std::string& path, int64_t from, int64_t file_bytes) {
  constexpr int64_t kWindow = 1 << 16;
  constexpr int64_t kMagicBytes = sizeof kMagic;
  std::string window(kWindow, '\0');
  std::string payload;
  // Windows overlap by kMagicBytes - 1 so that a magic across a boundary is found once.
  for (int64_t base = from; base + kHeaderBytes <= file_bytes; base += kWindow - kMagicBytes + 1) {
    const int64_t n = ReadAt(fd, path, window.data(), std::min(kWindow, file_bytes - base), base);
    for (int64_t i = 0; i + kMagicBytes <= n; ++i) {
      if (std::memcmp(window.data() + i, kMagic, kMagicBytes) == 0 &&
          ReadRecord(fd, path, base + i, file_bytes, &payload) == RecordState::kIntact) {
        return true;
      }
    }
  }
  return false;
}

struct Scan {
  int64_t file_bytes = 0;
  int64_t intact_bytes = 0;  // where the torn tail starts; file_bytes when there is none
  int64_t records = 0;
};

// Reads the records of the open file at path, appending them to *out when out is not null.
// Throws recsys::Error naming the file and byte offset on damage before the last record.
Scan ScanLog(int fd, const std::string& path, std::vector<LoggedProduct>* out) {
  Scan scan;
  scan.file_bytes = FileBytes(fd, path);
  std::string payload;
  int64_t offset = 0;
  while (offset < scan.file_bytes) {
    const RecordState state = ReadRecord(fd, path, offset, scan.file_bytes, &payload);
    if (state != RecordState::kIntact) {
      RECSYS_CHECK(!IntactRecordAfter(fd, path, offset + 1, scan.file_bytes),
                   path << ": damaged record at byte offset " << offset << " (" << Describe(state)
                        << ") with intact records after it: the log needs repair");
      break;
    }
    LoggedProduct p;
    RECSYS_CHECK(Decode(payload, &p), path << ": the record at byte offset " << offset
                                           << " passes its checksum but does not decode");
    ++scan.records;
    if (out != nullptr) out->push_back(std::move(p));
    offset += kHeaderBytes + static_cast<int64_t>(payload.size());
  }
  scan.intact_bytes = offset;
  return scan;
}

std::string ParentOf(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

// Whether name is "adds-<digits>.log".
bool IsProductLogName(const std::string& name) {
  const std::string prefix = "adds-", suffix = ".log";
  if (name.size() <= prefix.size() + suffix.size() || name.rfind(prefix, 0) != 0 ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return false;
  }
  return std::all_of(name.begin() + prefix.size(), name.end() - suffix.size(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

bool LoggedProduct::operator==(const LoggedProduct& o) const {
  return seq == o.seq && index_build == o.index_build && cluster == o.cluster &&
         vector == o.vector && id == o.id && title == o.title && brand == o.brand &&
         colour == o.colour && category == o.category && SameFloat(price, o.price) &&
         SameFloat(rating, o.rating) && release_day == o.release_day;
}

std::string ProductLogPath(const std::string& dir, int rank) {
  RECSYS_CHECK(rank >= 0, "a product log's rank must be >= 0, got " << rank);
  return (fs::path(dir) / ("adds-" + std::to_string(rank) + ".log")).string();
}

ProductLog::ProductLog(const std::string& path) : path_(path) {
  const bool existed = access(path.c_str(), F_OK) == 0;
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  RECSYS_CHECK(fd_ >= 0, path << ": cannot open the product log: " << std::strerror(errno));
  try {
    if (!existed) SyncPath(ParentOf(path));
    const Scan scan = ScanLog(fd_, path, nullptr);
    if (scan.intact_bytes < scan.file_bytes) {
      RECSYS_WARN(path << ": cutting off a torn tail of " << scan.file_bytes - scan.intact_bytes
                       << " bytes at byte offset " << scan.intact_bytes
                       << " (a write that a crash interrupted before it was synced)");
      RECSYS_CHECK(ftruncate(fd_, scan.intact_bytes) == 0 && fdatasync(fd_) == 0,
                   path << ": cannot cut off the torn tail: " << std::strerror(errno));
    }
    bytes_ = scan.intact_bytes;
    records_ = scan.records;
  } catch (...) {
    close(fd_);
    throw;
  }
}

ProductLog::~ProductLog() { close(fd_); }

void ProductLog::Append(const std::vector<LoggedProduct>& records) {
  RECSYS_CHECK(failure_.empty(), path_ << ": the product log is unusable: " << failure_);
  std::string buffer;
  for (const LoggedProduct& p : records) EncodeRecord(p, path_, &buffer);
  size_t done = 0;
  while (done < buffer.size()) {
    const ssize_t wrote = write(fd_, buffer.data() + done, buffer.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0) {
      const std::string error = std::strerror(errno);
      // A partial record left in place would turn into damage once later records follow it.
      if (ftruncate(fd_, bytes_) != 0) {
        failure_ = "a failed write could not be cut off: " + std::string(std::strerror(errno));
      }
      RECSYS_THROW(path_ << ": write of " << records.size() << " records failed: " << error);
    }
    done += static_cast<size_t>(wrote);
  }
  bytes_ += static_cast<int64_t>(buffer.size());
  records_ += static_cast<int64_t>(records.size());
}

void ProductLog::Sync() {
  RECSYS_CHECK(failure_.empty(), path_ << ": the product log is unusable: " << failure_);
  if (fdatasync(fd_) != 0) {
    failure_ = "fdatasync failed: " + std::string(std::strerror(errno));
    RECSYS_THROW(path_ << ": " << failure_);
  }
  ++syncs_;
}

std::string EncodeLoggedProducts(const std::vector<LoggedProduct>& records) {
  std::string out;
  for (const LoggedProduct& p : records) EncodeRecord(p, "broadcast", &out);
  return out;
}

std::vector<LoggedProduct> DecodeLoggedProducts(const std::string& bytes) {
  std::vector<LoggedProduct> out;
  for (size_t at = 0; at < bytes.size();) {
    RECSYS_CHECK(bytes.size() - at >= kHeaderBytes &&
                     std::memcmp(bytes.data() + at, kMagic, sizeof kMagic) == 0,
                 "product records: no record header at byte " << at);
    const uint64_t length = LoadLittleEndian(bytes.data() + at + 4, 4);
    RECSYS_CHECK(length <= bytes.size() - at - kHeaderBytes,
                 "product records: the record at byte " << at << " is cut short");
    const std::string_view payload(bytes.data() + at + kHeaderBytes, length);
    LoggedProduct p;
    RECSYS_CHECK(
        StableHash(payload) == LoadLittleEndian(bytes.data() + at + 8, 8) && Decode(payload, &p),
        "product records: the record at byte " << at << " is damaged");
    out.push_back(std::move(p));
    at += kHeaderBytes + length;
  }
  return out;
}

std::vector<LoggedProduct> ReadProductLogs(const std::string& dir) {
  std::vector<std::string> paths;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    if (IsProductLogName(entry.path().filename().string())) paths.push_back(entry.path().string());
  }
  RECSYS_CHECK(!ec || ec == std::errc::no_such_file_or_directory,
               dir << ": cannot list the product logs: " << ec.message());
  std::sort(paths.begin(), paths.end());

  std::vector<std::pair<LoggedProduct, size_t>> found;  // (record, index in paths)
  for (size_t f = 0; f < paths.size(); ++f) {
    const std::string& path = paths[f];
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    RECSYS_CHECK(fd >= 0, path << ": cannot open the product log: " << std::strerror(errno));
    std::vector<LoggedProduct> records;
    Scan scan;
    try {
      scan = ScanLog(fd, path, &records);
    } catch (...) {
      close(fd);
      throw;
    }
    close(fd);
    if (scan.intact_bytes < scan.file_bytes) {
      RECSYS_WARN(path << ": skipping a torn tail of " << scan.file_bytes - scan.intact_bytes
                       << " bytes at byte offset " << scan.intact_bytes);
    }
    for (LoggedProduct& p : records) found.emplace_back(std::move(p), f);
  }

  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.first.seq < b.first.seq; });
  std::vector<LoggedProduct> out;
  size_t kept = 0;  // the index in found of out.back()
  for (size_t i = 0; i < found.size(); ++i) {
    const LoggedProduct& p = found[i].first;
    if (!out.empty() && p.seq == out.back().seq) {
      RECSYS_CHECK(p == out.back(), "two different products logged with seq "
                                        << p.seq << ": '" << out.back().id << "' in "
                                        << paths[found[kept].second] << " and '" << p.id << "' in "
                                        << paths[found[i].second]);
      continue;
    }
    out.push_back(std::move(found[i].first));
    kept = i;
  }
  return out;
}

}  // namespace recsys::serve
