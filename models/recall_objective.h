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
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "dist/communicator.h"
#include "dist/distributed_sampler.h"
#include "models/metrics.h"
#include "models/recall_training.h"
#include "models/training_loop.h"
#include "models/two_tower.h"

namespace recsys::models {

struct RecallObjectiveOptions {
  int64_t random_negatives = 256;  // R random catalogue products shared by each global batch
  double margin = 0.2;             // pairwise hinge margin, on cosines
  int recall_k = 50;               // Validate() is Recall@recall_k on the valid split
  uint64_t seed = 1;
};

// What the four variants share: the examples, the random and hard negatives, embedding the
// batch's products and gathering the shared ones across ranks, and validation. A variant says
// which products only its own loss needs and how the loss is computed from the scores.
class RecallObjective : public TrainingObjective {
 public:
  int64_t num_examples() const override { return static_cast<int64_t>(query_.size()); }

  // Examples per global batch for a batch of about `pairs` judged pairs: `pairs` for the variants
  // whose example is one pair, pairs / (mean list length) lists for list-wise (at least 1), so
  // that every variant takes about as many steps per epoch and sees as many pairs per step.
  int64_t ExamplesPerBatch(int64_t pairs) const;

  // COLLECTIVE over comm (product embeddings are gathered across ranks). This rank handles its
  // slice dist::SliceOf(batch.size(), rank, size) of the batch and returns the sum of its
  // examples' losses divided by batch.size(). step seeds the random negatives, epoch the hard
  // negatives.
  torch::Tensor LocalLoss(const std::vector<int64_t>& batch, int64_t step, int64_t epoch,
                          dist::Communicator& comm) override;

  // COLLECTIVE over comm: Recall@recall_k on the valid split's judged queries (exact top-k over
  // the whole catalogue). Every rank embeds its slice of the catalogue and of the queries.
  double Validate(dist::Communicator& comm) override;

 protected:
  // Which judged pairs make an example.
  enum class Examples { kExactPairs, kAllPairs, kPositiveLists };
  // model, featurizer and dataset must outlive the objective.
  RecallObjective(Examples examples, bool in_batch, TwoTower& model,
                  const TwoTowerFeaturizer& featurizer, const data::Dataset& dataset,
                  const RecallObjectiveOptions& options);

  // One step's scores, as a variant's Loss() receives them. This rank's b examples are global
  // batch positions [mine.begin, mine.end).
  struct Scores {
    const std::vector<int64_t>& batch;    // the global batch's examples
    dist::Slice mine;                     // this rank's part of it
    std::vector<int64_t> negatives;       // the step's R random products
    std::vector<int64_t> batch_products;  // per global position: the example's product
                                          // (-1 for list-wise examples)
    std::vector<int64_t> columns;         // product of each column of cosine
    torch::Tensor query;                  // [b, d] this rank's query embeddings
    torch::Tensor cosine;                 // [b, columns] against the shared columns: the
                                          // global batch's products when in_batch, then R
    torch::Tensor own;                    // [rows, d] the rows OwnRows() asked for, in order
    torch::Tensor scale;                  // 1 / temperature
  };

  // Appends the products that only example's own loss needs (none by default).
  virtual void OwnRows(int64_t example, int64_t epoch, std::vector<int64_t>* rows) const;
  // The loss of each of this rank's examples: [b].
  virtual torch::Tensor Loss(const Scores& scores) const = 0;

  int64_t RandomProduct(uint64_t key) const;
  int64_t HardNegative(int64_t example, int64_t epoch) const;

  const data::Dataset& dataset_;
  RecallObjectiveOptions options_;
  // Example i: query query_[i] and judged pairs [first_pair_[i], first_pair_[i] + num_pairs_[i])
  // of dataset.pairs (one pair, or a list-wise query's whole list).
  std::vector<int32_t> query_;
  std::vector<int64_t> first_pair_, num_pairs_;

 private:
  std::vector<int64_t> RandomNegatives(int64_t step) const;

  Examples examples_;
  bool in_batch_;
  TwoTower& model_;
  const TwoTowerFeaturizer& featurizer_;
  // Judged pairs of query q: [query_first_[q], query_first_[q] + query_count_[q]) (pairs are
  // grouped by query); what hard negatives are drawn from.
  std::vector<int64_t> query_first_, query_count_;
  std::vector<JudgedQuery> valid_;
};

// The variant's objective over dataset's train split (see the table above).
std::unique_ptr<RecallObjective> MakeRecallObjective(RecallVariant variant, TwoTower& model,
                                                     const TwoTowerFeaturizer& featurizer,
                                                     const data::Dataset& dataset,
                                                     const RecallObjectiveOptions& options);

}  // namespace recsys::models
