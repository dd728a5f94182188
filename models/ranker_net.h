#pragma once
// The neural rankers of the ranking stage: a factorisation machine (FM) and a deep & cross
// network (DCN), both scoring a (query, candidate) pair from models/ranking_features.h's input
// (kNumSparseFields bags of hashed ids and kNumDenseFeatures numbers) as one logit, higher = more
// relevant. Both share RankerNetImpl, so the trainer, the evaluator and checkpoints hold either.
//
//   field embedding  e_f = mean of the bag's rows of ONE [num_buckets, width] table shared by the
//                    fields (each field hashes with its own seed, so the fields do not collide
//                    more than any two ids do); an empty bag gives zeros. The tables use
//                    EmbeddingBagMean: their gradients are coalesced row-sparse tensors, which
//                    DataParallelTrainer exchanges by row owner (sparse_parameters() names them).
//   FM               score = bias + sum_f w(bag f) + <linear, dense>
//                            + sum_{i<j} <e_i, e_j>  over the 6 field vectors and the dense
//                    features' e_j = x_j v_j, computed as 0.5 sum_k[(sum_i e_ik)^2 - sum_i e_ik^2]
//                    (O(k n), n = 6 + num_dense).
//   DCN              x0 = [e_0, ..., e_5, dense] (width 6 embedding_dim + num_dense); a cross
//                    network of cross_layers layers (CrossLayerImpl) and an MLP ("deep"),
//                    stacked (MLP on the cross output) or parallel (both on x0, outputs
//                    concatenated), then Linear -> 1 logit.

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/checkpoint.h"
#include "models/ranking_features.h"

namespace recsys::models {

// A batch of B rows.
struct RankerInput {
  torch::Tensor ids;      // [T] int64, hashed ids in [0, num_buckets)
  torch::Tensor offsets;  // [B * kNumSparseFields] int64: bag (row, field) starts at
                          // offsets[row * kNumSparseFields + field]; the last bag ends at T
  torch::Tensor dense;    // [B, kNumDenseFeatures] float32
};

// Rows [begin, end) of features as CPU tensors (copies; offsets rebased to 0). Throws
// recsys::Error when the range is outside [0, features.rows] or features' arrays do not have the
// sizes its row count implies. Not collective.
RankerInput ToRankerInput(const RankingFeatures& features, int64_t begin, int64_t end);

// The common interface of the neural rankers. Parameters live on one device; inputs are built on
// the CPU and moved there by forward().
class RankerNetImpl : public torch::nn::Module {
 public:
  // [B] logits, in the parameters' dtype. A batch of no rows gives [0].
  virtual torch::Tensor forward(const RankerInput& input) = 0;
  // Names (as named_parameters() gives them) of the embedding tables, whose gradients are
  // row-sparse; every other parameter's gradient is dense.
  virtual std::vector<std::string> sparse_parameters() const = 0;
  // The configuration stored in checkpoints ("model" -> "fm" or "dcn", and every option);
  // MakeRankerNet(config()) builds the same architecture.
  virtual ModelConfig config() const = 0;
};

// The scores of every row of features: blocks of rows through net under NoGradGuard, as float32
// on the CPU. Not collective.
std::vector<float> ScoreFeatures(RankerNetImpl& net, const RankingFeatures& features);

// Rebuilds a model (freshly initialised) from a stored configuration. Throws recsys::Error naming
// a missing or malformed key, an unknown "model", or an invalid option.
std::shared_ptr<RankerNetImpl> MakeRankerNet(const ModelConfig& config);

// ---- Factorisation machine ---------------------------------------------------------------------

struct FmOptions {
  TORCH_ARG(int64_t, num_buckets) = int64_t{1} << 20;  // rows of the id tables
  TORCH_ARG(int64_t, factors) = 16;                    // k, the factor width
  TORCH_ARG(int64_t, num_dense) = kNumDenseFeatures;
};

class FmImpl : public RankerNetImpl {
 public:
  // Throws recsys::Error naming an option that is out of range.
  explicit FmImpl(const FmOptions& options = {});
  // Factors ~ normal(0, 0.01); first-order weights, linear weights and bias 0.
  void reset();

