#pragma once
// The two-tower recall model: a query tower and a product tower map text and product content to
// L2-normalised embeddings of the same size; the score of a (query, product) pair is their cosine
// divided by a temperature. Nothing depends on a product id: a product never seen in training is
// embedded from its title, brand, category, colour, price, rating and age (cold start).
//
//   text table:    EmbeddingBag(num_buckets, dim, mean) over hashed word, bigram and character
//                  trigram ids (data::TextFeaturizer); ONE table shared by both towers when
//                  tie_text (the default), one per tower otherwise
//   query tower:   b = bag(query ids);  q = normalise(b + MLP_q(b))
//   product tower: b = bag(title ids);  x = [b, Embedding(brand), Embedding(category),
//                  Embedding(colour), kNumericFeatures numbers];  p = normalise(b + MLP_p(x))
//   MLP:           Linear(in, hidden) -> ReLU -> Linear(hidden, dim), the last layer zero at
//                  initialisation
//
// Why this shape: in product search the query and the relevant titles share words. With one
// table the same word lands on the same row in both towers, so even an untrained model ranks by
// shared n-grams, and training moves related words together; two separately learned tables (and
// a projection of the bag through an MLP alone) throw that signal away and lost to BM25 by more
// than half on real judged data (README, "Recall: measurements"). The residual MLPs start at zero,
// so training starts from the shared-n-gram model and learns what brand, category, colour and
// the numbers add.
//
// Every embedding table produces sparse gradients (only the rows a batch touched), which the
// trainer exchanges and updates row-wise; see models/data_parallel_trainer.h. The tied table
// receives the sum of both towers' gradients.

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
  TORCH_ARG(int64_t, dim) = 64;                        // text tables' width and output size
  TORCH_ARG(int64_t, hidden) = 128;                    // MLP hidden width
  TORCH_ARG(bool, tie_text) = true;                    // one text table for both towers
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

// A text table of options.num_buckets() rows and options.dim() columns, mean-pooled, with sparse
// gradients.
torch::nn::EmbeddingBag TextTable(const TwoTowerOptions& options);

// Each tower reads its text through `text`. A tower given no table makes and registers its own
// ("query.text", "product.title"); a shared one is registered by the owner (TwoTower: "text"),
// so that its parameters are listed, updated and saved once.
class QueryTowerImpl : public torch::nn::Module {
 public:
  explicit QueryTowerImpl(const TwoTowerOptions& options,
                          torch::nn::EmbeddingBag shared_text = nullptr);
  void reset();
  // [n, dim], rows of unit length.
  torch::Tensor forward(const QueryBatch& batch);

  TwoTowerOptions options;
  torch::nn::EmbeddingBag text{nullptr};
  torch::nn::Sequential mlp{nullptr};

 private:
  torch::nn::EmbeddingBag shared_text_{nullptr};
};
TORCH_MODULE(QueryTower);

class ProductTowerImpl : public torch::nn::Module {
 public:
  explicit ProductTowerImpl(const TwoTowerOptions& options,
                            torch::nn::EmbeddingBag shared_text = nullptr);
  void reset();
  // [n, dim], rows of unit length.
  torch::Tensor forward(const ProductBatch& batch);

  TwoTowerOptions options;
  torch::nn::EmbeddingBag title{nullptr};
  torch::nn::Embedding brand{nullptr}, category{nullptr}, colour{nullptr};
  torch::nn::Sequential mlp{nullptr};

 private:
  torch::nn::EmbeddingBag shared_text_{nullptr};
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
  torch::nn::EmbeddingBag text{nullptr};  // the shared text table; null when untied
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
