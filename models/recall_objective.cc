#include "models/recall_objective.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/stable_hash.h"
#include "dist/data_parallel.h"
#include "dist/distributed_sampler.h"
#include "models/metrics.h"
#include "models/recall_losses.h"
#include "models/retriever.h"
#include "models/two_tower_embedder.h"

namespace recsys::models {
namespace {

// Salts so that random negatives and hard negatives draw from different streams of one seed.
constexpr uint64_t kRandomNegativeSalt = 0x52414e444e454731ULL;
constexpr uint64_t kHardNegativeSalt = 0x484152444e454731ULL;

// Host vectors become tensors on the model's device. Always copies: autograd may keep a tensor
// (a BCE target) after the vector is gone.
torch::Tensor BoolTensor(const std::vector<uint8_t>& values, int64_t rows, int64_t cols,
                         torch::Device device) {
  return torch::from_blob(const_cast<uint8_t*>(values.data()), {rows, cols}, torch::kUInt8)
      .to(device, torch::kBool);
}

torch::Tensor FloatTensor(const std::vector<float>& values, at::IntArrayRef shape,
                          const torch::TensorOptions& options) {
  return torch::tensor(values, torch::kFloat32).view(shape).to(options);
}

torch::Tensor IndexTensor(const std::vector<int64_t>& values, torch::Device device) {
  return torch::tensor(values, torch::kInt64).to(device);
}

}  // namespace

RecallObjective::RecallObjective(Examples examples, bool in_batch, TwoTower& model,
                                 const TwoTowerFeaturizer& featurizer, const data::Dataset& dataset,
                                 const RecallObjectiveOptions& options)
    : dataset_(dataset),
      options_(options),
      examples_(examples),
      in_batch_(in_batch),
      model_(model),
      featurizer_(featurizer),
      valid_(JudgedQueries(dataset, data::Split::kValid)) {
  RECSYS_CHECK(options.random_negatives >= 0, "random_negatives=" << options.random_negatives);
  RECSYS_CHECK(options.recall_k >= 1, "recall_k=" << options.recall_k);
  RECSYS_CHECK(dataset.products.size() > 0, "the dataset has no products");
  const data::Judgments& pairs = dataset.pairs;
  const int64_t num_queries = static_cast<int64_t>(dataset.queries.size());
  query_first_.assign(num_queries, -1);
  query_count_.assign(num_queries, 0);
  for (int64_t i = 0; i < static_cast<int64_t>(pairs.size()); ++i) {
    const int32_t q = pairs.query[i];
    if (query_count_[q] == 0) query_first_[q] = i;
    RECSYS_CHECK(query_first_[q] + query_count_[q] == i,
                 "judged pairs are not grouped by query (query row " << q << ")");
    ++query_count_[q];
  }
  for (int32_t q = 0; q < num_queries; ++q) {
    if (dataset.queries.split[q] != data::Split::kTrain || query_count_[q] == 0) continue;
    const int64_t first = query_first_[q], count = query_count_[q];
    if (examples == Examples::kPositiveLists) {
      double gain = 0;
      for (int64_t i = first; i < first + count; ++i) gain += GradeGain(pairs.grade[i]);
      if (gain > 0) {
        query_.push_back(q);
        first_pair_.push_back(first);
        num_pairs_.push_back(count);
      }
      continue;
    }
    for (int64_t i = first; i < first + count; ++i) {
      if (examples == Examples::kAllPairs || pairs.grade[i] == data::Grade::kExact) {
        query_.push_back(q);
        first_pair_.push_back(i);
        num_pairs_.push_back(1);
      }
    }
  }
}

int64_t RecallObjective::RandomProduct(uint64_t key) const {
  return static_cast<int64_t>(Mix64(key) % dataset_.products.size());
}

std::vector<int64_t> RecallObjective::RandomNegatives(int64_t step) const {
  const uint64_t key = HashCombine(options_.seed ^ kRandomNegativeSalt, step);
  std::vector<int64_t> out(options_.random_negatives);
  for (int64_t k = 0; k < options_.random_negatives; ++k) out[k] = RandomProduct(key + k);
  return out;
}

int64_t RecallObjective::HardNegative(int64_t example, int64_t epoch) const {
  const uint64_t key = HashCombine(HashCombine(options_.seed ^ kHardNegativeSalt, epoch), example);
  const data::Judgments& pairs = dataset_.pairs;
  const int64_t positive = first_pair_[example];
  const int32_t q = query_[example];
  std::vector<int64_t> lower;
  for (int64_t i = query_first_[q]; i < query_first_[q] + query_count_[q]; ++i) {
    if (pairs.grade[i] < pairs.grade[positive]) lower.push_back(pairs.product[i]);
  }
  if (!lower.empty()) return lower[Mix64(key) % lower.size()];
  int64_t product = RandomProduct(key);
  if (product == pairs.product[positive]) product = (product + 1) % dataset_.products.size();
  return product;
}

int64_t RecallObjective::ExamplesPerBatch(int64_t pairs) const {
  RECSYS_CHECK(pairs >= 1, "a batch of " << pairs << " pairs");
  if (num_pairs_.empty()) return pairs;
  const double total = std::accumulate(num_pairs_.begin(), num_pairs_.end(), 0.0);
  const double mean_pairs = total / static_cast<double>(num_pairs_.size());
  return std::max<int64_t>(1, std::llround(static_cast<double>(pairs) / mean_pairs));
}

void RecallObjective::OwnRows(int64_t /*example*/, int64_t /*epoch*/,
                              std::vector<int64_t>* /*rows*/) const {}

torch::Tensor RecallObjective::LocalLoss(const std::vector<int64_t>& batch, int64_t step,
                                         int64_t epoch, dist::Communicator& comm) {
  const int world = comm.size(), rank = comm.rank();
  const auto global = static_cast<int64_t>(batch.size());
  RECSYS_CHECK(global > 0, "empty global batch");
  Scores s{batch, dist::SliceOf(global, rank, world), {}, {}, {}, {}, {}, {}, {}};
  const dist::Slice mine = s.mine;
  s.negatives = RandomNegatives(step);
  const auto r = static_cast<int64_t>(s.negatives.size());
  const dist::Slice my_negatives = dist::SliceOf(r, rank, world);

  s.batch_products.assign(global, -1);
  if (examples_ != Examples::kPositiveLists) {
    for (int64_t i = 0; i < global; ++i) {
      s.batch_products[i] = dataset_.pairs.product[first_pair_[batch[i]]];
    }
  }

  // Product rows this rank embeds: first those gathered across ranks (its in-batch positives,
  // then its slice of the random negatives), then those only its own loss needs.
  std::vector<int64_t> rows;
  if (in_batch_) {
    rows.assign(s.batch_products.begin() + mine.begin, s.batch_products.begin() + mine.end);
  }
  rows.insert(rows.end(), s.negatives.begin() + my_negatives.begin,
              s.negatives.begin() + my_negatives.end);
  const auto gathered_rows = static_cast<int64_t>(rows.size());
  for (int64_t i = mine.begin; i < mine.end; ++i) OwnRows(batch[i], epoch, &rows);
  const torch::Tensor embedded = model_->product->forward(featurizer_.Products(dataset_, rows));
  s.own = embedded.narrow(0, gathered_rows, embedded.size(0) - gathered_rows);
  const torch::Device device = embedded.device();

  // Gather, then order the columns as [all in-batch positives (global order), all negatives].
  std::vector<int64_t> counts(world);
  std::vector<int64_t> order;  // row of the gathered tensor for each column
  {
    std::vector<int64_t> start(world);
    int64_t offset = 0;
    for (int w = 0; w < world; ++w) {
      start[w] = offset;
      counts[w] = (in_batch_ ? dist::SliceOf(global, w, world).size() : 0) +
                  dist::SliceOf(r, w, world).size();
      offset += counts[w];
    }
    if (in_batch_) {
      for (int w = 0; w < world; ++w) {
        for (int64_t i = 0; i < dist::SliceOf(global, w, world).size(); ++i) {
          order.push_back(start[w] + i);
        }
      }
    }
    for (int w = 0; w < world; ++w) {
      const int64_t skip = in_batch_ ? dist::SliceOf(global, w, world).size() : 0;
      for (int64_t k = 0; k < dist::SliceOf(r, w, world).size(); ++k) {
        order.push_back(start[w] + skip + k);
      }
    }
  }
  const torch::Tensor gathered =
      dist::AllGatherRows(embedded.narrow(0, 0, gathered_rows), counts, comm);
  const torch::Tensor columns = gathered.index_select(0, IndexTensor(order, device));
  if (in_batch_) s.columns = s.batch_products;
  s.columns.insert(s.columns.end(), s.negatives.begin(), s.negatives.end());

  std::vector<int64_t> query_rows;
  for (int64_t i = mine.begin; i < mine.end; ++i) query_rows.push_back(query_[batch[i]]);
  s.query = model_->query->forward(featurizer_.QueryRows(dataset_, query_rows));
  s.cosine = torch::matmul(s.query, columns.t());  // [b, columns]
  s.scale = model_->scale();
  return Loss(s).sum() / static_cast<double>(global);
}

double RecallObjective::Validate(dist::Communicator& comm) {
  const bool training = model_->is_training();
  model_->eval();
  const auto products = static_cast<int64_t>(dataset_.products.size());
  const dist::Slice mine = EmbeddingSlice(products, comm.rank(), comm.size());
  const std::vector<float> all_products =
      dist::AllGatherV(comm, EmbedProductRange(model_, featurizer_, dataset_, mine.begin, mine.end,
                                               TwoTowerEmbedder::kBlockRows));
  const dist::Slice my_queries =
      dist::SliceOf(static_cast<int64_t>(valid_.size()), comm.rank(), comm.size());
  std::vector<std::string> texts;
  std::vector<int32_t> local_rows;
  for (int64_t i = my_queries.begin; i < my_queries.end; ++i) {
    texts.push_back(dataset_.queries.text[valid_[i].query]);
    local_rows.push_back(static_cast<int32_t>(i - my_queries.begin));
  }
  EmbeddingRetriever retriever(
      "valid", EmbedQueryTexts(model_, featurizer_, texts, TwoTowerEmbedder::kBlockRows),
      all_products, model_->options.dim());
  const int k = options_.recall_k;
  RankingMetrics metrics({k});
  const auto ranked = retriever.Retrieve(local_rows, k);
  for (size_t i = 0; i < ranked.size(); ++i) metrics.Add(ranked[i], valid_[my_queries.begin + i]);
  metrics.AllReduce(comm);
  if (training) model_->train();
  return metrics.queries() > 0 ? metrics.Recall(k) : 0.0;
}

namespace {

// Softmax over the positive (an in-batch column) against the other in-batch columns and the
// random negatives.
class BaseObjective : public RecallObjective {
 public:
  BaseObjective(TwoTower& model, const TwoTowerFeaturizer& featurizer, const data::Dataset& dataset,
                const RecallObjectiveOptions& options)
      : RecallObjective(Examples::kExactPairs, /*in_batch=*/true, model, featurizer, dataset,
                        options) {}

