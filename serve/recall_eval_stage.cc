#include "serve/recall_eval_stage.h"

#include <filesystem>
#include <memory>

#include "core/error.h"
#include "core/log.h"
#include "dist/communicator.h"
#include "dist/distributed_sampler.h"
#include "models/baselines.h"
#include "models/metrics.h"
#include "models/recall_training.h"
#include "models/two_tower_embedder.h"
#include "shards/lexical_builder.h"
#include "shards/lexical_manifest.h"

namespace recsys::serve {
namespace {

namespace fs = std::filesystem;
constexpr int kRoot = 0;

// Ranked lists computed beforehand (through the collective serving path), answered per query row.
class ListRetriever : public models::Retriever {
 public:
  ListRetriever(std::string name, const std::vector<models::JudgedQuery>& queries,
                std::vector<std::vector<int32_t>> lists, int64_t num_query_rows)
      : name_(std::move(name)), list_of_(num_query_rows, -1), lists_(std::move(lists)) {
    for (size_t i = 0; i < queries.size(); ++i) list_of_[queries[i].query] = static_cast<int>(i);
  }
  std::string name() const override { return name_; }
  std::vector<std::vector<int32_t>> Retrieve(const std::vector<int32_t>& query_rows,
                                             int k) const override {
    std::vector<std::vector<int32_t>> out;
    for (int32_t row : query_rows) {
      RECSYS_CHECK(row >= 0 && row < static_cast<int32_t>(list_of_.size()) && list_of_[row] >= 0,
                   name_ << ": no list for query row " << row);
      const std::vector<int32_t>& list = lists_[list_of_[row]];
      out.emplace_back(list.begin(), list.begin() + std::min<size_t>(k, list.size()));
    }
    return out;
  }

