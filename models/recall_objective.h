#pragma once
// What the two-tower model is trained on, per variant: the training examples drawn from the
// train split, the negatives each example is scored against, and the loss. A global batch holds
// B examples (the same on any number of ranks, see dist::DistributedSampler) and R random
// catalogue products shared by the whole batch.
//
// Examples and negatives (B = batch size, R = random_negatives, both options):
//   base       example = a (train query, product judged E) pair. Softmax over 1 positive +
//              (B - 1) in-batch negatives (the other examples' positives; a column holding the
//              same product as the positive is left out) + R random catalogue products.
//   pointwise  example = any judged (train query, product) pair. BCE of score / temperature
//              against the grade's gain as a soft target (E 1, S 0.1, C 0.01, I 0; the NDCG gains
//              of models/metrics.h), plus the mean BCE of the R random products with target 0.
//   pairwise   example = a (train query, product judged E) pair and a hard negative: one of the
//              query's judged products of a lower grade, drawn per epoch (a random catalogue
//              product when the query has none). Hinge max(0, margin - cos(q, pos) + cos(q, neg))
//              on cosines: for the hard negative, plus the mean over the (B - 1) in-batch and R
//              random negatives.
//   listwise   example = a train query with at least one judged product of positive gain. ListNet
//              cross-entropy between softmax(score) and gain / sum(gain) over the query's whole
//              judged list (up to judged_per_query products, every grade) plus the R random
//              products with gain 0 (one that is on the list is left out).
// Random negatives are drawn from (seed, global step) and hard negatives from (seed, epoch,
// example), never from a rank's state, so they are the same for any number of ranks.

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "dist/communicator.h"
#include "models/recall_training.h"
#include "models/two_tower.h"

namespace recsys::models {

struct RecallObjectiveOptions {
  int64_t random_negatives = 256;  // R random catalogue products shared by each global batch
  double margin = 0.2;             // pairwise hinge margin, on cosines
  uint64_t seed = 1;
};

class RecallObjective {
 public:
  // Builds the variant's examples from the train split. dataset must outlive the objective.
  RecallObjective(RecallVariant variant, const data::Dataset& dataset,
                  const RecallObjectiveOptions& options);

  RecallVariant variant() const { return variant_; }
  int64_t num_examples() const { return static_cast<int64_t>(query_.size()); }

  // Examples per global batch for a batch of about `pairs` judged pairs: `pairs` for the variants
  // whose example is one pair, pairs / (mean list length) lists for list-wise (at least 1), so
  // that every variant takes about as many steps per epoch and sees as many pairs per step.
  int64_t ExamplesPerBatch(int64_t pairs) const;

  // COLLECTIVE over comm (product embeddings are gathered across ranks). batch: the global
  // batch's example indices, the same on every rank; this rank handles its slice
  // dist::SliceOf(batch.size(), rank, size). Returns this rank's share of the batch's mean loss:
  // the sum of its examples' losses divided by batch.size(). step: the global step (seeds the
  // random negatives); epoch: seeds the hard negatives.
  torch::Tensor LocalLoss(TwoTower& model, const TwoTowerFeaturizer& featurizer,
                          const std::vector<int64_t>& batch, int64_t step, int64_t epoch,
                          dist::Communicator& comm) const;

 private:
  int64_t RandomProduct(uint64_t key) const;
  std::vector<int64_t> RandomNegatives(int64_t step) const;
  int64_t HardNegative(int64_t example, int64_t epoch) const;

  RecallVariant variant_;
  const data::Dataset& dataset_;
  RecallObjectiveOptions options_;
  // Example i: query query_[i] and judged pairs [first_pair_[i], first_pair_[i] + num_pairs_[i])
  // of dataset.pairs (one pair, or a listwise query's whole list).
  std::vector<int32_t> query_;
  std::vector<int64_t> first_pair_, num_pairs_;
  // Judged pairs of query q: [query_first_[q], query_first_[q] + query_count_[q]) (pairs are
  // grouped by query); what hard negatives are drawn from.
  std::vector<int64_t> query_first_, query_count_;
};

}  // namespace recsys::models