 protected:
  torch::Tensor Loss(const Scores& s) const override {
    const Targets t = InBatchTargets(s);
    return SoftmaxLoss(s.cosine * s.scale, t.column, t.duplicate);
  }

  // Each local example's positive column (mine.begin + i) and the columns holding the same
  // product as its positive, which are not negatives.
  struct Targets {
    torch::Tensor column;     // [b] int64
    torch::Tensor duplicate;  // [b, columns] bool
  };
  static Targets InBatchTargets(const Scores& s) {
    const int64_t b = s.mine.size();
    const auto c = static_cast<int64_t>(s.columns.size());
    std::vector<int64_t> target(b);
    std::vector<uint8_t> duplicate(b * c);
    for (int64_t i = 0; i < b; ++i) {
      target[i] = s.mine.begin + i;
      for (int64_t j = 0; j < c; ++j) {
        duplicate[i * c + j] =
            j != target[i] && s.columns[j] == s.batch_products[target[i]] ? 1 : 0;
      }
    }
    const torch::Device device = s.cosine.device();
    return {IndexTensor(target, device), BoolTensor(duplicate, b, c, device)};
  }
};

// Hinge on cosines against a hard negative and, averaged, the in-batch and random negatives.
class PairwiseObjective : public BaseObjective {
 public:
  using BaseObjective::BaseObjective;