  torch::Tensor forward(const RankerInput& input) override;
  std::vector<std::string> sparse_parameters() const override;  // embedding, first_order
  ModelConfig config() const override;

  FmOptions options;
  torch::Tensor embedding;      // [num_buckets, factors], sparse gradient
  torch::Tensor first_order;    // [num_buckets, 1], sparse gradient
  torch::Tensor dense_factors;  // [num_dense, factors]: v_j
  torch::Tensor dense_linear;   // [num_dense]
  torch::Tensor bias;           // [1]
};
TORCH_MODULE(Fm);

// ---- Deep & cross network ----------------------------------------------------------------------

// Parses hidden layer sizes "256,128" (each an integer >= 1; "" = none). Throws recsys::Error
// naming the text otherwise.
std::vector<int64_t> ParseHiddenSizes(const std::string& text);

enum class CrossKind {
  kMatrix,  // DCN-v2, full rank: x_{l+1} = x0 * (W_l x_l + b_l) + x_l
  kVector,  // DCN (v1):          x_{l+1} = x0 (x_l . w_l) + b_l + x_l
};
// "matrix" or "vector"; throws naming the text otherwise.
CrossKind ParseCrossKind(const std::string& name);

// One cross layer of width `width`.
class CrossLayerImpl : public torch::nn::Module {
 public:
  CrossLayerImpl(int64_t width, CrossKind kind);
  // Weight Xavier-uniform, bias 0.
  void reset();
  // x0, x: [B, width] -> [B, width].
  torch::Tensor forward(const torch::Tensor& x0, const torch::Tensor& x);

  int64_t width;
  CrossKind kind;
  torch::Tensor weight;  // [width, width] (matrix: W, applied as x W^T) or [width] (vector: w)
  torch::Tensor bias;    // [width]
};
TORCH_MODULE(CrossLayer);

struct DcnOptions {
  TORCH_ARG(int64_t, num_buckets) = int64_t{1} << 20;  // rows of the embedding table
  TORCH_ARG(int64_t, embedding_dim) = 16;
  TORCH_ARG(int64_t, num_dense) = kNumDenseFeatures;
  TORCH_ARG(int64_t, cross_layers) = 2;           // >= 0
  TORCH_ARG(std::string, cross) = "matrix";       // "matrix" | "vector" (CrossKind)
  TORCH_ARG(std::string, deep) = "256,128";       // MLP hidden sizes, ReLU; "" = no MLP
  // "parallel" (cross and deep both on x0, outputs concatenated; measured better on both
  // datasets, README "Ranking: measurements") | "stacked" (deep on the cross output)
  TORCH_ARG(std::string, structure) = "parallel";
};

class DcnImpl : public RankerNetImpl {
 public:
  // Throws recsys::Error naming an option that is out of range or malformed.
  explicit DcnImpl(const DcnOptions& options = {});
  // Embeddings ~ normal(0, 0.01); the cross layers as CrossLayerImpl::reset; the MLP and head
  // as torch::nn::Linear's defaults.
  void reset();

  torch::Tensor forward(const RankerInput& input) override;
  std::vector<std::string> sparse_parameters() const override;  // embedding
  ModelConfig config() const override;

  // Width of x0: kNumSparseFields * embedding_dim + num_dense.
  int64_t input_width() const;

  DcnOptions options;
  torch::Tensor embedding;              // [num_buckets, embedding_dim], sparse gradient
  std::vector<CrossLayer> cross;        // registered as "cross.<l>"
  torch::nn::Sequential deep{nullptr};  // Linear, ReLU, ...; empty when options.deep is ""
  torch::nn::Linear head{nullptr};      // -> 1 logit

 private:
  bool parallel_ = false;
};
TORCH_MODULE(Dcn);

}  // namespace recsys::models
