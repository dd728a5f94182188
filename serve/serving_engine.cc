#include "serve/serving_engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <tuple>

#include "core/error.h"
#include "core/latency.h"
#include "core/log.h"
#include "dist/collective_try.h"
#include "serve/ranking_set_builder.h"

namespace recsys::serve {
namespace {

constexpr int kRoot = 0;

// The full name of a ranker a request may call by its short name ("dcn" -> "dcn-2").
std::string CanonicalRanker(const std::string& name) {
  try {
    return models::RankerName(models::ParseRankerName(name, {}));
  } catch (const Error&) {
    return name;
  }
}

// Requests that can share one Recall call: equal recall options.
auto RecallKey(const RecallOptions& o) {
  return std::make_tuple(static_cast<int>(o.mode), o.candidates, o.nprobe,
                         static_cast<int>(o.fusion.fusion), o.fusion.rrf_k,
                         o.fusion.lexical_weight);
}

int32_t VocabularyIndex(const std::string& value, std::vector<std::string>* vocabulary,
                        std::unordered_map<std::string, int32_t>* index) {
  if (value.empty()) return 0;
  const auto [it, added] = index->try_emplace(value, static_cast<int32_t>(vocabulary->size()));
  if (added) vocabulary->push_back(value);
  return it->second;
}

std::unordered_map<std::string, int32_t> IndexOf(const std::vector<std::string>& vocabulary) {
  std::unordered_map<std::string, int32_t> out;
  for (size_t i = 1; i < vocabulary.size(); ++i)
    out.emplace(vocabulary[i], static_cast<int32_t>(i));
  return out;
}

}  // namespace

std::string AddsDirectory(const std::string& run) {
  return (std::filesystem::path(run) / "serve" / "adds").string();
}

ServingEngine::ServingEngine(const ServeOptions& options, dist::Communicator& comm)
    : options_(options), comm_(comm) {
  recall_ = std::make_unique<RecallService>(options.run, comm);
  const bool root = comm.rank() == kRoot;
  const std::string adds = AddsDirectory(options.run);
  std::vector<LoggedProduct> logged;
  dist::CollectiveTry(comm, [&] {
    std::filesystem::create_directories(adds);
    log_ = std::make_unique<ProductLog>(ProductLogPath(adds, comm.rank()));
    logged = ReadProductLogs(adds);
    for (const LoggedProduct& p : logged) {
      RECSYS_CHECK(p.index_build == recall_->manifest().build_id,
                   adds << ": product " << p.id << " (seq " << p.seq
                        << ") was added to index build " << p.index_build << ", but " << options.run
                        << "/index is build " << recall_->manifest().build_id
                        << " (rebuilt since): add the logged products to the dataset and rebuild, "
                           "or move "
                        << adds << " away to serve without them");
    }
    if (!root) return;
    catalogue_ = data::ReadDataset(options.run + "/dataset.h5");
    RECSYS_CHECK(static_cast<int64_t>(catalogue_.products.size()) == recall_->products(),
                 options.run << "/dataset.h5 has " << catalogue_.products.size()
                             << " products, the index " << recall_->products()
                             << ": the run's index was built from another dataset");
    for (size_t i = 0; i < catalogue_.products.size(); ++i) {
      row_of_id_.emplace(catalogue_.products.id[i], static_cast<int64_t>(i));
    }
    brand_of_ = IndexOf(catalogue_.brands);
    colour_of_ = IndexOf(catalogue_.colours);
    category_of_ = IndexOf(catalogue_.categories);
    features_ = std::make_unique<models::RankingFeatureBuilder>(
        catalogue_, models::RankingFeatureOptions{options.feature_buckets});
    const std::filesystem::path checkpoints = std::filesystem::path(options.run) / "checkpoints";
    for (const auto& entry : std::filesystem::directory_iterator(checkpoints)) {
      const std::string file = entry.path().filename().string();
      if (file.rfind("ranker_", 0) != 0 || file.size() < 10 ||
          file.compare(file.size() - 3, 3, ".h5") != 0 ||
          file.find(".last.") != std::string::npos) {
        continue;
      }
      auto ranker = models::LoadRanker(entry.path().string());
      RECSYS_CHECK(ranker->num_buckets() == 0 || ranker->num_buckets() == options.feature_buckets,
                   entry.path().string() << " was trained on " << ranker->num_buckets()
                                         << " feature buckets, not " << options.feature_buckets);
      ranker_names_.push_back(ranker->name());
      rankers_.emplace(ranker->name(), std::move(ranker));
    }
    default_ranker_ =
        options.default_ranker == "none" ? "none" : CanonicalRanker(options.default_ranker);
    std::string trained = "none";
    for (const std::string& name : ranker_names_) trained += ", " + name;
    RECSYS_CHECK(HasRanker(default_ranker_),
                 "the default ranker '" << options.default_ranker << "' has no checkpoint in "
                                        << checkpoints.string() << "; the run has: " << trained);
  });
  added_per_cluster_.assign(recall_->nlist(), 0);
  // Replay: every rank applies every logged product, in sequence order, without logging again.
  if (root) {
    for (const LoggedProduct& p : logged) {
      RECSYS_CHECK(!row_of_id_.count(p.id),
                   adds << ": product id " << p.id << " is logged twice or is in the catalogue");
      AppendToCatalogue(p);
    }
    if (!logged.empty()) features_->AddedProducts();
    next_seq_ = logged.empty() ? 1 : logged.back().seq + 1;
  }
  const std::string error = ApplyAdds(logged, false);
  RECSYS_CHECK(error.empty(), error);
  replayed_ = static_cast<int64_t>(logged.size());
  if (root && !logged.empty()) {
    RECSYS_INFO("replayed " << logged.size() << " product(s) added while serving, from " << adds
                            << " (sequence numbers 1.." << logged.back().seq << ")");
  }
}

ServingEngine::~ServingEngine() = default;

void ServingEngine::BroadcastOp(Op op, int64_t argument) {
  int64_t header[2] = {static_cast<int64_t>(op), argument};
  comm_.Broadcast(header, 2, dist::DataType::kInt64, kRoot);
}

bool ServingEngine::HasRanker(const std::string& name) const {
  return name == "none" || FindRanker(name) != nullptr;
}

const models::Ranker* ServingEngine::FindRanker(const std::string& name) const {
  const auto it = rankers_.find(CanonicalRanker(name));
  return it == rankers_.end() ? nullptr : it->second.get();
}

const Reranker& ServingEngine::RerankerFor(double diversity, double freshness) {
  auto& slot = rerankers_[{diversity, freshness}];
  if (!slot) {
    if (rerankers_.size() > 64) {  // many distinct weights: keep memory bounded
      rerankers_.clear();
      return RerankerFor(diversity, freshness);
    }
    RerankOptions o;
    o.diversity = diversity;
    o.freshness = freshness;
    slot = std::make_unique<Reranker>(catalogue_, o);
  }
  return *slot;
}

std::vector<SearchReply> ServingEngine::Search(const std::vector<SearchRequest>& requests) {
  // Groups of requests with equal recall options, in order of first appearance.
  std::vector<std::vector<size_t>> groups;
  std::map<decltype(RecallKey(RecallOptions())), size_t> group_of;
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto [it, added] = group_of.try_emplace(RecallKey(requests[i].recall), groups.size());
    if (added) groups.emplace_back();
    groups[it->second].push_back(i);
  }
  BroadcastOp(Op::kSearch, static_cast<int64_t>(groups.size()));
  std::vector<SearchReply> replies(requests.size());
  for (const std::vector<size_t>& group : groups) {
    std::vector<std::string> texts;
    for (size_t i : group) texts.push_back(requests[i].query);
    RecallTimings t;
    const auto candidates = recall_->Recall(texts, requests[group[0]].recall, &t);
    for (size_t j = 0; j < group.size(); ++j) {
      const SearchRequest& request = requests[group[j]];
      SearchReply& reply = replies[group[j]];
      reply.batch = static_cast<int64_t>(requests.size());
      reply.times = {t.embed_ms, t.dense_ms, t.lexical_ms, t.fusion_ms, 0, 0};
      std::vector<Candidate> list = candidates[j];
      list.resize(std::min<size_t>(list.size(), request.recall.candidates));
      const std::string name = request.ranker.empty() ? default_ranker_ : request.ranker;
      const models::Ranker* ranker = name == "none" ? nullptr : FindRanker(name);
      reply.ranker = ranker ? ranker->name() : "none";
      std::vector<SearchHit> hits(list.size());
      for (size_t i = 0; i < list.size(); ++i) hits[i] = {list[i], 0.0f, list[i].score};
      if (ranker && !list.empty()) {
        auto start = std::chrono::steady_clock::now();
        const std::vector<float> scores =
            ranker->Score(QueryFeatures(*features_, request.query, list));
        for (size_t i = 0; i < hits.size(); ++i)
          hits[i].rank_score = hits[i].final_score = scores[i];
        std::stable_sort(hits.begin(), hits.end(), [](const SearchHit& a, const SearchHit& b) {
          return a.rank_score > b.rank_score;
        });
        reply.times.rank_ms = MillisecondsSince(start);
        if (request.diversity != 0 || request.freshness != 0) {
          start = std::chrono::steady_clock::now();
          std::vector<int32_t> rows(hits.size());
          std::vector<float> ranked(hits.size());
          for (size_t i = 0; i < hits.size(); ++i) {
            rows[i] = static_cast<int32_t>(hits[i].candidate.product);
            ranked[i] = hits[i].rank_score;
          }
          const std::vector<int64_t> order =
              RerankerFor(request.diversity, request.freshness).Order(rows, ranked);
          std::vector<SearchHit> reordered;
          for (int64_t at : order) reordered.push_back(hits[at]);
          hits = std::move(reordered);
          reply.times.rerank_ms = MillisecondsSince(start);
        }
      }
      if (static_cast<int64_t>(hits.size()) > request.k) hits.resize(request.k);
      reply.hits = std::move(hits);
    }
  }
  return replies;
}

