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

namespace recsys::models {
namespace {

// Salts so that random negatives and hard negatives draw from different streams of one seed.
constexpr uint64_t kRandomNegativeSalt = 0x52414e444e454731ULL;
constexpr uint64_t kHardNegativeSalt = 0x484152444e454731ULL;

bool UsesInBatch(RecallVariant v) {
  return v == RecallVariant::kBase || v == RecallVariant::kPairwise;
}

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

RecallObjective::RecallObjective(RecallVariant variant, const data::Dataset& dataset,
                                 const RecallObjectiveOptions& options)
    : variant_(variant), dataset_(dataset), options_(options) {
  RECSYS_CHECK(options.random_negatives >= 0, "random_negatives=" << options.random_negatives);
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
    if (variant == RecallVariant::kListwise) {
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
      if (variant == RecallVariant::kPointwise || pairs.grade[i] == data::Grade::kExact) {
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

torch::Tensor RecallObjective::LocalLoss(TwoTower& model, const TwoTowerFeaturizer& featurizer,
                                         const std::vector<int64_t>& batch, int64_t step,
                                         int64_t epoch, dist::Communicator& comm) const {
  const data::Judgments& pairs = dataset_.pairs;
  const int world = comm.size(), rank = comm.rank();
  const auto global = static_cast<int64_t>(batch.size());
  RECSYS_CHECK(global > 0, "empty global batch");
  const dist::Slice mine = dist::SliceOf(global, rank, world);
  const int64_t b = mine.size();
  const std::vector<int64_t> negatives = RandomNegatives(step);
  const auto r = static_cast<int64_t>(negatives.size());
  const dist::Slice my_negatives = dist::SliceOf(r, rank, world);
  const bool in_batch = UsesInBatch(variant_);

  // Products of the global batch's examples (the positives, or the pointwise item); a listwise
  // example has a whole list instead.
  std::vector<int64_t> batch_products(global, -1);
  if (variant_ != RecallVariant::kListwise) {
    for (int64_t i = 0; i < global; ++i) batch_products[i] = pairs.product[first_pair_[batch[i]]];
  }

  // Product rows this rank embeds: first those gathered across ranks (its in-batch positives,
  // then its slice of the random negatives), then those only its own loss needs.
  std::vector<int64_t> rows;
  if (in_batch) {
    rows.assign(batch_products.begin() + mine.begin, batch_products.begin() + mine.end);
  }
  rows.insert(rows.end(), negatives.begin() + my_negatives.begin,
              negatives.begin() + my_negatives.end);
  const auto gathered_rows = static_cast<int64_t>(rows.size());
  std::vector<int64_t> list_length;  // listwise: judged products of each local query
  for (int64_t i = mine.begin; i < mine.end; ++i) {
    const int64_t e = batch[i];
    if (variant_ == RecallVariant::kPointwise) rows.push_back(batch_products[i]);
    if (variant_ == RecallVariant::kPairwise) rows.push_back(HardNegative(e, epoch));
    if (variant_ == RecallVariant::kListwise) {
      list_length.push_back(num_pairs_[e]);
      for (int64_t p = first_pair_[e]; p < first_pair_[e] + num_pairs_[e]; ++p) {
        rows.push_back(pairs.product[p]);
      }
    }
  }
  const torch::Tensor embedded = model->product->forward(featurizer.Products(dataset_, rows));
  const torch::Tensor own = embedded.narrow(0, gathered_rows, embedded.size(0) - gathered_rows);
  const torch::Device device = embedded.device();

  // Gather, then order the candidates as [all in-batch positives (global order), all negatives].
  std::vector<int64_t> counts(world);
  std::vector<int64_t> order;  // row of the gathered tensor for each candidate column
  {
    std::vector<int64_t> start(world);
    int64_t offset = 0;
    for (int w = 0; w < world; ++w) {
      start[w] = offset;
      counts[w] = (in_batch ? dist::SliceOf(global, w, world).size() : 0) +
                  dist::SliceOf(r, w, world).size();
      offset += counts[w];
    }
    if (in_batch) {
      for (int w = 0; w < world; ++w) {
        for (int64_t i = 0; i < dist::SliceOf(global, w, world).size(); ++i) {
          order.push_back(start[w] + i);
        }
      }
    }
    for (int w = 0; w < world; ++w) {
      const int64_t skip = in_batch ? dist::SliceOf(global, w, world).size() : 0;
      for (int64_t k = 0; k < dist::SliceOf(r, w, world).size(); ++k) {
        order.push_back(start[w] + skip + k);
      }
    }
  }
  const torch::Tensor gathered =
      dist::AllGatherRows(embedded.narrow(0, 0, gathered_rows), counts, comm);
  const torch::Tensor candidates =
      gathered.index_select(0, IndexTensor(order, device));  // [(B if in-batch) + R, d]
  std::vector<int64_t> candidate_products;
  if (in_batch) candidate_products = batch_products;
  candidate_products.insert(candidate_products.end(), negatives.begin(), negatives.end());
  const auto c = static_cast<int64_t>(candidate_products.size());

  std::vector<int64_t> query_rows;
  for (int64_t i = mine.begin; i < mine.end; ++i) query_rows.push_back(query_[batch[i]]);
  const torch::Tensor q = model->query->forward(featurizer.QueryRows(dataset_, query_rows));
  const torch::Tensor cosine = torch::matmul(q, candidates.t());  // [b, c]
  const torch::Tensor scale = model->scale();
  auto options = q.options();

  torch::Tensor loss;  // [b]
  if (variant_ == RecallVariant::kListwise) {
    // Scores of each local query's list, padded to the longest, then the random negatives.
    const int64_t width =
        list_length.empty() ? 0 : *std::max_element(list_length.begin(), list_length.end());
    std::vector<int64_t> owner, slot;
    std::vector<float> gains(b * (width + r), 0.0f);
    std::vector<uint8_t> excluded(b * (width + r), 1);
    for (int64_t i = 0; i < b; ++i) {
      const int64_t e = batch[mine.begin + i];
      for (int64_t j = 0; j < list_length[i]; ++j) {
        owner.push_back(i);
        slot.push_back(i * width + j);
        gains[i * (width + r) + j] = static_cast<float>(GradeGain(pairs.grade[first_pair_[e] + j]));
        excluded[i * (width + r) + j] = 0;
      }
      for (int64_t k = 0; k < r; ++k) {
        bool listed = false;
        for (int64_t p = first_pair_[e]; p < first_pair_[e] + num_pairs_[e]; ++p) {
          listed = listed || pairs.product[p] == negatives[k];
        }
        excluded[i * (width + r) + width + k] = listed ? 1 : 0;
      }
    }
    const torch::Tensor owner_t = IndexTensor(owner, device);
    const torch::Tensor item_cosine = (q.index_select(0, owner_t) * own).sum(1);
    const torch::Tensor list_cosine = torch::zeros({b * width}, options)
                                          .index_copy(0, IndexTensor(slot, device), item_cosine)
                                          .view({b, width});
    const torch::Tensor logits = torch::cat({list_cosine, cosine}, 1) * scale;
    const torch::Tensor gain_t = FloatTensor(gains, {b, width + r}, options);
    loss = ListNetLoss(logits, gain_t, BoolTensor(excluded, b, width + r, device));
  } else if (variant_ == RecallVariant::kPointwise) {
    std::vector<float> targets(b);
    std::vector<uint8_t> excluded(b * r);
    for (int64_t i = 0; i < b; ++i) {
      targets[i] = static_cast<float>(GradeGain(pairs.grade[first_pair_[batch[mine.begin + i]]]));
      for (int64_t k = 0; k < r; ++k) {
        excluded[i * r + k] = negatives[k] == batch_products[mine.begin + i] ? 1 : 0;
      }
    }
    const torch::Tensor target_t = FloatTensor(targets, {b}, options);
    const torch::Tensor own_loss = BinaryCrossEntropy((q * own).sum(1) * scale, target_t);
    const torch::Tensor kept = BoolTensor(excluded, b, r, device).logical_not().to(options.dtype());
    const torch::Tensor negative_logits = cosine * scale;
    const torch::Tensor negative_loss =
        (BinaryCrossEntropy(negative_logits, torch::zeros_like(negative_logits)) * kept).sum(1) /
        kept.sum(1).clamp_min(1.0);
    loss = own_loss + negative_loss;
  } else {
    // base and pairwise: the positive is in-batch column mine.begin + i; columns holding the
    // same product are not negatives.
    std::vector<int64_t> target(b);
    std::vector<uint8_t> duplicate(b * c);
    for (int64_t i = 0; i < b; ++i) {
      target[i] = mine.begin + i;
      for (int64_t j = 0; j < c; ++j) {
        duplicate[i * c + j] =
            j != target[i] && candidate_products[j] == batch_products[target[i]] ? 1 : 0;
      }
    }
    const torch::Tensor target_t = IndexTensor(target, device);
    const torch::Tensor excluded = BoolTensor(duplicate, b, c, device);
    if (variant_ == RecallVariant::kBase) {
      loss = SoftmaxLoss(cosine * scale, target_t, excluded);
    } else {
      const torch::Tensor positive = cosine.gather(1, target_t.unsqueeze(1)).squeeze(1);
      const torch::Tensor not_negative =
          excluded.logical_or(torch::nn::functional::one_hot(target_t, c).to(torch::kBool));
      const torch::Tensor hard = (q * own).sum(1, /*keepdim=*/true);
      loss = HingeLoss(positive, hard, torch::zeros_like(hard, torch::kBool), options_.margin) +
             HingeLoss(positive, cosine, not_negative, options_.margin);
    }
  }
  return loss.sum() / static_cast<double>(global);
}

}  // namespace recsys::models
