#pragma once
// `recsys_train --stage rank`: the rankers learn to order what the deployed recall stage returns.
// Every judged train and valid query is sent through the serving path (serve::RecallService,
// hybrid by default); the fused top M of its candidates become a list of ranking features
// (serve/ranking_set_builder.h) labelled by the judged grades (unjudged candidates are hard
// negatives of grade I); each ranker named in `rankers` is trained on the train lists and
// selected on the valid lists' NDCG@10 (models/ranker.h).

#include <cstdint>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "models/ranker.h"
#include "models/ranking_features.h"
#include "serve/recall_service.h"

namespace recsys::serve {

struct RankStageOptions {
  std::string data;  // dataset.h5 (the one the index was built from)
  std::string out;   // run folder: reads RUN/index and the two-tower checkpoint, writes
                     // RUN/checkpoints/ranker_<name>.h5
  // Rankers to train, by name (models::ParseRankerName): fm, fm-bce, dcn-<layers>[-vector]
  // [-parallel][-bce], xgboost.
  std::vector<std::string> rankers = {"fm", "dcn-2", "xgboost"};
  RecallOptions recall;  // candidates (M), mode, nprobe, fusion of the training lists
  // Which queries the rankers learn from:
  //   "train": the train split (the two-tower model's own training queries), selecting on the
  //            valid split;
  //   "valid": queries the recall model never trained on: the valid split, 3/4 of it (by a hash
  //            of the query id) to learn from and 1/4 to select on.
  std::string train_queries = "valid";
  models::RankingFeatureOptions features;
  models::RankerTrainOptions train;  // shared settings; the name sets model, layers and loss
};

// Throws recsys::Error naming the first bad option (before any work). Not collective.
void CheckRankStageOptions(const RankStageOptions& options);

// COLLECTIVE over comm. One report per ranker, in order, the same on every rank.
std::vector<models::RankerTrainReport> RunRankStage(const RankStageOptions& options,
                                                    dist::Communicator& comm);

}  // namespace recsys::serve
