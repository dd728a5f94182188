#pragma once
// Deadlines for collectives, and what happens when one passes: the job is told which operation
// stalled and which ranks never arrived, instead of hanging forever (the stall check of Horovod
// and the watchdog of NCCL do the same job for their collectives).

#include <mpi.h>

#include <array>
#include <cstdint>
#include <deque>
#include <string>

namespace recsys::dist {

enum class CollectiveKind { kAllReduce, kBroadcast, kGather, kAllGather, kAllToAll, kBarrier };
constexpr int kNumCollectiveKinds = 6;

// "allreduce", "broadcast", "gather", "allgather", "alltoall", "barrier".
const char* Name(CollectiveKind kind);

// How long one collective may wait for the other ranks, per kind, in seconds; 0 waits forever.
struct CollectiveTimeouts {
  static constexpr double kDefaultSeconds = 300;

  explicit CollectiveTimeouts(double seconds = kDefaultSeconds) { this->seconds.fill(seconds); }
  double of(CollectiveKind kind) const { return seconds[static_cast<int>(kind)]; }

  std::array<double, kNumCollectiveKinds> seconds;
};

// The --collective-timeout syntax: "SECONDS" for every kind, then optional "KIND=SECONDS"
// overrides, comma-separated: "300", "0", "300,alltoall=600,barrier=60". Throws recsys::Error
// naming the bad part (unknown kind, negative or non-finite seconds).
CollectiveTimeouts ParseCollectiveTimeouts(const std::string& text);

// Waits for a collective's requests against its deadline. One per MpiCommunicator, on a private
// duplicate of its group (the census communicator) so census messages never meet the
// collectives' own traffic.
//
// While a rank waits it answers census queries from the other ranks with the collective it is in.
// When a deadline passes, the rank asks every other rank where it is, waits kCensusSeconds for
// the answers, and throws recsys::Error naming the operation, its sequence number, the ranks that
// did not answer (stopped, dead, or busy outside any collective of this communicator) and the
// collectives the answering ranks are in. The caller ends the job (launch::RunMain aborts it).
class CollectiveWatchdog {
 public:
  static constexpr double kCensusSeconds = 2;
  // A waiting collective logs a warning once after this long, deadline or not.
  static constexpr double kWarnSeconds = 60;

  // COLLECTIVE over comm: duplicates it for the census.
  CollectiveWatchdog(MPI_Comm comm, CollectiveTimeouts timeouts);
  ~CollectiveWatchdog();
  CollectiveWatchdog(const CollectiveWatchdog&) = delete;
  CollectiveWatchdog& operator=(const CollectiveWatchdog&) = delete;

  // Completes requests[0, count) (MPI_Testall in a loop), or throws as described above. op names
  // the operation for the message ("MpiCommunicator::AllReduce"). Every rank makes the same
  // sequence of Wait calls on a communicator, so sequence numbers match across ranks.
  void Wait(MPI_Request* requests, int count, CollectiveKind kind, const char* op);

  const CollectiveTimeouts& timeouts() const { return timeouts_; }

 private:
  // Answers every pending census query with {sequence_, kind}.
  void AnswerCensus(CollectiveKind kind);
  // Sends a census message without waiting for it (the receiver may be stopped); the buffer stays
  // in outbox_, as MPI may read it after the call.
  void Send(std::array<int64_t, 2> message, int to, int tag);
  [[noreturn]] void Expire(CollectiveKind kind, const char* op, double waited);

  MPI_Comm census_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  CollectiveTimeouts timeouts_;
  int64_t sequence_ = 0;  // Wait calls so far; the current one's number while waiting
  std::deque<std::array<int64_t, 2>> outbox_;  // census messages sent (deque: stable addresses)
};

}  // namespace recsys::dist
