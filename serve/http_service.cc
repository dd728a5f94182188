#include "serve/http_service.h"

#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cmath>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <variant>

#include "core/error.h"
#include "core/log.h"
#include "serve/search_page.h"

namespace recsys::serve {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// A request's answer: the HTTP status and the JSON body.
struct Answer {
  int status = 200;
  std::string body;
};

// 4xx/5xx with a JSON error saying what is wrong.
Answer ErrorAnswer(int status, const std::string& message) {
  return {status, json{{"error", message}}.dump()};
}

// A request turned away before it reaches the MPI thread.
struct BadRequest {
  int status;
  std::string message;
};

// One unit of work for the MPI thread.
struct Job {
  std::variant<SearchRequest, LoggedProduct> work;
  std::promise<Answer> answer;
  Clock::time_point enqueued = Clock::now();
};

// Jobs from the HTTP threads to the MPI thread. Closed by a failure or at shutdown: a job pushed
// then is answered at once with the reason.
class RequestQueue {
 public:
  // Returns false when closed (the job is not taken).
  bool Push(std::shared_ptr<Job> job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_) return false;
      jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
    return true;
  }

  // The first job waiting (up to idle for one), then more of its kind, up to max in all, for at
  // most wait after the first was taken. Empty when nothing came within idle.
  std::vector<std::shared_ptr<Job>> PopBatch(size_t max, std::chrono::microseconds wait,
                                             std::chrono::milliseconds idle) {
    std::unique_lock<std::mutex> lock(mutex_);
    std::vector<std::shared_ptr<Job>> batch;
    if (!ready_.wait_for(lock, idle, [&] { return !jobs_.empty(); })) return batch;
    const size_t kind = jobs_.front()->work.index();
    const auto deadline = Clock::now() + wait;
    for (;;) {
      for (auto it = jobs_.begin(); it != jobs_.end() && batch.size() < max;) {
        if ((*it)->work.index() == kind) {
          batch.push_back(std::move(*it));
          it = jobs_.erase(it);
        } else {
          ++it;
        }
      }
      if (batch.size() >= max || wait.count() == 0) break;
      if (!ready_.wait_until(lock, deadline, [&] { return !jobs_.empty(); })) break;
    }
    return batch;
  }

  // Refuses every later Push; returns the jobs still waiting.
  std::deque<std::shared_ptr<Job>> Close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    return std::move(jobs_);
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::shared_ptr<Job>> jobs_;
  bool closed_ = false;
};

