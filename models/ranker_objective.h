#pragma once
// What FM and DCN train on (models/training_loop.h's objective for the neural rankers): an
// example is one train query's candidate list (a RankingSet group with at least one candidate of
// positive gain); the loss is point-wise BCE of each candidate's score against its grade's gain,
// or LambdaRank (models/ranking_losses.h) over the list; validation is NDCG@10 over the full
// catalogue of the valid lists.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "data/dataset.h"
#include "dist/communicator.h"
#include "models/metrics.h"
#include "models/ranker.h"
#include "models/ranker_net.h"
#include "models/training_loop.h"

namespace recsys::models {

enum class RankerLoss { kBce, kLambdaRank };

struct RankerObjectiveOptions {
  RankerLoss loss = RankerLoss::kLambdaRank;
  GradeGains gains;  // BCE targets, LambdaRank gains, validation NDCG gains
  data::Grade relevant_from = data::Grade::kExact;  // validation: queries without one skipped
};

class RankerObjective : public TrainingObjective {
 public:
  // net, train, valid and dataset must outlive the objective.
  RankerObjective(RankerNetImpl& net, const RankerObjectiveOptions& options,
                  const RankingSet& train, const RankingSet& valid, const data::Dataset& dataset);

  int64_t num_examples() const override { return static_cast<int64_t>(groups_.size()); }

  // COLLECTIVE over comm. This rank scores the lists of its slice (dist::SliceOf) of the batch.
  // Its share of the loss: BCE summed over its candidates divided by the batch's candidates, or
  // LambdaRank summed over its lists divided by the batch's lists.
  torch::Tensor LocalLoss(const std::vector<int64_t>& batch, int64_t step, int64_t epoch,
                          dist::Communicator& comm) override;

  // COLLECTIVE over comm: each rank scores its slice of the valid lists; NDCG@10 of all of them.
  double Validate(dist::Communicator& comm) override;

 private:
  RankerNetImpl& net_;
  RankerObjectiveOptions options_;
  const RankingSet& train_;
  const RankingSet& valid_;
  const data::Dataset& dataset_;
  std::vector<int64_t> groups_;  // train groups with a positive gain: the examples
};

}  // namespace recsys::models
