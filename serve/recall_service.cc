#include "serve/recall_service.h"

#include <chrono>
#include <filesystem>
#include <optional>

#include "core/error.h"
#include "core/latency.h"
#include "dist/collective_try.h"
#include "models/recall_training.h"
#include "models/two_tower_embedder.h"
#include "serve/lexical_router.h"
#include "serve/router.h"
#include "shards/centroid_search.h"
#include "shards/index_manifest.h"
#include "shards/ivf_shard.h"
#include "shards/lexical_shard.h"

namespace recsys::serve {
namespace {

constexpr int kRoot = 0;

// The checkpoint that made an index's vectors: "two_tower_<variant>-<hash>" names
// RUN/checkpoints/two_tower_<variant>.h5.
std::string CheckpointOfVersion(const std::string& run, const std::string& version,
                                const std::string& index_dir) {
  const std::string prefix = "two_tower_";
  const size_t dash = version.rfind('-');
  RECSYS_CHECK(
      version.rfind(prefix, 0) == 0 && dash != std::string::npos && dash > prefix.size(),
      index_dir << ": model version '" << version << "' does not name a two-tower variant");
  const std::string variant = version.substr(prefix.size(), dash - prefix.size());
  return models::RecallCheckpointPath(run, models::ParseVariants(variant).at(0));
}

}  // namespace

struct RecallService::Impl {
  Impl(const std::string& run, dist::Communicator& comm)
      : comm(comm),
        index_dir((std::filesystem::path(run) / "index").string()),
        shard(shards::IvfShard::Load(index_dir, {}, comm)),
        lexical(shards::LexicalShard::Load(index_dir, comm)),
        router(shard, comm),
        lexical_router(lexical, comm) {
    // Only rank 0 embeds queries; a bad checkpoint must still end every rank.
    dist::CollectiveTry(comm, [&] {
      if (comm.rank() != kRoot) return;
      const std::string version = shard.manifest().model_version;
      const std::string checkpoint = CheckpointOfVersion(run, version, index_dir);
      embedder = models::TwoTowerEmbedder::Load(checkpoint);
      RECSYS_CHECK(embedder->model_version() == version,
                   checkpoint << " is model " << embedder->model_version() << ", but the index in "
                              << index_dir << " was built from " << version
                              << ": re-run the embed and index stages");
      RECSYS_CHECK(embedder->dim() == shard.dim(), checkpoint << " embeds in " << embedder->dim()
                                                              << " dimensions, the index holds "
                                                              << shard.dim());
    });
  }

