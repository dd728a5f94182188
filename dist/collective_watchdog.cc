#include "dist/collective_watchdog.h"

#include <chrono>
#include <cmath>
#include <map>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "dist/check.h"

namespace recsys::dist {
namespace {

constexpr int kQueryTag = 1;
constexpr int kAnswerTag = 2;
// How often a waiting rank looks for census queries.
constexpr double kCensusPollSeconds = 0.001;

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string RankList(const std::vector<int>& ranks) {
  std::string text = ranks.size() == 1 ? "rank " : "ranks ";
  for (size_t i = 0; i < ranks.size(); ++i) text += (i ? ", " : "") + std::to_string(ranks[i]);
  return text;
}

}  // namespace

const char* Name(CollectiveKind kind) {
  switch (kind) {
    case CollectiveKind::kAllReduce:
      return "allreduce";
    case CollectiveKind::kBroadcast:
      return "broadcast";
    case CollectiveKind::kGather:
      return "gather";
    case CollectiveKind::kAllGather:
      return "allgather";
    case CollectiveKind::kAllToAll:
      return "alltoall";
    case CollectiveKind::kBarrier:
      return "barrier";
  }
  return "unknown";
}

CollectiveTimeouts ParseCollectiveTimeouts(const std::string& text) {
  auto seconds_of = [&text](const std::string& value) {
    size_t used = 0;
    double seconds = -1;
    try {
      seconds = std::stod(value, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    RECSYS_CHECK(used == value.size() && !value.empty() && std::isfinite(seconds) && seconds >= 0,
                 "collective timeout '" << text << "': '" << value
                                        << "' is not a number of seconds >= 0 (0 waits forever)");
    return seconds;
  };
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, ',');) parts.push_back(part);
  RECSYS_CHECK(!parts.empty() && text.back() != ',', "collective timeout '"
                                                         << text << "' has an empty part: expected "
                                                         << "SECONDS[,KIND=SECONDS...]");
  CollectiveTimeouts timeouts(seconds_of(parts[0]));
  for (size_t i = 1; i < parts.size(); ++i) {
    const size_t eq = parts[i].find('=');
    const std::string kind = parts[i].substr(0, eq);
    int k = 0;
    while (k < kNumCollectiveKinds && kind != Name(static_cast<CollectiveKind>(k))) ++k;
    RECSYS_CHECK(eq != std::string::npos && k < kNumCollectiveKinds,
                 "collective timeout '" << text << "': '" << parts[i]
                                        << "' is not KIND=SECONDS with KIND one of allreduce, "
                                           "broadcast, gather, allgather, alltoall, barrier");
    timeouts.seconds[k] = seconds_of(parts[i].substr(eq + 1));
  }
  return timeouts;
}

CollectiveWatchdog::CollectiveWatchdog(MPI_Comm comm, CollectiveTimeouts timeouts)
    : timeouts_(timeouts) {
  RECSYS_MPI_CHECK(MPI_Comm_dup(comm, &census_));
  MPI_Comm_set_errhandler(census_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(census_, &rank_);
  MPI_Comm_size(census_, &size_);
}

CollectiveWatchdog::~CollectiveWatchdog() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Comm_free(&census_);
}

void CollectiveWatchdog::Wait(MPI_Request* requests, int count, CollectiveKind kind,
                              const char* op) {
  ++sequence_;
  const double deadline = timeouts_.of(kind);
  const Clock::time_point start = Clock::now();
  double next_poll = kCensusPollSeconds;
  bool warned = false;
  for (;;) {
    int done = 0;
    RECSYS_MPI_CHECK(MPI_Testall(count, requests, &done, MPI_STATUSES_IGNORE));
    if (done) return;
    const double waited = SecondsSince(start);
    if (waited < next_poll) continue;
    next_poll = waited + kCensusPollSeconds;
    AnswerCensus(kind);
    if (deadline > 0 && waited >= deadline) Expire(kind, op, waited);
    if (!warned && waited >= kWarnSeconds) {
      warned = true;
      RECSYS_WARN(op << " (collective #" << sequence_ << ") has waited " << kWarnSeconds
                     << " s for the other ranks; deadline "
                     << (deadline > 0 ? std::to_string(static_cast<int64_t>(deadline)) + " s"
                                      : std::string("none"))
                     << " (--collective-timeout)");
    }
  }
}

void CollectiveWatchdog::AnswerCensus(CollectiveKind kind) {
  for (;;) {
    int pending = 0;
    MPI_Status status;
    RECSYS_MPI_CHECK(MPI_Iprobe(MPI_ANY_SOURCE, kQueryTag, census_, &pending, &status));
    if (!pending) return;
    int64_t query[2];
    RECSYS_MPI_CHECK(
        MPI_Recv(query, 2, MPI_INT64_T, status.MPI_SOURCE, kQueryTag, census_, MPI_STATUS_IGNORE));
    Send({sequence_, static_cast<int64_t>(kind)}, status.MPI_SOURCE, kAnswerTag);
  }
}

void CollectiveWatchdog::Send(std::array<int64_t, 2> message, int to, int tag) {
  outbox_.push_back(message);
  MPI_Request request;
  RECSYS_MPI_CHECK(MPI_Isend(outbox_.back().data(), 2, MPI_INT64_T, to, tag, census_, &request));
  RECSYS_MPI_CHECK(MPI_Request_free(&request));
}

void CollectiveWatchdog::Expire(CollectiveKind kind, const char* op, double waited) {
  for (int r = 0; r < size_; ++r) {
    if (r != rank_) Send({sequence_, 0}, r, kQueryTag);
  }
  // rank -> {sequence, kind} of the collective it waits in.
  std::map<int, std::pair<int64_t, int64_t>> answers;
  const Clock::time_point start = Clock::now();
  while (static_cast<int>(answers.size()) < size_ - 1 && SecondsSince(start) < kCensusSeconds) {
    AnswerCensus(kind);
    int pending = 0;
    MPI_Status status;
    RECSYS_MPI_CHECK(MPI_Iprobe(MPI_ANY_SOURCE, kAnswerTag, census_, &pending, &status));
    if (!pending) continue;
    int64_t answer[2];
    RECSYS_MPI_CHECK(MPI_Recv(answer, 2, MPI_INT64_T, status.MPI_SOURCE, kAnswerTag, census_,
                              MPI_STATUS_IGNORE));
    answers[status.MPI_SOURCE] = {answer[0], answer[1]};
  }
  std::vector<int> silent;
  std::map<std::pair<int64_t, int64_t>, std::vector<int>> waiting;  // collective -> ranks in it
  for (int r = 0; r < size_; ++r) {
    if (r == rank_) continue;
    auto it = answers.find(r);
    if (it == answers.end()) {
      silent.push_back(r);
    } else {
      waiting[it->second].push_back(r);
    }
  }
  std::ostringstream message;
  message << op << " (collective #" << sequence_ << ", " << Name(kind) << ") timed out after "
          << static_cast<int64_t>(waited) << " s waiting for the other ranks (--collective-timeout "
          << timeouts_.of(kind) << " s)";
  if (!silent.empty()) {
    message << "; " << RankList(silent) << " did not arrive (no answer in " << kCensusSeconds
            << " s: stopped, dead, or busy outside any collective)";
  }
  for (const auto& [collective, ranks] : waiting) {
    message << "; " << RankList(ranks) << (ranks.size() == 1 ? " is" : " are") << " waiting in "
            << Name(static_cast<CollectiveKind>(collective.second)) << " #" << collective.first;
  }
  message << " (" << detail::Where() << ")";
  throw Error(message.str());
}

}  // namespace recsys::dist
