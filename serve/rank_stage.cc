#include "serve/rank_stage.h"

#include "core/error.h"
#include "core/log.h"
#include "data/dataset.h"
#include "serve/ranking_set_builder.h"

namespace recsys::serve {

void CheckRankStageOptions(const RankStageOptions& options) {
  RECSYS_CHECK(!options.rankers.empty(), "--rankers names no ranker");
  RECSYS_CHECK(options.recall.candidates >= 1,
               "--rank-candidates must be at least 1, is " << options.recall.candidates);
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
  const models::RankingSet train =
      BuildRankingSet(service, builder, dataset, JudgedQueryRows(dataset, data::Split::kTrain),
                      options.recall, comm);
  const models::RankingSet valid =
      BuildRankingSet(service, builder, dataset, JudgedQueryRows(dataset, data::Split::kValid),
                      options.recall, comm);
  if (comm.rank() == 0) {
    RECSYS_INFO("rank stage: valid NDCG@10 of the candidate order (fusion) "
                << models::RankedNdcg(valid, models::CandidateOrderScores(valid), dataset, 10,
                                      options.train.relevant_from, options.train.gains));
  }
  std::vector<models::RankerTrainReport> reports;
  for (const std::string& name : options.rankers) {
    reports.push_back(models::TrainRanker(models::ParseRankerName(name, options.train), options.out,
                                          train, valid, dataset, comm));
  }
  return reports;
}

}  // namespace recsys::serve
