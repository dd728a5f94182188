#pragma once
// recsys_serve's HTTP side on rank 0: the routes, request validation, the queue that hands work
// to the MPI thread, micro-batching and the Prometheus metrics.
//
//   HTTP threads (cpp-httplib pool)              MPI thread (RunLoop)
//   parse + validate ─► Job ─► RequestQueue ─►   PopBatch: the first job, then up to
//   wait for the job's reply ◄─────────────────  batch_size - 1 more of its kind that arrive
//                                                within batch_wait ─► ServingEngine::Search / Add
//                                                (one collective round for the whole batch)
//                                                ─► each job's JSON reply
//
// Only the MPI thread touches the engine and MPI; the HTTP threads read nothing that it writes.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "serve/serving_engine.h"

namespace recsys::serve {

struct HttpOptions {
  std::string host = "127.0.0.1";  // loopback unless told otherwise
  int port = 8080;                 // 0: any free port (the chosen one is logged)
  int threads = 8;                 // HTTP worker threads
  int64_t max_body_bytes = 64 * 1024;
  int read_timeout_s = 5;  // a client that does not finish its request is cut off after this
  int keep_alive_requests = 1000;
  int keep_alive_timeout_s = 5;
  int64_t batch_size = 32;                    // requests per router round, at most
  std::chrono::microseconds batch_wait{500};  // wait for more after the first
  std::chrono::milliseconds heartbeat{1000};  // idle health check of every rank
};

// Limits of a request's fields (the error messages name them).
inline constexpr int64_t kMaxQueryBytes = 1000;
inline constexpr int64_t kMaxK = 1000;
inline constexpr int64_t kMaxCandidates = 2000;

class HttpService {
 public:
  // engine: loaded on rank 0; must outlive the service.
  HttpService(ServingEngine& engine, const HttpOptions& options);
  ~HttpService();

  // Binds host:port (throws recsys::Error naming them when it cannot) and starts the HTTP
  // threads; returns the port bound.
  int Start();

  // The MPI thread's loop: serves batches until stop becomes true (a signal), then stops the
  // HTTP side, lets every accepted request finish, and returns. When an engine operation throws
  // (a rank that stopped answering), every waiting and later request gets 503 with the message,
  // the HTTP side stops, and the error is rethrown.
  void RunLoop(const std::atomic<bool>& stop);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace recsys::serve
