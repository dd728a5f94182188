// recsys_serve: the sharded query endpoint. Rank 0 answers HTTP/JSON; every rank holds its
// shards of the vector and lexical indexes; every search goes through the scatter-gather routers.
//   mpirun -np M recsys_serve --run RUN [--port 8080] [--host 127.0.0.1]
//   curl 'http://127.0.0.1:8080/recommend?q=wireless+headphones&k=5'

#include <atomic>
#include <boost/program_options.hpp>
#include <csignal>
#include <cstdio>
#include <string>

#include "core/log.h"
#include "core/numeric_checks.h"
#include "dist/make_communicator.h"
#include "launch/main_util.h"
#include "serve/http_service.h"
#include "serve/serving_engine.h"

namespace po = boost::program_options;

namespace recsys::launch {
namespace {

constexpr char kUsage[] =
    "Usage: mpirun -np M recsys_serve --run RUN [OPTIONS]\n"
    "Serves the run's two-stage recommender over HTTP on rank 0 (any number of ranks M, whatever\n"
    "built the index; each holds its shards of both indexes):\n"
    "  GET  /recommend?q=TEXT&k=10   POST /recommend {\"query\", \"k\", \"nprobe\", "
    "\"candidates\",\n"
    "       \"mode\", \"ranker\", \"diversity\", \"freshness\"}: products with each stage's score\n"
    "       and time\n"
    "  POST /products {\"id\", \"title\", \"brand\", \"colour\", \"category\", \"price\", "
    "\"rating\",\n"
    "       \"release_day\"}: adds a product, durable and searchable when the reply is 200\n"
    "  GET  /healthz   GET /metrics (Prometheus)   GET / (a search page)\n"
    "SIGINT or SIGTERM: finishes the requests in flight, syncs the logs, every rank exits 0.\n";

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

int Run(int argc, char** argv, dist::MpiRuntime& mpi) {
  serve::ServeOptions serve;
  serve::HttpOptions http;
  int64_t batch_wait_us = http.batch_wait.count();
  int64_t heartbeat_ms = http.heartbeat.count();
  // A serving job answers in milliseconds: a rank silent for seconds is stopped or dead.
  constexpr int kCollectiveTimeout = 10;
  dist::CollectiveTimeouts timeouts(kCollectiveTimeout);
  // clang-format off
  po::options_description options("Options");
  options.add_options()
      ("help,h", "show this help")
      ("run", po::value(&serve.run)->required(), "run folder written by recsys_train (RUN/index, "
       "RUN/checkpoints, RUN/dataset.h5); products added are logged under RUN/serve/adds")
      ("host", po::value(&http.host)->default_value(http.host), "address to listen on "
       "(0.0.0.0: every interface)")
      ("port", po::value(&http.port)->default_value(http.port), "port; 0 picks a free one "
       "(logged as 'listening on http://HOST:PORT')")
      ("ranker", po::value(&serve.default_ranker)->default_value(serve.default_ranker),
       "ranker of requests that name none: none, or one the rank stage trained (fm, dcn, "
       "xgboost, ...)")
      ("feature-buckets", po::value(&serve.feature_buckets)->default_value(serve.feature_buckets),
       "hashed id space of the ranking features (as the rank stage's --feature-buckets)")
      ("batch-size", po::value(&http.batch_size)->default_value(http.batch_size),
       "most requests grouped into one router round (or one group commit of adds)")
      ("batch-wait-us", po::value(&batch_wait_us)->default_value(batch_wait_us),
       "microseconds a batch waits for more requests after its first; 0: take what is queued")
      ("http-threads", po::value(&http.threads)->default_value(http.threads),
       "HTTP worker threads (connections served at once)")
      ("max-body-bytes", po::value(&http.max_body_bytes)->default_value(http.max_body_bytes),
       "largest request body; larger ones get 413")
      ("read-timeout", po::value(&http.read_timeout_s)->default_value(http.read_timeout_s),
       "seconds a client has to send its request before the connection is closed")
      ("keep-alive-requests",
       po::value(&http.keep_alive_requests)->default_value(http.keep_alive_requests),
       "requests per kept-alive connection")
      ("heartbeat-ms", po::value(&heartbeat_ms)->default_value(heartbeat_ms),
       "milliseconds between health checks of every rank while idle (GET /healthz shows the "
       "last one)")
      ("rebuild-growth", po::value(&serve.rebuild_growth)->default_value(serve.rebuild_growth),
       "report a cluster grown by adds past this many times its built size");
  // clang-format on
  AddCollectiveTimeoutOption(options, &timeouts, kCollectiveTimeout);
  if (!ParseArguments(argc, argv, options, nullptr, kUsage, mpi.world_rank() == 0)) return 0;
  CheckUsage([&] {
    CheckCount("--port", http.port, 0, 65535);
    CheckCount("--batch-size", http.batch_size, 1, 4096);
    CheckCount("--batch-wait-us", batch_wait_us, 0, 1000000);
    CheckCount("--http-threads", http.threads, 1, 1024);
    CheckCount("--max-body-bytes", http.max_body_bytes, 1024);
    CheckCount("--read-timeout", http.read_timeout_s, 1, 3600);
    CheckCount("--keep-alive-requests", http.keep_alive_requests, 1);
    CheckCount("--heartbeat-ms", heartbeat_ms, 10, 600000);
    CheckCount("--feature-buckets", serve.feature_buckets, 1);
    CheckPositive("--rebuild-growth", serve.rebuild_growth);
  });
  http.batch_wait = std::chrono::microseconds(batch_wait_us);
  http.heartbeat = std::chrono::milliseconds(heartbeat_ms);
  // Every rank waits for rank 0's shutdown operation: mpirun passes SIGINT / SIGTERM to all.
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);  // a client gone mid-reply is httplib's to handle

  auto comm = dist::MakeCommunicator(dist::Backend::kMpi, MPI_COMM_WORLD, timeouts);
  serve::ServingEngine engine(serve, *comm);
  if (comm->rank() != 0) {
    engine.Serve();
    RECSYS_INFO("recsys_serve: rank " << comm->rank() << " stopped cleanly");
    return 0;
  }
  serve::HttpService service(engine, http);
  const int port = service.Start();
  RECSYS_INFO("recsys_serve: " << engine.recall().products() + engine.recall().added()
                               << " products (" << engine.replayed() << " replayed from the add "
                               << "logs) on " << comm->size() << " rank(s); default ranker "
                               << engine.default_ranker() << "; listening on http://" << http.host
                               << ":" << port);
  service.RunLoop(g_stop);
  RECSYS_INFO("recsys_serve: rank 0 stopped cleanly");
  return 0;
}

}  // namespace
}  // namespace recsys::launch

int main(int argc, char** argv) {
  return recsys::launch::RunMain("recsys_serve", argc, argv, [&](recsys::dist::MpiRuntime& mpi) {
    return recsys::launch::Run(argc, argv, mpi);
  });
}
