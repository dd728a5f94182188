#pragma once
// Communicator over MPI on host buffers: the default backend.

#include <mpi.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dist/collective_watchdog.h"
#include "dist/communicator.h"

namespace recsys::dist {

// Implements Communicator with MPI collectives on a private duplicate of the communicator it is
// given, so its messages never match the caller's own traffic on the original.
//
// Element counts are size_t but MPI-3 counts and displacements are int. AllReduce and Broadcast
// split a buffer longer than max_chunk elements into several calls. GatherV and AllToAllV are
// point-to-point messages of at most max_chunk elements; AllGatherV is one MPI collective while
// the whole buffer fits in max_chunk elements, and point-to-point chunks past that.
//
// Deadlines. Every collective is a non-blocking MPI call completed by a CollectiveWatchdog, which
// ends a collective that waits longer than its timeout with an error naming the ranks that did
// not arrive (see collective_watchdog.h).
//
// Argument checks. MPI has no way to tell the other ranks that one rank gave up, so a check that
// fails on one rank only leaves the others waiting in the collective. The checks are therefore
// made on arguments the contract makes identical on every rank (root, recv_counts of AllGatherV),
// where every rank reaches the same verdict and throws. The exceptions are checks on a rank's own
// arguments (send_count against recv_counts[rank()], the count vectors of AllToAllV, recv_counts
// of GatherV on root): they too throw, but only where the mistake is, and the job must then be
// ended (see MpiRuntime).
class MpiCommunicator final : public Communicator {
 public:
  // The most elements one MPI call is given.
  static constexpr size_t kMaxChunk = INT_MAX;

  // COLLECTIVE over comm: duplicates comm (MPI_Comm_dup) and sets MPI_ERRORS_RETURN on the
  // duplicate, so MPI failures come back as recsys::Error instead of aborting. timeouts are the
  // collectives' deadlines. max_chunk (>= 1) is the most elements one MPI call is given; smaller
  // values exist so tests can exercise the chunked paths on small buffers.
  explicit MpiCommunicator(MPI_Comm comm, CollectiveTimeouts timeouts = CollectiveTimeouts(),
                           size_t max_chunk = kMaxChunk);
  // Frees the duplicate (MPI_Comm_free is collective in principle: destroy on every rank).
  ~MpiCommunicator() override;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }

  void AllReduce(void* buffer, size_t count, DataType type, ReduceOp op) override;
  void Broadcast(void* buffer, size_t count, DataType type, int root) override;
  void GatherV(const void* send, size_t send_count, void* recv,
               const std::vector<int64_t>& recv_counts, DataType type, int root) override;
  void AllGatherV(const void* send, size_t send_count, void* recv,
                  const std::vector<int64_t>& recv_counts, DataType type) override;
  void AllGatherVInPlace(void* recv, const std::vector<int64_t>& recv_counts,
                         DataType type) override;
  void AllToAllV(const void* send, const std::vector<int64_t>& send_counts, void* recv,
                 const std::vector<int64_t>& recv_counts, DataType type) override;
  void Barrier() override;

  // The duplicate, for code that must call MPI itself on the same group (e.g. to split it).
  // Owned by this object.
  MPI_Comm mpi_comm() const { return comm_; }

 private:
  void Wait(MPI_Request request, CollectiveKind kind, const char* op);
  void Wait(std::vector<MPI_Request>& requests, CollectiveKind kind, const char* op);
  // Non-blocking point-to-point of count elements in messages of at most max_chunk_ elements;
  // the requests are appended.
  void PostSend(const void* data, size_t count, DataType type, int to, int tag,
                std::vector<MPI_Request>& requests);
  void PostRecv(void* data, size_t count, DataType type, int from, int tag,
                std::vector<MPI_Request>& requests);

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
  size_t max_chunk_;
  std::unique_ptr<CollectiveWatchdog> watchdog_;
};

}  // namespace recsys::dist