 protected:
  void OwnRows(int64_t example, int64_t epoch, std::vector<int64_t>* rows) const override {
    rows->push_back(HardNegative(example, epoch));
  }
  torch::Tensor Loss(const Scores& s) const override {
    const Targets t = InBatchTargets(s);
    const auto c = static_cast<int64_t>(s.columns.size());
    const torch::Tensor positive = s.cosine.gather(1, t.column.unsqueeze(1)).squeeze(1);
    const torch::Tensor not_negative =
        t.duplicate.logical_or(torch::nn::functional::one_hot(t.column, c).to(torch::kBool));
    const torch::Tensor hard = (s.query * s.own).sum(1, /*keepdim=*/true);
    return HingeLoss(positive, hard, torch::zeros_like(hard, torch::kBool), options_.margin) +
           HingeLoss(positive, s.cosine, not_negative, options_.margin);
  }
};

// BCE of each judged pair against its grade's gain, plus the random negatives against 0.
class PointwiseObjective : public RecallObjective {
 public:
  PointwiseObjective(TwoTower& model, const TwoTowerFeaturizer& featurizer,
                     const data::Dataset& dataset, const RecallObjectiveOptions& options)
      : RecallObjective(Examples::kAllPairs, /*in_batch=*/false, model, featurizer, dataset,
                        options) {}

