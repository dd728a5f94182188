#include "dist/collective_try.h"

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "core/error.h"

namespace recsys::dist {

void CollectiveTry(Communicator& comm, const std::function<void()>& body) {
  std::string message;
  bool failed = false;
  try {
    body();
  } catch (const std::exception& e) {
    message = e.what();
    failed = true;
  }
  const int32_t first = AllReduceValue(comm, failed ? comm.rank() : comm.size(), ReduceOp::kMin);
  if (first == comm.size()) return;
  std::vector<uint8_t> bytes(message.begin(), message.end());
  Broadcast(comm, bytes, first);
  std::string text(bytes.begin(), bytes.end());
  if (comm.size() > 1) text = "rank " + std::to_string(first) + ": " + text;
  throw Error(text);
}

}  // namespace recsys::dist