 private:
  std::string name_;
  std::vector<int> list_of_;  // query row -> index into lists_, or -1
  std::vector<std::vector<int32_t>> lists_;
};

// COLLECTIVE: root's candidate lists (product rows in order) on every rank.
std::vector<std::vector<int32_t>> ShareLists(const std::vector<std::vector<Candidate>>& lists,
                                             int64_t num_lists, dist::Communicator& comm) {
  std::vector<int64_t> offsets{0};
  std::vector<int32_t> products;
  for (const std::vector<Candidate>& list : lists) {
    for (const Candidate& c : list) products.push_back(static_cast<int32_t>(c.product));
    offsets.push_back(static_cast<int64_t>(products.size()));
  }
  dist::Broadcast(comm, offsets, kRoot);
  dist::Broadcast(comm, products, kRoot);
  RECSYS_CHECK(static_cast<int64_t>(offsets.size()) == num_lists + 1, "eval: list count");
  std::vector<std::vector<int32_t>> out(num_lists);
  for (int64_t q = 0; q < num_lists; ++q) {
    out[q].assign(products.begin() + offsets[q], products.begin() + offsets[q + 1]);
  }
  return out;
}

// The variant's exact retriever: each rank embeds its slice of the catalogue, the slices are
// all-gathered (rows stay in catalogue order), exact inner products over all of them.
std::unique_ptr<models::Retriever> ExactRetriever(const models::TwoTowerEmbedder& embedder,
                                                  const std::string& name,
                                                  const data::Dataset& dataset,
                                                  dist::Communicator& comm) {
  const dist::Slice mine =
      dist::SliceOf(static_cast<int64_t>(dataset.products.size()), comm.rank(), comm.size());
  std::vector<float> products =
      dist::AllGatherV(comm, embedder.EmbedProducts(dataset, mine.begin, mine.end));
  return std::make_unique<models::EmbeddingRetriever>(
      name, embedder.EmbedQueries(dataset.queries.text), std::move(products), embedder.dim());
}

// COLLECTIVE. For a variant that is not the deployed one: RUN/eval/<variant>/, a run folder with
// the variant's vectors, a vector index built with options.index, a lexical index, and RUN's
// checkpoints linked in.
std::string IndexedRunOf(const RecallEvalOptions& options, models::RecallVariant variant,
                         dist::Communicator& comm) {
  const fs::path run = fs::path(options.out) / "eval" / models::VariantName(variant);
  if (comm.rank() == kRoot) {
    fs::create_directories(run);
    if (!fs::exists(run / "checkpoints")) {
      fs::create_directory_symlink(fs::absolute(fs::path(options.out) / "checkpoints"),
                                   run / "checkpoints");
    }
  }
  comm.Barrier();
  models::EmbedOptions embed;
  embed.data = options.data;
  embed.out = run.string();
  embed.variant = models::VariantName(variant);
  models::EmbedCatalogue(embed, comm);
  shards::IndexBuildOptions index = options.index;
  index.vectors_path = (run / "vectors.h5").string();
  index.index_dir = (run / "index").string();
  shards::BuildIndex(index, comm);
  shards::BuildLexicalIndex({options.data, index.index_dir, {}, shards::Stemmer::kPlural}, comm);
  return run.string();
}

}  // namespace

void CheckHasTestQueries(const data::Dataset& dataset, const std::string& path) {
  RECSYS_CHECK(!models::JudgedQueries(dataset, data::Split::kTest).empty(),
               "the test split of " << path
                                    << " has no judged query: the evaluation would measure nothing "
                                       "(give the data a test split: recsys_data convert "
                                       "--test-fraction)");
}

models::RecallTable RunRecallEval(const RecallEvalOptions& options, dist::Communicator& comm) {
  const bool root = comm.rank() == kRoot;
  const data::Dataset dataset = data::ReadDataset(options.data);
  CheckHasTestQueries(dataset, options.data);
  const std::vector<models::JudgedQuery> test = models::JudgedQueries(dataset, data::Split::kTest);
  std::vector<std::string> texts;
  if (root) {
    for (const models::JudgedQuery& q : test) texts.push_back(dataset.queries.text[q.query]);
  }
  const auto query_rows = static_cast<int64_t>(dataset.queries.size());
  const int64_t depth = models::RetrievalDepth(options.metrics);  // each source's top M

  std::vector<std::unique_ptr<models::Retriever>> owned;
  owned.push_back(std::make_unique<models::RandomRetriever>(dataset.products.size(), options.seed));
  owned.push_back(std::make_unique<models::PopularityRetriever>(dataset));
  // One collective search of every test query through the serving path.
  auto served = [&](RecallService& service, const std::string& name, RecallMode mode, Fusion fusion,
                    int64_t candidates) {
    RecallOptions recall;
    recall.mode = mode;
    recall.candidates = candidates;
    recall.nprobe = options.nprobe;
    recall.fusion = options.fusion;
    recall.fusion.fusion = fusion;
    owned.push_back(std::make_unique<ListRetriever>(
        name, test,
        ShareLists(service.Recall(texts, recall), static_cast<int64_t>(test.size()), comm),
        query_rows));
  };

  const fs::path index_dir = fs::path(options.out) / "index";
  const bool indexed = fs::exists(index_dir / "manifest.h5") &&
                       fs::exists(shards::LexicalManifestPath(index_dir.string()));
  if (!indexed && root) {
    RECSYS_WARN("eval: no complete index in " << index_dir
                                              << ": only exact search and baselines measured");
  }
  std::unique_ptr<RecallService> deployed;  // RUN/index, loaded once
  if (indexed) {
    deployed = std::make_unique<RecallService>(options.out, comm);
    served(*deployed, "bm25", RecallMode::kLexical, Fusion::kReciprocalRank, depth);
  }
  const std::string ivf = " ivf nprobe=" + std::to_string(options.nprobe);
  for (models::RecallVariant variant : models::ParseVariants(options.variant)) {
    const std::string checkpoint = models::RecallCheckpointPath(options.out, variant);
    // Every rank sees the same file system, so every rank skips the same variants.
    if (!fs::exists(checkpoint)) {
      if (root) RECSYS_WARN("eval: no checkpoint " << checkpoint << ", skipped");
      continue;
    }
    const std::string name = std::string("two_tower_") + models::VariantName(variant);
    owned.push_back(ExactRetriever(*models::TwoTowerEmbedder::Load(checkpoint), name + " exact",
                                   dataset, comm));
    if (!indexed) continue;
    if (deployed->model_version().rfind(name + "-", 0) != 0) {
      RecallService own(IndexedRunOf(options, variant, comm), comm);
      served(own, name + ivf, RecallMode::kDense, Fusion::kReciprocalRank, depth);
      continue;
    }
    served(*deployed, name + ivf, RecallMode::kDense, Fusion::kReciprocalRank, depth);
    // M = depth / 2 from each source: a union of at most depth, the single sources' budget (its
    // Recall@depth is the whole union's); M = depth: the fused top depth of up to 2 x depth.
    for (int64_t m : {depth / 2, depth}) {
      for (Fusion fusion : {Fusion::kReciprocalRank, Fusion::kScore}) {
        served(*deployed,
               std::string("hybrid ") + FusionName(fusion) + " M=" + std::to_string(m) + " (" +
                   name + " + bm25)",
               RecallMode::kHybrid, fusion, m);
      }
    }
  }
  std::vector<const models::Retriever*> retrievers;
  for (const auto& r : owned) retrievers.push_back(r.get());
  models::RecallTable table = models::EvaluateRecall(dataset, data::Split::kTest, retrievers, comm,
                                                     /*show_progress=*/true, options.metrics);
  if (root) models::WriteRecallTable(table, (fs::path(options.out) / "results").string());
  return table;
}

}  // namespace recsys::serve
