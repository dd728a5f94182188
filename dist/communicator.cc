#include "dist/communicator.h"

#include "dist/check.h"

namespace recsys::dist {

size_t SizeOf(DataType type) {
  switch (type) {
    case DataType::kUInt8:
      return 1;
    case DataType::kInt32:
      return 4;
    case DataType::kInt64:
      return 8;
    case DataType::kFloat32:
      return 4;
    case DataType::kFloat64:
      return 8;
  }
  RECSYS_THROW("SizeOf: unknown DataType " << static_cast<int>(type));
}

const char* Name(DataType type) {
  switch (type) {
    case DataType::kUInt8:
      return "uint8";
    case DataType::kInt32:
      return "int32";
    case DataType::kInt64:
      return "int64";
    case DataType::kFloat32:
      return "float32";
    case DataType::kFloat64:
      return "float64";
  }
  RECSYS_THROW("Name: unknown DataType " << static_cast<int>(type));
}

std::vector<int64_t> AllGatherCounts(Communicator& comm, int64_t count) {
  std::vector<int64_t> counts(comm.size());
  comm.AllGatherV(&count, 1, counts.data(), std::vector<int64_t>(comm.size(), 1), DataType::kInt64);
  return counts;
}

std::vector<int64_t> ExchangeCounts(Communicator& comm, const std::vector<int64_t>& send_counts) {
  // Checked here, not only in AllToAllV, so the message names what the caller passed.
  detail::CheckCounts("ExchangeCounts", "send_counts", send_counts, comm.size());
  const std::vector<int64_t> ones(comm.size(), 1);
  std::vector<int64_t> recv_counts(comm.size());
  comm.AllToAllV(send_counts.data(), ones, recv_counts.data(), ones, DataType::kInt64);
  return recv_counts;
}

std::vector<std::string> GatherStrings(Communicator& comm, const std::vector<std::string>& local,
                                       int root) {
  // Two gathers: every string's byte length, then all bytes. Root splits the bytes with the
  // lengths; how many strings came from which rank does not matter, only their order.
  std::vector<int64_t> lengths;
  std::vector<uint8_t> bytes;
  lengths.reserve(local.size());
  for (const std::string& s : local) {
    lengths.push_back(static_cast<int64_t>(s.size()));
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
  const std::vector<int64_t> all_lengths = GatherV(comm, lengths, root);
  const std::vector<uint8_t> all_bytes = GatherV(comm, bytes, root);

  std::vector<std::string> strings;
  if (comm.rank() != root) return strings;
  strings.reserve(all_lengths.size());
  size_t offset = 0;
  for (int64_t length : all_lengths) {
    const auto begin = all_bytes.begin() + offset;
    strings.emplace_back(begin, begin + length);
    offset += length;
  }
  return strings;
}

}  // namespace recsys::dist
