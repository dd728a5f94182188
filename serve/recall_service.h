#pragma once
// The recall stage as it serves: query texts in, candidate products out. One query path for
// recsys_query, the evaluation stage and the server:
//
//   text ─► query tower (rank 0) ─► centroid search ─► scatter to the ranks owning the top
//           nprobe clusters ─► in-cluster exact search ─► gather, merge: the dense top M
//   text ─► terms ─► every rank scores the products it holds by BM25 ─► gather, merge: the
//           lexical top M
//   both ─► FuseCandidates: their union, ordered by a fused score (serve/candidate_fusion.h)
//
// No LibTorch in this header: the query tower lives behind models::TwoTowerEmbedder.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "dist/communicator.h"
#include "serve/candidate_fusion.h"
#include "shards/index_manifest.h"

namespace recsys::serve {

// Clusters probed per query unless a caller says otherwise: with the default nlist (sqrt of the
// catalogue) this loses little recall against exact search (README, "Recall: measurements").
constexpr int64_t kDefaultNprobe = 16;

struct RecallOptions {
  RecallMode mode = RecallMode::kHybrid;
  int64_t candidates = 100;         // M >= 1: the top M of each source that is used
  int64_t nprobe = kDefaultNprobe;  // clusters probed per query (>= 1; above nlist means nlist)
  FusionOptions fusion;
};

// Where a Recall call's time went on rank 0, in milliseconds for the whole batch.
struct RecallTimings {
  double embed_ms = 0;    // query tower
  double dense_ms = 0;    // vector index, through the router
  double lexical_ms = 0;  // lexical index, through its router
  double fusion_ms = 0;   // union and ordering
};

class RecallService {
 public:
  // COLLECTIVE. Loads the recall stage of the run folder `run` on comm's ranks (any number,
  // whatever built the index): RUN/index's vector and lexical shards on every rank, and on rank
  // 0 the query tower of RUN/checkpoints/two_tower_<variant>.h5, the variant and parameter hash
  // the index was built from (its manifest's model version). A missing or mismatched file
  // throws recsys::Error naming it, on every rank.
  RecallService(const std::string& run, dist::Communicator& comm);
  ~RecallService();
  RecallService(const RecallService&) = delete;
  RecallService& operator=(const RecallService&) = delete;

  // COLLECTIVE. On rank 0: texts (any number) and options; the other ranks' arguments are
  // ignored. Returns on rank 0 each text's candidates (FuseCandidates of the dense and lexical
  // top M that options.mode uses: up to 2M products for hybrid), empty lists on the other
  // ranks. Invalid options throw recsys::Error on every rank. timings, when given, receives rank
  // 0's stage times.
  std::vector<std::vector<Candidate>> Recall(const std::vector<std::string>& texts,
                                             const RecallOptions& options,
                                             RecallTimings* timings = nullptr);

  // Products added while serving (recsys_serve's POST /products), in three steps: rank 0 embeds
  // the new catalogue rows and finds each one's nearest centroid; then every rank calls Add for
  // every new product, in the same order.
  // Rank 0 only: catalogue rows [begin, end) through the product tower ((end - begin) x dim).
  std::vector<float> EmbedProducts(const data::Dataset& catalogue, int64_t begin,
                                   int64_t end) const;
  // The cluster whose centroid has the largest inner product with vector (dim floats). Not
  // collective.
  int32_t NearestCluster(const float* vector) const;
  // Not collective. Product row (products() + added(): the next catalogue row) with its title,
  // cluster and vector: its title's new terms enter every rank's lexical dictionary, and the rank
  // owning cluster holds it in both indexes; searchable by the next Recall.
  void Add(int64_t row, const std::string& title, int32_t cluster, const float* vector);
  // The rank that owns cluster at this load.
  int OwnerOf(int32_t cluster) const;
  int64_t added() const;

  // What this rank holds: vector index rows (built and added), rows added while serving, and
  // the bytes of both indexes. Not collective.
  struct Held {
    int64_t rows = 0, added_rows = 0, memory_bytes = 0;
  };
  Held held() const;

  // The vector index as built: model version, build id, cluster sizes, centroids.
  const shards::IndexManifest& manifest() const;
  // The embedding model the index was built from: "two_tower_<variant>-<hash>".
  const std::string& model_version() const;
  int64_t nlist() const;
  // Products the index was built with (dataset rows 0 .. products() - 1); added ones follow.
  int64_t products() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace recsys::serve