void ServingEngine::AppendToCatalogue(const LoggedProduct& p) {
  data::Products& products = catalogue_.products;
  row_of_id_.emplace(p.id, static_cast<int64_t>(products.size()));
  products.id.push_back(p.id);
  products.title.push_back(p.title);
  products.brand.push_back(VocabularyIndex(p.brand, &catalogue_.brands, &brand_of_));
  products.colour.push_back(VocabularyIndex(p.colour, &catalogue_.colours, &colour_of_));
  products.category.push_back(VocabularyIndex(p.category, &catalogue_.categories, &category_of_));
  products.price.push_back(p.price);
  products.rating.push_back(p.rating);
  products.release_day.push_back(p.release_day);
}

std::string ServingEngine::ApplyAdds(const std::vector<LoggedProduct>& records, bool log_them) {
  std::string error;
  try {
    std::vector<LoggedProduct> mine;
    for (const LoggedProduct& p : records) {
      recall_->Add(recall_->products() + recall_->added(), p.title, p.cluster, p.vector.data());
      ++added_per_cluster_.at(p.cluster);
      if (recall_->OwnerOf(p.cluster) == comm_.rank()) mine.push_back(p);
    }
    if (log_them && !mine.empty()) {
      log_->Append(mine);
      log_->Sync();
    }
  } catch (const std::exception& e) {
    error = "rank " + std::to_string(comm_.rank()) + ": " + e.what();
  }
  return error;
}

