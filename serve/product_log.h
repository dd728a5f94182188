#pragma once
// The durable log of products added through POST /products: each rank appends the products it
// owns to its own file, syncs it before the HTTP reply, and on restart every acknowledged product
// is read back exactly once. Not collective.
//
// File "DIR/adds-<rank>.log": records back to back, no file header. All integers little-endian,
// floats IEEE-754 binary32 stored as their bit pattern (NaN stays NaN). A record is
//
//   offset  size  field
//   0       4     magic, the bytes "RPL1"
//   4       4     uint32 payload length L (at most kMaxProductPayloadBytes)
//   8       8     uint64 checksum: StableHash (core/stable_hash.h, seed 0) of the L payload bytes
//   16      L     payload:
//                   int64   seq
//                   int64   index_build
//                   int32   cluster
//                   uint32  dimension D, then D x float32 vector
//                   5 x (uint32 byte count N, then N bytes of UTF-8): id, title, brand, colour,
//                           category
//                   float32 price, float32 rating (NaN = unknown)
//                   int32   release_day (INT32_MIN = unknown)
//
// The payload holds exactly these fields; a record whose checksum matches but whose payload does
// not decode is damage. A write cut short by a crash leaves a torn tail: a last record that is
// short, has a wrong magic or length, or fails its checksum. It was never acknowledged (a reply
// waits for Sync), so it is dropped. A failing record followed by an intact one is damage to
// acknowledged data instead, and is an error.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace recsys::serve {

// Payload lengths above this are refused, so that a damaged length cannot allocate gigabytes.
constexpr uint32_t kMaxProductPayloadBytes = 16u << 20;

// One product added through POST /products, as its rank's log stores it.
struct LoggedProduct {
  int64_t seq = 0;            // >= 1: assigned by rank 0, increasing over the whole job's life
  int64_t index_build = 0;    // the vector index's build_id that vector and cluster belong to
  int32_t cluster = -1;       // nearest centroid at the time of the add
  std::vector<float> vector;  // the product tower's embedding (finite)
  std::string id, title, brand, colour, category;          // UTF-8; id and title non-empty
  float price = std::numeric_limits<float>::quiet_NaN();   // US dollars; NaN = unknown
  float rating = std::numeric_limits<float>::quiet_NaN();  // NaN = unknown
  int32_t release_day = data::kUnknownDay;                 // days since 1970-01-01

  // Field by field; price and rating compare equal when both are NaN.
  bool operator==(const LoggedProduct& other) const;
  bool operator!=(const LoggedProduct& other) const { return !(*this == other); }
};

// "DIR/adds-<rank>.log".
std::string ProductLogPath(const std::string& dir, int rank);

// One rank's log file, open for appending. Not thread-safe; one writer per file.
class ProductLog {
 public:
  // Opens path for appending, creating it (and syncing its directory) when missing; the
  // directory must exist. A torn tail is cut off (and the cut synced), with a warning giving the
  // byte count. Damage before the last record throws recsys::Error naming the file and byte
  // offset, leaving the file as it was.
  explicit ProductLog(const std::string& path);
  ~ProductLog();
  ProductLog(const ProductLog&) = delete;
  ProductLog& operator=(const ProductLog&) = delete;

  // Appends the records in one write. A record that would not decode (seq < 1, empty id or title,
  // a non-finite vector value, a payload over kMaxProductPayloadBytes) throws recsys::Error naming
  // its product id before anything is written. Not durable until Sync returns.
  void Append(const std::vector<LoggedProduct>& records);
  // fdatasync: everything appended so far is durable when it returns. Throws on failure; the log
  // refuses Append and Sync from then on (after a failed fdatasync the kernel may have dropped
  // the unwritten pages, so a later success would not mean they are on disk).
  void Sync();

  int64_t syncs() const { return syncs_; }      // successful Sync calls so far
  int64_t records() const { return records_; }  // records in the file: found at open + appended

 private:
  std::string path_;
  int fd_ = -1;
  int64_t bytes_ = 0;  // file size: the end of the last intact record
  int64_t records_ = 0;
  int64_t syncs_ = 0;
  std::string failure_;  // why the log is unusable; empty while it is usable
};

// Records in the log's format, back to back (what rank 0 broadcasts to the ranks for an add),
// and back. Encode throws like Append on a record that would not decode; Decode throws
// recsys::Error on bytes that are not whole intact records.
std::string EncodeLoggedProducts(const std::vector<LoggedProduct>& records);
std::vector<LoggedProduct> DecodeLoggedProducts(const std::string& bytes);

// Every record of every adds-<rank>.log file in dir (none when dir does not exist), in increasing
// seq. A torn tail in a file is skipped with a warning (its writer cuts it off at open). Damage
// before a file's last record, or two records of one seq that differ, throws recsys::Error naming
// the file(s) and the byte offset or seq; the same record found twice is kept once. Not collective.
std::vector<LoggedProduct> ReadProductLogs(const std::string& dir);

}  // namespace recsys::serve
