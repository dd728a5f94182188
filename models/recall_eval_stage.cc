#include "models/recall_eval_stage.h"

#include <filesystem>
#include <memory>

#include "core/log.h"
#include "dist/communicator.h"
#include "dist/distributed_sampler.h"
#include "models/baselines.h"
#include "models/recall_training.h"
#include "models/two_tower_embedder.h"

namespace recsys::models {
namespace {

// The variant's retriever over embeddings made on all ranks: each rank embeds its slice of the
// catalogue, the slices are all-gathered (rows stay in catalogue order).
std::unique_ptr<Retriever> EmbeddingRetrieverOf(const TwoTowerEmbedder& embedder,
                                                const std::string& name,
                                                const data::Dataset& dataset,
                                                dist::Communicator& comm) {
  const dist::Slice mine =
      dist::SliceOf(static_cast<int64_t>(dataset.products.size()), comm.rank(), comm.size());
  std::vector<float> products =
      dist::AllGatherV(comm, embedder.EmbedProducts(dataset, mine.begin, mine.end));
  return std::make_unique<EmbeddingRetriever>(name, embedder.EmbedQueries(dataset.queries.text),
                                              std::move(products), embedder.dim());
}

}  // namespace

RecallTable RunRecallEval(const RecallEvalOptions& options, dist::Communicator& comm) {
  const data::Dataset dataset = data::ReadDataset(options.data);
  std::vector<std::unique_ptr<Retriever>> owned;
  owned.push_back(std::make_unique<RandomRetriever>(dataset.products.size(), options.seed));
  owned.push_back(std::make_unique<PopularityRetriever>(dataset));
  owned.push_back(std::make_unique<Bm25Retriever>(dataset));
  for (RecallVariant variant : ParseVariants(options.variant)) {
    const std::string checkpoint = RecallCheckpointPath(options.out, variant);
    // Every rank sees the same file system, so every rank skips the same variants.
    if (!std::filesystem::exists(checkpoint)) {
      if (comm.rank() == 0) RECSYS_WARN("eval: no checkpoint " << checkpoint << ", skipped");
      continue;
    }
    auto embedder = TwoTowerEmbedder::Load(checkpoint);
    owned.push_back(EmbeddingRetrieverOf(
        *embedder, std::string("two_tower_") + VariantName(variant), dataset, comm));
  }
  std::vector<const Retriever*> retrievers;
  for (const auto& r : owned) retrievers.push_back(r.get());

  RecallTable table = EvaluateRecall(dataset, data::Split::kTest, retrievers, comm,
                                     /*show_progress=*/true);
  if (comm.rank() == 0) {
    WriteRecallTable(table, (std::filesystem::path(options.out) / "results").string());
  }
  return table;
}

}  // namespace recsys::models
