#pragma once
// What recsys_serve does on its MPI ranks: the whole query path (recall, ranking, re-rank) for a
// micro-batch of requests, product adds with a durable per-rank log, and health checks. Rank 0
// drives; the other ranks run Serve(), a loop that follows the operation code rank 0 broadcasts
// before every operation:
//
//   rank 0                                    ranks 1..M-1 (Serve)
//   Search(batch) ── {kSearch, groups} ──►    one RecallService::Recall per group of requests
//                                             that share recall options (the routers' scatter /
//                                             gather); ranking and re-rank run on rank 0 only
//   Add(products) ── {kAdd, bytes} + records ─► every rank: RecallService::Add of each product;
//                                             the owner of its cluster appends it to its log;
//                                             one fdatasync per rank per batch (group commit);
//                                             gather of every rank's outcome
//   Health()      ── {kHealth} ──►            gather of every rank's held rows and memory
//   Shutdown()    ── {kShutdown} ──►          sync the log, return
//
// Every MPI call stays on the thread that calls these (the runtime is FUNNELED): recsys_serve's
// HTTP threads hand requests to that thread through a queue. No LibTorch in this header.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "data/dataset.h"
#include "dist/communicator.h"
#include "models/ranker.h"
#include "models/ranking_features.h"
#include "serve/product_log.h"
#include "serve/recall_service.h"
#include "serve/rerank.h"

namespace recsys::serve {

struct ServeOptions {
  std::string run;  // run folder: RUN/index, RUN/checkpoints, RUN/dataset.h5; adds in RUN/serve
  // Ranker used when a request names none: "none", or a ranker whose checkpoint the run has.
  std::string default_ranker = "dcn";
  int64_t feature_buckets = models::RankingFeatureOptions().num_buckets;
  // A cluster grown by adds past this many times its built size (and by at least 100 rows) is
  // reported: the index should be rebuilt (recsys_train --stage embed,index) to rebalance.
  double rebuild_growth = 2.0;
};

// "RUN/serve/adds": where the ranks' product logs live (ProductLogPath).
std::string AddsDirectory(const std::string& run);

// One search request, validated by the caller (recsys_serve's HTTP layer).
struct SearchRequest {
  std::string query;  // not blank
  int64_t k = 10;     // results returned, >= 1
  RecallOptions recall;
  std::string ranker;  // "" = ServeOptions::default_ranker; "none" = the fused order
  double diversity = 0, freshness = 0;
};

// Milliseconds. Recall's stages are those of the router round the request was in (shared by
// its batch); ranking and re-rank are the request's own.
struct StageTimes {
  double embed_ms = 0, dense_ms = 0, lexical_ms = 0, fusion_ms = 0, rank_ms = 0, rerank_ms = 0;
};

struct SearchHit {
  Candidate candidate;     // product row, fused score, each source's rank and score
  float rank_score = 0;    // the ranker's score (0 without one)
  double final_score = 0;  // what the list is ordered by: the ranker's score, else the fused one
};

struct SearchReply {
  std::vector<SearchHit> hits;  // best first, at most k
  std::string ranker;           // the ranker used ("none")
  StageTimes times;
  int64_t batch = 0;  // requests in the micro-batch
};

// The outcome of one product add.
struct AddReply {
  int status = 200;     // 200 added; 409 its id exists; 400 not valid
  std::string message;  // why, when not 200
  int64_t seq = 0, row = -1;
  int32_t cluster = -1;
  int rank = -1;  // the rank that holds it and logged it
};

struct RankHealth {
  int64_t held_rows = 0;   // vector index rows held (built and added)
  int64_t added_rows = 0;  // of those, added while serving
  int64_t memory_bytes = 0;
};

// Per cluster grown past ServeOptions::rebuild_growth: (cluster, rows now, rows built).
struct ClusterGrowth {
  int32_t cluster = 0;
  int64_t rows = 0, built = 0;
};

class ServingEngine {
 public:
  // COLLECTIVE. Loads the run on comm's ranks (any number): the recall stage on every rank; on
  // rank 0 the catalogue, the ranking features and every ranker checkpoint of the run; then
  // replays RUN/serve/adds: every logged product, once, in sequence order, before it returns.
  // Throws recsys::Error on every rank naming a missing or mismatched file.
  ServingEngine(const ServeOptions& options, dist::Communicator& comm);
  ~ServingEngine();
  ServingEngine(const ServingEngine&) = delete;
  ServingEngine& operator=(const ServingEngine&) = delete;

  // Rank 0 only, each a collective operation the other ranks follow in Serve().
  std::vector<SearchReply> Search(const std::vector<SearchRequest>& requests);
  // products: id, title and the other fields (seq, cluster, vector and index_build are set
  // here). One reply per product, in order; the 200 ones are durable on their rank's disk and
  // searchable when this returns.
  std::vector<AddReply> Add(std::vector<LoggedProduct> products);
  std::vector<RankHealth> Health();
  void Shutdown();

  // Ranks 1..M-1: follows rank 0's operations until Shutdown.
  void Serve();

  // Rank 0, read-only after construction (safe from any thread):
  bool HasRanker(const std::string& name) const;  // "none" or a loaded ranker's name or alias
  const std::vector<std::string>& rankers() const { return ranker_names_; }
  const std::string& default_ranker() const { return default_ranker_; }
  const data::Dataset& catalogue() const { return catalogue_; }  // grows with adds: MPI thread
  const RecallService& recall() const { return *recall_; }
  // Clusters grown by adds past rebuild_growth times their built size.
  std::vector<ClusterGrowth> GrownClusters() const;
  int64_t replayed() const { return replayed_; }

 private:
  enum class Op : int64_t { kSearch = 1, kAdd = 2, kHealth = 3, kShutdown = 4 };
  void BroadcastOp(Op op, int64_t argument);
  // Every rank: applies decoded records (already sequenced and routed) to the indexes; the
  // owners append theirs to the log and sync when log_them. Returns this rank's error, if any.
  std::string ApplyAdds(const std::vector<LoggedProduct>& records, bool log_them);
  void AppendToCatalogue(const LoggedProduct& product);  // rank 0
  const models::Ranker* FindRanker(const std::string& name) const;
  const Reranker& RerankerFor(double diversity, double freshness);
  RankHealth LocalHealth() const;

  ServeOptions options_;
  dist::Communicator& comm_;
  std::unique_ptr<RecallService> recall_;
  std::unique_ptr<ProductLog> log_;  // this rank's adds-<rank>.log
  // Rank 0:
  data::Dataset catalogue_;
  std::unique_ptr<models::RankingFeatureBuilder> features_;
  std::map<std::string, std::unique_ptr<models::Ranker>> rankers_;  // by full name
  std::vector<std::string> ranker_names_;
  std::string default_ranker_;
  std::map<std::pair<double, double>, std::unique_ptr<Reranker>> rerankers_;
  std::unordered_map<std::string, int64_t> row_of_id_;
  std::unordered_map<std::string, int32_t> brand_of_, colour_of_, category_of_;
  std::vector<int64_t> added_per_cluster_;  // every rank: rows added per cluster (ApplyAdds)
  int64_t next_seq_ = 1;
  int64_t replayed_ = 0;
};

}  // namespace recsys::serve
