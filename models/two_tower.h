#pragma once
// The two-tower recall model: a query tower and a product tower map text and product content to
// L2-normalised embeddings of the same size; the score of a (query, product) pair is their cosine
// divided by a temperature. Nothing depends on a product id: a product never seen in training is
// embedded from its title, brand, category, colour, price, rating and age (cold start).
//
//   query tower:   EmbeddingBag(num_buckets, text_dim, mean) over the featurised query text
//                  -> Linear(text_dim, hidden) -> ReLU -> Linear(hidden, dim) -> L2 norm
//   product tower: [EmbeddingBag(num_buckets, text_dim, mean) over the title,
//                   Embedding(brands, brand_dim), Embedding(categories, category_dim),
//                   Embedding(colours, colour_dim), kNumericFeatures numbers]
//                  -> Linear(., hidden) -> ReLU -> Linear(hidden, dim) -> L2 norm
//
// Every embedding table produces sparse gradients (only the rows a batch touched), which the
// trainer exchanges and updates row-wise; see models/data_parallel_trainer.h.

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/text_featurizer.h"
#include "models/checkpoint.h"

namespace recsys::models {

struct TwoTowerOptions {
  TORCH_ARG(int64_t, num_buckets) = int64_t{1} << 18;  // text feature buckets (featuriser's)
  TORCH_ARG(int64_t, text_dim) = 64;                   // width of the text embedding tables
  TORCH_ARG(int64_t, hidden) = 128;                    // MLP hidden width
  TORCH_ARG(int64_t, dim) = 64;                        // output embedding size (64 or 32)
  // Vocabulary sizes of the dataset the model was trained on (entry 0 = unknown); a product's
  // index outside its table is read as unknown.
  TORCH_ARG(int64_t, num_brands) = 1;
  TORCH_ARG(int64_t, num_categories) = 1;
  TORCH_ARG(int64_t, num_colours) = 1;
  TORCH_ARG(int64_t, brand_dim) = 16;
  TORCH_ARG(int64_t, category_dim) = 16;
  TORCH_ARG(int64_t, colour_dim) = 8;
  // The day ages are measured from (days since 1970-01-01): the newest release day of the
  // training catalogue, so a product's age feature means the same at training and serving.
  TORCH_ARG(int32_t, reference_day) = 0;
  TORCH_ARG(double, temperature) = 0.05;  // score = cosine / temperature
  TORCH_ARG(bool, learn_temperature) = false;
};

// The configuration as stored in a checkpoint ("dim" -> "64", ...), and back. FromConfig throws
// naming a missing or malformed key.
ModelConfig ToConfig(const TwoTowerOptions& options);
TwoTowerOptions TwoTowerOptionsFromConfig(const ModelConfig& config);

// Log price, rating and age, each with a missing-value indicator (the value is then 0).
constexpr int64_t kNumericFeatures = 6;

// A batch of queries: featuriser ids in CSR form (see data::FeatureBatch).
struct QueryBatch {
  torch::Tensor ids;      // [total ids] int64
  torch::Tensor offsets;  // [n] int64
};

// A batch of products' content.
struct ProductBatch {
  torch::Tensor title_ids;                // [total ids] int64
  torch::Tensor title_offsets;            // [n] int64
  torch::Tensor brand, category, colour;  // [n] int64, clamped into their tables
  torch::Tensor numeric;                  // [n, kNumericFeatures] float32
};

// Turns texts and dataset rows into batches. Not collective; thread-compatible.
class TwoTowerFeaturizer {
 public:
  explicit TwoTowerFeaturizer(const TwoTowerOptions& options);

  QueryBatch Queries(const std::vector<std::string>& texts) const;
  // Query rows of dataset.
  QueryBatch QueryRows(const data::Dataset& dataset, const std::vector<int64_t>& rows) const;
  // Product rows of dataset.
  ProductBatch Products(const data::Dataset& dataset, const std::vector<int64_t>& rows) const;

 private:
  TwoTowerOptions options_;
  data::TextFeaturizer text_;
};

class QueryTowerImpl : public torch::nn::Module {
 public:
  explicit QueryTowerImpl(const TwoTowerOptions& options);
  void reset();
  // [n, dim], rows of unit length.
  torch::Tensor forward(const QueryBatch& batch);

  TwoTowerOptions options;
  torch::nn::EmbeddingBag text{nullptr};
  torch::nn::Sequential mlp{nullptr};
};
TORCH_MODULE(QueryTower);

class ProductTowerImpl : public torch::nn::Module {
 public:
  explicit ProductTowerImpl(const TwoTowerOptions& options);
  void reset();
  // [n, dim], rows of unit length.
  torch::Tensor forward(const ProductBatch& batch);

  TwoTowerOptions options;
  torch::nn::EmbeddingBag title{nullptr};
  torch::nn::Embedding brand{nullptr}, category{nullptr}, colour{nullptr};
  torch::nn::Sequential mlp{nullptr};
};
TORCH_MODULE(ProductTower);

class TwoTowerImpl : public torch::nn::Module {
 public:
  explicit TwoTowerImpl(const TwoTowerOptions& options);
  void reset();

  // 1 / temperature as a scalar tensor (learned when options.learn_temperature).
  torch::Tensor scale() const;
  // Names (as named_parameters() gives them) of the parameters with sparse gradients.
  std::vector<std::string> sparse_parameters() const;

  TwoTowerOptions options;
  QueryTower query{nullptr};
  ProductTower product{nullptr};
  torch::Tensor log_scale;  // log(1 / temperature); a parameter only when learned
};
TORCH_MODULE(TwoTower);

// Embeds product rows [begin, end) of dataset without gradients: (end - begin) x dim floats,
// row-major. Rows are processed in blocks aligned to multiples of block_rows from row 0, so a
// row's vector is bit-identical whatever range it is embedded in. Not collective.
std::vector<float> EmbedProductRange(TwoTower& model, const TwoTowerFeaturizer& featurizer,
                                     const data::Dataset& dataset, int64_t begin, int64_t end,
                                     int64_t block_rows);

// Embeds query texts without gradients (in blocks of block_rows): texts.size() x dim floats.
std::vector<float> EmbedQueryTexts(TwoTower& model, const TwoTowerFeaturizer& featurizer,
                                   const std::vector<std::string>& texts, int64_t block_rows);

// A stable 64-bit hash of every parameter's name and values (as float32), as 16 hex digits:
// names a trained model in vectors.h5 and index files. Not collective.
std::string ParameterHash(const torch::nn::Module& model);

}  // namespace recsys::models