 protected:
  void OwnRows(int64_t example, int64_t, std::vector<int64_t>* rows) const override {
    rows->push_back(dataset_.pairs.product[first_pair_[example]]);
  }
  torch::Tensor Loss(const Scores& s) const override {
    const int64_t b = s.mine.size();
    const auto r = static_cast<int64_t>(s.negatives.size());
    std::vector<float> targets(b);
    std::vector<uint8_t> excluded(b * r);
    for (int64_t i = 0; i < b; ++i) {
      const int64_t position = s.mine.begin + i;
      targets[i] =
          static_cast<float>(GradeGain(dataset_.pairs.grade[first_pair_[s.batch[position]]]));
      for (int64_t k = 0; k < r; ++k) {
        excluded[i * r + k] = s.negatives[k] == s.batch_products[position] ? 1 : 0;
      }
    }
    const auto options = s.query.options();
    const torch::Tensor own_loss =
        BinaryCrossEntropy((s.query * s.own).sum(1) * s.scale, FloatTensor(targets, {b}, options));
    const torch::Tensor kept =
        BoolTensor(excluded, b, r, s.cosine.device()).logical_not().to(options.dtype());
    const torch::Tensor negative_logits = s.cosine * s.scale;
    const torch::Tensor negative_loss =
        (BinaryCrossEntropy(negative_logits, torch::zeros_like(negative_logits)) * kept).sum(1) /
        kept.sum(1).clamp_min(1.0);
    return own_loss + negative_loss;
  }
};

// ListNet over a query's whole judged list plus the random negatives.
class ListwiseObjective : public RecallObjective {
 public:
  ListwiseObjective(TwoTower& model, const TwoTowerFeaturizer& featurizer,
                    const data::Dataset& dataset, const RecallObjectiveOptions& options)
      : RecallObjective(Examples::kPositiveLists, /*in_batch=*/false, model, featurizer, dataset,
                        options) {}

 protected:
  void OwnRows(int64_t example, int64_t, std::vector<int64_t>* rows) const override {
    for (int64_t p = first_pair_[example]; p < first_pair_[example] + num_pairs_[example]; ++p) {
      rows->push_back(dataset_.pairs.product[p]);
    }
  }
  torch::Tensor Loss(const Scores& s) const override {
    const data::Judgments& pairs = dataset_.pairs;
    const int64_t b = s.mine.size();
    const auto r = static_cast<int64_t>(s.negatives.size());
    const torch::Device device = s.cosine.device();
    // Scores of each local query's list, padded to the longest, then the random negatives.
    int64_t width = 0;
    for (int64_t i = 0; i < b; ++i) width = std::max(width, num_pairs_[s.batch[s.mine.begin + i]]);
    std::vector<int64_t> owner, slot;
    std::vector<float> gains(b * (width + r), 0.0f);
    std::vector<uint8_t> excluded(b * (width + r), 1);
    for (int64_t i = 0; i < b; ++i) {
      const int64_t e = s.batch[s.mine.begin + i];
      for (int64_t j = 0; j < num_pairs_[e]; ++j) {
        owner.push_back(i);
        slot.push_back(i * width + j);
        gains[i * (width + r) + j] = static_cast<float>(GradeGain(pairs.grade[first_pair_[e] + j]));
        excluded[i * (width + r) + j] = 0;
      }
      for (int64_t k = 0; k < r; ++k) {
        bool listed = false;
        for (int64_t p = first_pair_[e]; p < first_pair_[e] + num_pairs_[e]; ++p) {
          listed = listed || pairs.product[p] == s.negatives[k];
        }
        excluded[i * (width + r) + width + k] = listed ? 1 : 0;
      }
    }
    const auto options = s.query.options();
    const torch::Tensor owner_t = IndexTensor(owner, device);
    const torch::Tensor item_cosine = (s.query.index_select(0, owner_t) * s.own).sum(1);
    const torch::Tensor list_cosine = torch::zeros({b * width}, options)
                                          .index_copy(0, IndexTensor(slot, device), item_cosine)
                                          .view({b, width});
    const torch::Tensor logits = torch::cat({list_cosine, s.cosine}, 1) * s.scale;
    return ListNetLoss(logits, FloatTensor(gains, {b, width + r}, options),
                       BoolTensor(excluded, b, width + r, device));
  }
};

}  // namespace

std::unique_ptr<RecallObjective> MakeRecallObjective(RecallVariant variant, TwoTower& model,
                                                     const TwoTowerFeaturizer& featurizer,
                                                     const data::Dataset& dataset,
                                                     const RecallObjectiveOptions& options) {
  switch (variant) {
    case RecallVariant::kBase:
      return std::make_unique<BaseObjective>(model, featurizer, dataset, options);
    case RecallVariant::kPointwise:
      return std::make_unique<PointwiseObjective>(model, featurizer, dataset, options);
    case RecallVariant::kPairwise:
      return std::make_unique<PairwiseObjective>(model, featurizer, dataset, options);
    case RecallVariant::kListwise:
      return std::make_unique<ListwiseObjective>(model, featurizer, dataset, options);
  }
  RECSYS_THROW("unknown recall variant");
}

}  // namespace recsys::models
