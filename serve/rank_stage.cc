#include "serve/rank_stage.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"
#include "core/numeric_checks.h"
#include "core/stable_hash.h"
#include "data/dataset.h"
#include "serve/ranking_set_builder.h"

namespace recsys::serve {

namespace {

constexpr uint64_t kSelectionSeed = 0x53454c454354ULL;  // which valid queries select

}  // namespace

void CheckRankStageOptions(const RankStageOptions& options) {
  RECSYS_CHECK(
      options.train_queries == "train" || options.train_queries == "valid",
      "unknown --rank-train-queries '" << options.train_queries << "' (choose train, valid)");
  RECSYS_CHECK(!options.rankers.empty(), "--rankers names no ranker");
  CheckCount("--rank-candidates", options.recall.candidates, 1);
  CheckCount("--feature-buckets", options.features.num_buckets, 1);
  // The sparse fields' tables: buckets x width floats, with the optimiser's two moments.
  const int64_t width = std::max(options.train.factors, options.train.embedding_dim);
  CheckFitsInMemory(
      "--feature-buckets " + std::to_string(options.features.num_buckets) + " x " +
          std::to_string(width) +
          " (--factors, --embedding-dim: the rankers' "
          "tables and their optimiser state)",
      3.0 * static_cast<double>(options.features.num_buckets) * width * sizeof(float));
  for (const std::string& name : options.rankers) {
    models::CheckRankerTrainOptions(models::ParseRankerName(name, options.train));
  }
}

std::vector<models::RankerTrainReport> RunRankStage(const RankStageOptions& options,
                                                    dist::Communicator& comm) {
  CheckRankStageOptions(options);
  const data::Dataset dataset = data::ReadDataset(options.data);
  RecallService service(options.out, comm);
  RECSYS_CHECK(service.products() == static_cast<int64_t>(dataset.products.size()),
               "rank stage: the index in " << options.out << " holds " << service.products()
                                           << " products, " << options.data << " has "
                                           << dataset.products.size()
                                           << ": build the index from this dataset");
  const models::RankingFeatureBuilder builder(dataset, options.features);
  std::vector<int32_t> learn, select;
  if (options.train_queries == "train") {
    learn = JudgedQueryRows(dataset, data::Split::kTrain);
    select = JudgedQueryRows(dataset, data::Split::kValid);
  } else {
    for (int32_t q : JudgedQueryRows(dataset, data::Split::kValid)) {
      (StableHash(dataset.queries.id[q], kSelectionSeed) % 4 == 0 ? select : learn).push_back(q);
    }
  }
  RECSYS_CHECK(!learn.empty() && !select.empty(),
               "rank stage: --rank-train-queries " << options.train_queries << " leaves "
                                                   << learn.size() << " queries to learn from and "
                                                   << select.size() << " to select on in "
                                                   << options.data);
  const models::RankingSet train =
      BuildRankingSet(service, builder, dataset, learn, options.recall, comm);
  const models::RankingSet valid =
      BuildRankingSet(service, builder, dataset, select, options.recall, comm);
  if (comm.rank() == 0) {
    RECSYS_INFO("rank stage: " << train.groups() << " lists to learn from, " << valid.groups()
                               << " to select on; NDCG@10 of the candidate order (fusion) on "
                                  "the selection lists "
                               << models::RankedNdcg(valid, models::CandidateOrderScores(valid),
                                                     dataset, 10, options.train.relevant_from,
                                                     options.train.gains));
  }
  std::vector<models::RankerTrainReport> reports;
  for (const std::string& name : options.rankers) {
    reports.push_back(models::TrainRanker(models::ParseRankerName(name, options.train), options.out,
                                          train, valid, dataset, comm));
  }
  return reports;
}

}  // namespace recsys::serve