  dist::Communicator& comm;
  std::string index_dir;
  shards::IvfShard shard;
  shards::LexicalShard lexical;
  Router router;
  LexicalRouter lexical_router;
  std::unique_ptr<models::TwoTowerEmbedder> embedder;  // rank 0 only
  int64_t added = 0;                                   // products added since the load
};

RecallService::RecallService(const std::string& run, dist::Communicator& comm)
    : impl_(std::make_unique<Impl>(run, comm)) {}

RecallService::~RecallService() = default;

std::vector<float> RecallService::EmbedProducts(const data::Dataset& catalogue, int64_t begin,
                                                int64_t end) const {
  RECSYS_CHECK(impl_->embedder, "RecallService::EmbedProducts runs on rank 0 only");
  return impl_->embedder->EmbedProducts(catalogue, begin, end);
}

int32_t RecallService::NearestCluster(const float* vector) const {
  const shards::IndexManifest& m = impl_->shard.manifest();
  return shards::ProbeClusters(vector, 1, m.centroids.data(), m.nlist, m.dim, 1).at(0);
}

void RecallService::Add(int64_t row, const std::string& title, int32_t cluster,
                        const float* vector) {
  RECSYS_CHECK(row == products() + added(), "product row " << row << " added where row "
                                                           << products() + added()
                                                           << " comes next");
  const bool hold = impl_->shard.owners().at(cluster) == impl_->comm.rank();
  impl_->lexical.Add(row, title, hold);
  if (hold) impl_->shard.Add(cluster, row, vector);
  ++impl_->added;
}

int RecallService::OwnerOf(int32_t cluster) const { return impl_->shard.owners().at(cluster); }

int64_t RecallService::added() const { return impl_->added; }

RecallService::Held RecallService::held() const {
  const shards::IvfShard& shard = impl_->shard;
  int64_t rows = 0;
  for (int64_t c = 0; c < shard.nlist(); ++c) {
    if (shard.Owns(c)) rows += shard.Cluster(c).size;
  }
  return {rows + shard.added_rows(), shard.added_rows(),
          shard.MemoryBytes() + impl_->lexical.MemoryBytes()};
}

const shards::IndexManifest& RecallService::manifest() const { return impl_->shard.manifest(); }

const std::string& RecallService::model_version() const {
  return impl_->shard.manifest().model_version;
}

int64_t RecallService::nlist() const { return impl_->shard.nlist(); }

int64_t RecallService::products() const { return impl_->shard.manifest().rows; }

std::vector<std::vector<Candidate>> RecallService::Recall(const std::vector<std::string>& texts,
                                                          const RecallOptions& options,
                                                          RecallTimings* timings) {
  dist::Communicator& comm = impl_->comm;
  const bool root = comm.rank() == kRoot;
  // Every rank must know which searches to join: root's mode and sizes, broadcast.
  std::vector<int64_t> header(3, 0);
  std::string invalid;
  if (root) {
    if (options.candidates < 1) {
      invalid = "candidates (M) must be at least 1, is " + std::to_string(options.candidates);
    } else if (options.nprobe < 1) {
      invalid = "nprobe must be at least 1, is " + std::to_string(options.nprobe);
    } else if (!(options.fusion.rrf_k > 0) || !(options.fusion.lexical_weight >= 0)) {
      invalid = "fusion needs rrf_k > 0 and a lexical weight >= 0";
    }
    header = {invalid.empty() ? 1 : 0, static_cast<int64_t>(options.mode), options.candidates};
  }
  dist::Broadcast(comm, header, kRoot);
  if (header[0] == 0) RECSYS_THROW("recall: " << (root ? invalid : "invalid options on rank 0"));
  const auto mode = static_cast<RecallMode>(header[1]);
  const int64_t m = header[2];

  RecallTimings t;
  std::optional<shards::SearchResult> dense, lexical;
  if (mode != RecallMode::kLexical) {
    std::vector<float> vectors;
    auto start = std::chrono::steady_clock::now();
    // One text at a time: the tower's arithmetic, and so a query's vector, must not depend on
    // the other queries of a batch (recsys_serve groups unrelated requests).
    for (size_t q = 0; root && q < texts.size(); ++q) {
      const std::vector<float> v = impl_->embedder->EmbedQueries({texts[q]});
      vectors.insert(vectors.end(), v.begin(), v.end());
    }
    t.embed_ms = MillisecondsSince(start);
    start = std::chrono::steady_clock::now();
    const auto nq = static_cast<int64_t>(root ? texts.size() : 0);
    dense = impl_->router.Search(vectors.data(), nq, m, root ? options.nprobe : 0);
    t.dense_ms = MillisecondsSince(start);
  }
  if (mode != RecallMode::kDense) {
    const auto start = std::chrono::steady_clock::now();
    lexical = impl_->lexical_router.Search(texts, m);
    t.lexical_ms = MillisecondsSince(start);
  }
  std::vector<std::vector<Candidate>> out(root ? texts.size() : 0);
  const auto start = std::chrono::steady_clock::now();
  for (size_t q = 0; q < out.size(); ++q) {
    out[q] = FuseCandidates(dense ? &*dense : nullptr, lexical ? &*lexical : nullptr,
                            static_cast<int64_t>(q), options.fusion);
  }
  t.fusion_ms = MillisecondsSince(start);
  if (timings) *timings = t;
  return out;
}

}  // namespace recsys::serve