std::vector<AddReply> ServingEngine::Add(std::vector<LoggedProduct> products) {
  std::vector<AddReply> replies(products.size());
  std::vector<LoggedProduct> accepted;
  const int64_t first_row = static_cast<int64_t>(catalogue_.products.size());
  for (size_t i = 0; i < products.size(); ++i) {
    LoggedProduct& p = products[i];
    if (row_of_id_.count(p.id)) {
      replies[i] = {409, "product id '" + p.id + "' exists already"};
      continue;
    }
    AppendToCatalogue(p);
    accepted.push_back(std::move(p));
    replies[i].row = first_row + static_cast<int64_t>(accepted.size()) - 1;
  }
  if (!accepted.empty()) {
    features_->AddedProducts();
    const std::vector<float> vectors = recall_->EmbedProducts(
        catalogue_, first_row, static_cast<int64_t>(catalogue_.products.size()));
    const int64_t d = recall_->manifest().dim;
    for (size_t i = 0; i < accepted.size(); ++i) {
      LoggedProduct& p = accepted[i];
      p.vector.assign(vectors.begin() + i * d, vectors.begin() + (i + 1) * d);
      p.cluster = recall_->NearestCluster(p.vector.data());
      p.seq = next_seq_++;
      p.index_build = recall_->manifest().build_id;
    }
  }
  std::string bytes = EncodeLoggedProducts(accepted);
  BroadcastOp(Op::kAdd, static_cast<int64_t>(bytes.size()));
  comm_.Broadcast(bytes.data(), bytes.size(), dist::DataType::kUInt8, kRoot);
  const std::string mine = ApplyAdds(accepted, true);
  const std::vector<std::string> errors = dist::GatherStrings(comm_, {mine}, kRoot);
  std::string failed;
  for (const std::string& e : errors) {
    if (!e.empty()) failed += (failed.empty() ? "" : "; ") + e;
  }
  // A rank that could not log its products has an index that differs from its log: the job
  // must end (the caller answers 503 and exits), never acknowledge.
  RECSYS_CHECK(failed.empty(), "adding products failed: " << failed);
  for (size_t i = 0, a = 0; i < replies.size(); ++i) {
    if (replies[i].status != 200) continue;
    const LoggedProduct& p = accepted[a++];
    replies[i].seq = p.seq;
    replies[i].cluster = p.cluster;
    replies[i].rank = recall_->OwnerOf(p.cluster);
  }
  return replies;
}