// Prometheus metrics. prometheus-cpp's counters, gauges and histograms are thread-safe.
struct Metrics {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests =
      prometheus::BuildCounter()
          .Name("recsys_http_requests_total")
          .Help("HTTP requests answered, by route and status code")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& stage =
      prometheus::BuildHistogram()
          .Name("recsys_stage_seconds")
          .Help("Time of each query stage; recall stages per router round, the others per query")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& latency =
      prometheus::BuildHistogram()
          .Name("recsys_request_seconds")
          .Help("Time from a request's arrival in the queue to its answer, by route")
          .Register(*registry);
  prometheus::Histogram& batch_sizes =
      prometheus::BuildHistogram()
          .Name("recsys_batch_size")
          .Help("Requests per micro-batch (one router round or one group commit)")
          .Register(*registry)
          .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128});
  prometheus::Counter& log_syncs = prometheus::BuildCounter()
                                       .Name("recsys_add_log_syncs_total")
                                       .Help(
                                           "Group commits of product adds (one fdatasync on "
                                           "each rank holding one of the batch's products)")
                                       .Register(*registry)
                                       .Add({});
  prometheus::Counter& products_added = prometheus::BuildCounter()
                                            .Name("recsys_products_added_total")
                                            .Help("Products added through POST /products")
                                            .Register(*registry)
                                            .Add({});
  prometheus::Family<prometheus::Gauge>& rank_rows =
      prometheus::BuildGauge()
          .Name("recsys_rank_rows")
          .Help("Vector index rows each rank holds, at the last health check")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& rank_memory =
      prometheus::BuildGauge()
          .Name("recsys_rank_index_bytes")
          .Help("Bytes of both indexes each rank holds, at the last health check")
          .Register(*registry);
  prometheus::Gauge& grown_clusters =
      prometheus::BuildGauge()
          .Name("recsys_clusters_needing_rebuild")
          .Help("Clusters grown by adds past --rebuild-growth times their built size")
          .Register(*registry)
          .Add({});

  static prometheus::Histogram::BucketBoundaries SecondsBuckets() {
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};
  }
  void Count(const std::string& route, int status) {
    requests.Add({{"route", route}, {"code", std::to_string(status)}}).Increment();
  }
  void Stage(const std::string& name, double ms) {
    stage.Add({{"stage", name}}, SecondsBuckets()).Observe(ms / 1000);
  }
};

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool ValidUtf8(const std::string& s) {
  static constexpr uint32_t kSmallest[] = {0, 0x80, 0x800, 0x10000};
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    int extra = 0;
    uint32_t point = c;
    if (c >= 0x80) {
      if ((c & 0xE0) == 0xC0) {
        extra = 1, point = c & 0x1F;
      } else if ((c & 0xF0) == 0xE0) {
        extra = 2, point = c & 0x0F;
      } else if ((c & 0xF8) == 0xF0) {
        extra = 3, point = c & 0x07;
      } else {
        return false;
      }
    }
    if (i + extra >= s.size() && extra > 0) return false;
    for (int j = 1; j <= extra; ++j) {
      const auto d = static_cast<unsigned char>(s[i + j]);
      if ((d & 0xC0) != 0x80) return false;
      point = (point << 6) | (d & 0x3F);
    }
    if (point < kSmallest[extra] || point > 0x10FFFF || (point >= 0xD800 && point <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

// A text field: valid UTF-8, at most max_bytes; not blank when required.
std::string CheckText(const std::string& field, const std::string& value, int64_t max_bytes,
                      bool required) {
  if (!ValidUtf8(value)) throw BadRequest{400, field + " is not valid UTF-8"};
  if (static_cast<int64_t>(value.size()) > max_bytes) {
    throw BadRequest{400, field + " is " + std::to_string(value.size()) + " bytes; at most " +
                              std::to_string(max_bytes)};
  }
  if (required && value.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw BadRequest{400, field + " is " + (value.empty() ? "missing or empty" : "blank")};
  }
  return value;
}

int64_t CheckInteger(const std::string& field, const json& value, int64_t low, int64_t high) {
  if (!value.is_number_integer()) {
    throw BadRequest{400, field + " must be an integer, is " + value.dump()};
  }
  const auto v = value.get<int64_t>();
  if (v < low || v > high) {
    throw BadRequest{400, field + " must be between " + std::to_string(low) + " and " +
                              std::to_string(high) + ", is " + std::to_string(v)};
  }
  return v;
}

double CheckNumber(const std::string& field, const json& value, double low, double high) {
  if (!value.is_number()) throw BadRequest{400, field + " must be a number, is " + value.dump()};
  const auto v = value.get<double>();
  if (!std::isfinite(v) || v < low || v > high) {
    throw BadRequest{400, field + " must be a number between " + std::to_string(low) + " and " +
                              std::to_string(high) + ", is " + value.dump()};
  }
  return v;
}

// A query-string parameter as JSON: an integer or number when it parses as one, else a string.
json ParameterValue(const std::string& text) {
  const json parsed = json::parse(text, nullptr, false);
  return parsed.is_discarded() || !parsed.is_primitive() ? json(text) : parsed;
}

void CheckJsonRequest(const httplib::Request& req) {
  const std::string type = req.get_header_value("Content-Type");
  if (type.rfind("application/json", 0) != 0) {
    throw BadRequest{415, "Content-Type must be application/json, is '" + type + "'"};
  }
}

json ParseBody(const httplib::Request& req) {
  CheckJsonRequest(req);
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) throw BadRequest{400, "the body is not valid JSON"};
  if (!body.is_object()) throw BadRequest{400, "the body must be a JSON object"};
  return body;
}

}  // namespace

struct HttpService::Impl {
  Impl(ServingEngine& engine, const HttpOptions& options) : engine(engine), options(options) {}

  SearchRequest ParseSearch(const json& fields) const;
  LoggedProduct ParseProduct(const json& fields) const;
  Answer Submit(std::variant<SearchRequest, LoggedProduct> work);
  void Route(const std::string& name, httplib::Response& res,
             const std::function<Answer()>& answer);
  std::string FormatSearch(const SearchRequest& request, const SearchReply& reply) const;
  std::string FormatAdd(const AddReply& reply) const;
  // The answers of a batch, in order (set by the caller).
  std::vector<Answer> RunBatch(const std::vector<std::shared_ptr<Job>>& batch);
  void CheckHealth();
  void FailAll(const std::string& message);

  ServingEngine& engine;
  HttpOptions options;
  httplib::Server server;
  std::thread listener;
  std::atomic<bool> listener_done{false};
  RequestQueue queue;
  Metrics metrics;
  // Written by the MPI thread, read by GET /healthz (under health_mutex).
  std::mutex health_mutex;
  json health = json{{"status", "starting"}};
  std::string failure;  // set when an engine operation failed: every later request gets 503
};

SearchRequest HttpService::Impl::ParseSearch(const json& fields) const {
  static const char* const kFields[] = {
      "query",  "q",         "k",         "nprobe", "candidates",    "mode",
      "ranker", "diversity", "freshness", "fusion", "lexical_weight"};
  for (const auto& [key, value] : fields.items()) {
    bool known = false;
    for (const char* f : kFields) known = known || key == f;
    if (!known) throw BadRequest{400, "unknown field '" + key + "'"};
  }
  SearchRequest r;
  const json* query = fields.contains("query") ? &fields["query"]
                      : fields.contains("q")   ? &fields["q"]
                                               : nullptr;
  if (!query) throw BadRequest{400, "query is missing"};
  if (!query->is_string()) throw BadRequest{400, "query must be a string"};
  r.query = CheckText("query", query->get<std::string>(), kMaxQueryBytes, true);
  if (fields.contains("k")) r.k = CheckInteger("k", fields["k"], 1, kMaxK);
  r.recall.candidates = std::max<int64_t>(100, r.k);
  if (fields.contains("candidates")) {
    r.recall.candidates =
        std::max(r.k, CheckInteger("candidates", fields["candidates"], 1, kMaxCandidates));
  }
  r.recall.candidates = std::min(r.recall.candidates, engine.recall().products());
  if (fields.contains("nprobe")) {
    r.recall.nprobe = CheckInteger("nprobe", fields["nprobe"], 1, engine.recall().nlist());
  }
  const auto text_of = [&](const char* field) {
    if (!fields[field].is_string()) throw BadRequest{400, std::string(field) + " must be a string"};
    return fields[field].get<std::string>();
  };
  try {
    if (fields.contains("mode")) r.recall.mode = ParseRecallMode(text_of("mode"));
    if (fields.contains("fusion")) r.recall.fusion.fusion = ParseFusion(text_of("fusion"));
  } catch (const Error& e) {
    throw BadRequest{400, e.what()};
  }
  if (fields.contains("lexical_weight")) {
    r.recall.fusion.lexical_weight =
        CheckNumber("lexical_weight", fields["lexical_weight"], 0, 1e6);
  }
  if (fields.contains("ranker")) {
    r.ranker = text_of("ranker");
    if (!engine.HasRanker(r.ranker)) {
      std::string known = "none";
      for (const std::string& n : engine.rankers()) known += ", " + n;
      throw BadRequest{400, "unknown ranker '" + r.ranker + "'; this run has: " + known};
    }
  }
  if (fields.contains("diversity"))
    r.diversity = CheckNumber("diversity", fields["diversity"], 0, 100);
  if (fields.contains("freshness"))
    r.freshness = CheckNumber("freshness", fields["freshness"], 0, 100);
  const std::string ranker = r.ranker.empty() ? engine.default_ranker() : r.ranker;
  if ((r.diversity != 0 || r.freshness != 0) && ranker == "none") {
    throw BadRequest{400, "diversity and freshness re-rank a ranker's list: name a ranker"};
  }
  return r;
}

LoggedProduct HttpService::Impl::ParseProduct(const json& fields) const {
  static const char* const kFields[] = {"id",       "title", "brand",  "colour",
                                        "category", "price", "rating", "release_day"};
  for (const auto& [key, value] : fields.items()) {
    bool known = false;
    for (const char* f : kFields) known = known || key == f;
    if (!known) throw BadRequest{400, "unknown field '" + key + "'"};
  }
  LoggedProduct p;
  const auto text = [&](const char* field, int64_t max_bytes, bool required) {
    if (!fields.contains(field)) {
      if (required) throw BadRequest{400, std::string(field) + " is missing"};
      return std::string();
    }
    if (!fields[field].is_string()) throw BadRequest{400, std::string(field) + " must be a string"};
    return CheckText(field, fields[field].get<std::string>(), max_bytes, required);
  };
  p.id = text("id", 200, true);
  p.title = text("title", 2000, true);
  p.brand = text("brand", 200, false);
  p.colour = text("colour", 200, false);
  p.category = text("category", 500, false);
  if (fields.contains("price"))
    p.price = static_cast<float>(CheckNumber("price", fields["price"], 0, 1e9));
  if (fields.contains("rating"))
    p.rating = static_cast<float>(CheckNumber("rating", fields["rating"], 1, 5));
  if (fields.contains("release_day")) {
    p.release_day =
        static_cast<int32_t>(CheckInteger("release_day", fields["release_day"], 0, 200000));
  }
  return p;
}

Answer HttpService::Impl::Submit(std::variant<SearchRequest, LoggedProduct> work) {
  auto job = std::make_shared<Job>();
  job->work = std::move(work);
  std::future<Answer> answer = job->answer.get_future();
  if (!queue.Push(job)) {
    std::lock_guard<std::mutex> lock(health_mutex);
    return ErrorAnswer(503, failure.empty() ? "the server is shutting down" : failure);
  }
  return answer.get();
}

void HttpService::Impl::Route(const std::string& name, httplib::Response& res,
                              const std::function<Answer()>& answer) {
  Answer a;
  try {
    a = answer();
  } catch (const BadRequest& bad) {
    a = ErrorAnswer(bad.status, bad.message);
  } catch (const std::exception& e) {
    a = ErrorAnswer(500, e.what());
  }
  res.status = a.status;
  res.set_content(a.body, "application/json");
  metrics.Count(name, a.status);
}

std::string HttpService::Impl::FormatSearch(const SearchRequest& request,
                                            const SearchReply& reply) const {
  const data::Dataset& d = engine.catalogue();
  json products = json::array();
  for (const SearchHit& hit : reply.hits) {
    const Candidate& c = hit.candidate;
    json stages = {{"fused", c.score}};
    if (c.dense_rank > 0) stages["dense"] = {{"rank", c.dense_rank}, {"score", c.dense_score}};
    if (c.lexical_rank > 0) stages["bm25"] = {{"rank", c.lexical_rank}, {"score", c.lexical_score}};
    if (reply.ranker != "none") stages["ranker"] = hit.rank_score;
    products.push_back({{"id", d.products.id[c.product]},
                        {"title", d.products.title[c.product]},
                        {"brand", d.brands[d.products.brand[c.product]]},
                        {"score", hit.final_score},
                        {"stages", std::move(stages)}});
  }
  const StageTimes& t = reply.times;
  return json{{"query", request.query},
              {"mode", RecallModeName(request.recall.mode)},
              {"ranker", reply.ranker},
              {"batch", reply.batch},
              {"timings_ms",
               {{"query_tower", t.embed_ms},
                {"vector_index", t.dense_ms},
                {"lexical_index", t.lexical_ms},
                {"fusion", t.fusion_ms},
                {"ranking", t.rank_ms},
                {"rerank", t.rerank_ms}}},
              {"products", std::move(products)}}
      .dump();
}

std::string HttpService::Impl::FormatAdd(const AddReply& reply) const {
  if (reply.status != 200) return json{{"error", reply.message}}.dump();
  return json{{"seq", reply.seq},
              {"row", reply.row},
              {"cluster", reply.cluster},
              {"rank", reply.rank},
              {"durable", true}}
      .dump();
}

std::vector<Answer> HttpService::Impl::RunBatch(const std::vector<std::shared_ptr<Job>>& batch) {
  std::vector<Answer> answers;
  metrics.batch_sizes.Observe(static_cast<double>(batch.size()));
  if (std::holds_alternative<SearchRequest>(batch[0]->work)) {
    std::vector<SearchRequest> requests;
    for (const auto& job : batch) requests.push_back(std::get<SearchRequest>(job->work));
    const std::vector<SearchReply> replies = engine.Search(requests);
    for (size_t i = 0; i < batch.size(); ++i) {
      const StageTimes& t = replies[i].times;
      if (i == 0) {
        metrics.Stage("query_tower", t.embed_ms);
        metrics.Stage("vector_index", t.dense_ms);
        metrics.Stage("lexical_index", t.lexical_ms);
        metrics.Stage("fusion", t.fusion_ms);
      }
      metrics.Stage("ranking", t.rank_ms);
      metrics.Stage("rerank", t.rerank_ms);
      metrics.latency.Add({{"route", "recommend"}}, Metrics::SecondsBuckets())
          .Observe(std::chrono::duration<double>(Clock::now() - batch[i]->enqueued).count());
      answers.push_back({200, FormatSearch(requests[i], replies[i])});
    }
    return answers;
  }
  std::vector<LoggedProduct> products;
  for (const auto& job : batch) products.push_back(std::get<LoggedProduct>(job->work));
  const std::vector<AddReply> replies = engine.Add(std::move(products));
  int64_t added = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    added += replies[i].status == 200;
    metrics.latency.Add({{"route", "products"}}, Metrics::SecondsBuckets())
        .Observe(std::chrono::duration<double>(Clock::now() - batch[i]->enqueued).count());
    answers.push_back({replies[i].status, FormatAdd(replies[i])});
  }
  if (added > 0) {
    metrics.log_syncs.Increment();
    metrics.products_added.Increment(static_cast<double>(added));
  }
  return answers;
}