RankHealth ServingEngine::LocalHealth() const {
  const RecallService::Held held = recall_->held();
  return {held.rows, held.added_rows, held.memory_bytes};
}

std::vector<RankHealth> ServingEngine::Health() {
  BroadcastOp(Op::kHealth, 0);
  const RankHealth h = LocalHealth();
  std::vector<int64_t> mine = {h.held_rows, h.added_rows, h.memory_bytes};
  const std::vector<int64_t> all = dist::GatherV(comm_, mine, kRoot);
  std::vector<RankHealth> out(comm_.size());
  for (int r = 0; r < comm_.size(); ++r) out[r] = {all[3 * r], all[3 * r + 1], all[3 * r + 2]};
  return out;
}

void ServingEngine::Shutdown() {
  BroadcastOp(Op::kShutdown, 0);
  log_->Sync();
}

void ServingEngine::Serve() {
  RECSYS_CHECK(comm_.rank() != kRoot, "ServingEngine::Serve runs on ranks 1..M-1");
  for (;;) {
    int64_t header[2] = {0, 0};
    comm_.Broadcast(header, 2, dist::DataType::kInt64, kRoot);
    switch (static_cast<Op>(header[0])) {
      case Op::kSearch:
        for (int64_t g = 0; g < header[1]; ++g) recall_->Recall({}, {});
        break;
      case Op::kAdd: {
        std::string bytes(header[1], '\0');
        comm_.Broadcast(bytes.data(), bytes.size(), dist::DataType::kUInt8, kRoot);
        const std::string error = ApplyAdds(DecodeLoggedProducts(bytes), true);
        dist::GatherStrings(comm_, {error}, kRoot);
        break;
      }
      case Op::kHealth: {
        const RankHealth h = LocalHealth();
        dist::GatherV(comm_, std::vector<int64_t>{h.held_rows, h.added_rows, h.memory_bytes},
                      kRoot);
        break;
      }
      case Op::kShutdown:
        log_->Sync();
        return;
      default:
        RECSYS_THROW("serving loop: unknown operation " << header[0] << " from rank 0");
    }
  }
}

std::vector<ClusterGrowth> ServingEngine::GrownClusters() const {
  std::vector<ClusterGrowth> out;
  const std::vector<int64_t>& built = recall_->manifest().cluster_sizes;
  for (size_t c = 0; c < added_per_cluster_.size(); ++c) {
    const int64_t rows = built[c] + added_per_cluster_[c];
    if (added_per_cluster_[c] >= 100 && rows > options_.rebuild_growth * built[c]) {
      out.push_back({static_cast<int32_t>(c), rows, built[c]});
    }
  }
  return out;
}

}  // namespace recsys::serve