void HttpService::Impl::CheckHealth() {
  const std::vector<RankHealth> ranks = engine.Health();
  const std::vector<ClusterGrowth> grown = engine.GrownClusters();
  json r = json::array();
  for (size_t i = 0; i < ranks.size(); ++i) {
    const std::string rank = std::to_string(i);
    metrics.rank_rows.Add({{"rank", rank}}).Set(static_cast<double>(ranks[i].held_rows));
    metrics.rank_memory.Add({{"rank", rank}}).Set(static_cast<double>(ranks[i].memory_bytes));
    r.push_back({{"rank", i},
                 {"rows", ranks[i].held_rows},
                 {"added_rows", ranks[i].added_rows},
                 {"index_bytes", ranks[i].memory_bytes}});
  }
  metrics.grown_clusters.Set(static_cast<double>(grown.size()));
  json h = {{"status", "ok"}, {"ranks", std::move(r)}, {"model", engine.recall().model_version()}};
  if (!grown.empty()) {
    json g = json::array();
    for (const ClusterGrowth& c : grown) {
      g.push_back({{"cluster", c.cluster}, {"rows", c.rows}, {"built", c.built}});
    }
    h["rebuild_suggested"] = std::move(g);
  }
  std::lock_guard<std::mutex> lock(health_mutex);
  health = std::move(h);
}

void HttpService::Impl::FailAll(const std::string& message) {
  {
    std::lock_guard<std::mutex> lock(health_mutex);
    failure = message;
    health = {{"status", "failed"}, {"error", message}};
  }
  for (const auto& job : queue.Close()) job->answer.set_value(ErrorAnswer(503, message));
}

HttpService::HttpService(ServingEngine& engine, const HttpOptions& options)
    : impl_(std::make_unique<Impl>(engine, options)) {
  Impl& s = *impl_;
  httplib::Server& server = s.server;
  server.new_task_queue = [threads = options.threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(options.max_body_bytes);
  server.set_read_timeout(options.read_timeout_s, 0);
  server.set_write_timeout(options.read_timeout_s, 0);
  server.set_keep_alive_max_count(options.keep_alive_requests);
  server.set_keep_alive_timeout(options.keep_alive_timeout_s);
  server.set_tcp_nodelay(true);
  // httplib's own refusals (body over the limit, unknown route) get a JSON error too.
  server.set_error_handler([&s](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;  // a route's own error, already JSON
    const std::string message = res.status == 413   ? "the request body is over the limit"
                                : res.status == 404 ? "no such route"
                                                    : "bad request";
    res.set_content(json{{"error", message}}.dump(), "application/json");
    s.metrics.Count("error", res.status);
  });
  server.Get("/", [&s](const httplib::Request&, httplib::Response& res) {
    res.set_content(SearchPageHtml(), "text/html; charset=utf-8");
    s.metrics.Count("page", 200);
  });
  server.Get("/recommend", [&s](const httplib::Request& req, httplib::Response& res) {
    s.Route("recommend", res, [&] {
      json fields = json::object();
      for (const auto& [key, value] : req.params) {
        fields[key] = key == "q" || key == "query" ? json(value) : ParameterValue(value);
      }
      return s.Submit(s.ParseSearch(fields));
    });
  });
  server.Post("/recommend", [&s](const httplib::Request& req, httplib::Response& res) {
    s.Route("recommend", res, [&] { return s.Submit(s.ParseSearch(ParseBody(req))); });
  });
  server.Post("/products", [&s](const httplib::Request& req, httplib::Response& res) {
    s.Route("products", res, [&] { return s.Submit(s.ParseProduct(ParseBody(req))); });
  });
  server.Get("/healthz", [&s](const httplib::Request&, httplib::Response& res) {
    s.Route("healthz", res, [&] {
      std::lock_guard<std::mutex> lock(s.health_mutex);
      return Answer{s.health.value("status", "") == "ok" ? 200 : 503, s.health.dump()};
    });
  });
  server.Get("/metrics", [&s](const httplib::Request&, httplib::Response& res) {
    res.set_content(prometheus::TextSerializer().Serialize(s.metrics.registry->Collect()),
                    "text/plain; version=0.0.4");
  });
}

HttpService::~HttpService() {
  impl_->server.stop();
  if (impl_->listener.joinable()) impl_->listener.join();
}

int HttpService::Start() {
  Impl& s = *impl_;
  const int port = s.options.port == 0 ? s.server.bind_to_any_port(s.options.host)
                   : s.server.bind_to_port(s.options.host, s.options.port) ? s.options.port
                                                                           : -1;
  RECSYS_CHECK(port > 0, "cannot listen on " << s.options.host << ":" << s.options.port
                                             << " (in use, or not an address of this host)");
  s.CheckHealth();
  s.listener = std::thread([&s] {
    s.server.listen_after_bind();
    s.listener_done = true;
  });
  return port;
}

void HttpService::RunLoop(const std::atomic<bool>& stop) {
  Impl& s = *impl_;
  auto last_health = Clock::now();
  const auto poll = std::min(s.options.heartbeat, std::chrono::milliseconds(100));
  try {
    bool stopping = false;
    for (;;) {
      if (stop && !stopping) {
        RECSYS_INFO("recsys_serve: stopping: finishing the requests in flight");
        stopping = true;
        s.server.stop();  // accepts nothing more; the pool finishes the requests it holds
      }
      std::vector<std::shared_ptr<Job>> batch =
          s.queue.PopBatch(static_cast<size_t>(s.options.batch_size), s.options.batch_wait, poll);
      if (!batch.empty()) {
        std::vector<Answer> answers;
        try {
          answers = s.RunBatch(batch);
        } catch (const std::exception& e) {
          for (const auto& job : batch) job->answer.set_value(ErrorAnswer(503, e.what()));
          throw;
        }
        for (size_t i = 0; i < batch.size(); ++i) batch[i]->answer.set_value(std::move(answers[i]));
      } else if (stopping && s.listener_done) {
        break;
      }
      if (Clock::now() - last_health >= s.options.heartbeat) {
        s.CheckHealth();
        last_health = Clock::now();
      }
    }
    for (const auto& job : s.queue.Close())
      job->answer.set_value(ErrorAnswer(503, "shutting down"));
    s.engine.Shutdown();
  } catch (const std::exception& e) {
    s.FailAll(e.what());
    s.server.stop();
    throw;
  }
}

}  // namespace recsys::serve
