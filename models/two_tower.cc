#include "models/two_tower.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <string_view>

#include "core/error.h"
#include "core/stable_hash.h"
#include "models/embedding_bag.h"

namespace recsys::models {
namespace {

namespace F = torch::nn::functional;

constexpr char kWhat[] = "two-tower";  // in configuration errors

torch::Tensor LongTensor(const std::vector<int64_t>& values) {
  return torch::tensor(values, torch::kInt64);
}

// The residual branch of a tower: its output layer starts at zero, so an untrained tower's
// output is its text bag.
torch::nn::Sequential ResidualMlp(int64_t in, int64_t hidden, int64_t out) {
  torch::nn::Linear last(hidden, out);
  torch::NoGradGuard no_grad;
  last->weight.zero_();
  last->bias.zero_();
  return torch::nn::Sequential(torch::nn::Linear(in, hidden), torch::nn::ReLU(), last);
}

// Mean of each text's rows of table: [n, width], with the gradient already coalesced (see
// models/embedding_bag.h). Batches are built on the CPU; a CUDA model
// moves them here (a no-op on the CPU). EmbeddingBag refuses a batch of no texts, which a rank
// whose slice of the global batch is empty has: that gives an empty result instead, still
// connected to the graph through the layers after it, so backward (and the collectives in it)
// runs on that rank too.
torch::Tensor Bag(torch::nn::EmbeddingBag& table, const torch::Tensor& ids,
                  const torch::Tensor& offsets) {
  const torch::Tensor& weight = table->weight;
  if (offsets.numel() == 0) return torch::zeros({0, weight.size(1)}, weight.options());
  return EmbeddingBagMean(weight, ids.to(weight.device()), offsets.to(weight.device()));
}

torch::Tensor Normalise(const torch::Tensor& x) {
  return F::normalize(x, F::NormalizeFuncOptions().p(2).dim(1).eps(1e-12));
}

}  // namespace

ModelConfig ToConfig(const TwoTowerOptions& o) {
  return {{"num_buckets", std::to_string(o.num_buckets())},
          {"dim", std::to_string(o.dim())},
          {"hidden", std::to_string(o.hidden())},
          {"tie_text", o.tie_text() ? "1" : "0"},
          {"num_brands", std::to_string(o.num_brands())},
          {"num_categories", std::to_string(o.num_categories())},
          {"num_colours", std::to_string(o.num_colours())},
          {"brand_dim", std::to_string(o.brand_dim())},
          {"category_dim", std::to_string(o.category_dim())},
          {"colour_dim", std::to_string(o.colour_dim())},
          {"reference_day", std::to_string(o.reference_day())},
          {"temperature", DoubleText(o.temperature())},
          {"learn_temperature", o.learn_temperature() ? "1" : "0"}};
}

TwoTowerOptions TwoTowerOptionsFromConfig(const ModelConfig& c) {
  TwoTowerOptions o;
  o.num_buckets(ConfigInt(c, kWhat, "num_buckets"))
      .dim(ConfigInt(c, kWhat, "dim"))
      .hidden(ConfigInt(c, kWhat, "hidden"))
      .tie_text(ConfigInt(c, kWhat, "tie_text") != 0)
      .num_brands(ConfigInt(c, kWhat, "num_brands"))
      .num_categories(ConfigInt(c, kWhat, "num_categories"))
      .num_colours(ConfigInt(c, kWhat, "num_colours"))
      .brand_dim(ConfigInt(c, kWhat, "brand_dim"))
      .category_dim(ConfigInt(c, kWhat, "category_dim"))
      .colour_dim(ConfigInt(c, kWhat, "colour_dim"))
      .reference_day(static_cast<int32_t>(ConfigInt(c, kWhat, "reference_day")))
      .temperature(ConfigDouble(c, kWhat, "temperature"))
      .learn_temperature(ConfigInt(c, kWhat, "learn_temperature") != 0);
  return o;
}

// ---- Featurizer ---------------------------------------------------------------------------------

TwoTowerFeaturizer::TwoTowerFeaturizer(const TwoTowerOptions& options)
    : options_(options), text_([&] {
        data::TextFeaturizerOptions t;
        t.num_buckets = options.num_buckets();
        return t;
      }()) {}

QueryBatch TwoTowerFeaturizer::Queries(const std::vector<std::string>& texts) const {
  data::FeatureBatch f = text_.FeaturizeBatch(texts);
  return {LongTensor(f.ids), LongTensor(f.offsets)};
}

QueryBatch TwoTowerFeaturizer::QueryRows(const data::Dataset& dataset,
                                         const std::vector<int64_t>& rows) const {
  std::vector<int64_t> ids, offsets;
  offsets.reserve(rows.size());
  for (int64_t row : rows) {
    offsets.push_back(static_cast<int64_t>(ids.size()));
    text_.AppendFeatures(dataset.queries.text[row], &ids);
  }
  return {LongTensor(ids), LongTensor(offsets)};
}

ProductBatch TwoTowerFeaturizer::Products(const data::Dataset& dataset,
                                          const std::vector<int64_t>& rows) const {
  const data::Products& p = dataset.products;
  const auto n = static_cast<int64_t>(rows.size());
  std::vector<int64_t> ids, offsets, brand(n), category(n), colour(n);
  offsets.reserve(n);
  std::vector<float> numeric(n * kNumericFeatures, 0.0f);
  // An index the tables do not cover (a vocabulary grown after training) reads as unknown.
  auto clamp = [](int32_t index, int64_t table) -> int64_t {
    return index > 0 && index < table ? index : 0;
  };
  for (int64_t i = 0; i < n; ++i) {
    const int64_t row = rows[i];
    offsets.push_back(static_cast<int64_t>(ids.size()));
    text_.AppendFeatures(p.title[row], &ids);
    brand[i] = clamp(p.brand[row], options_.num_brands());
    category[i] = clamp(p.category[row], options_.num_categories());
    colour[i] = clamp(p.colour[row], options_.num_colours());
    // Scaled to roughly unit range by constants (not data statistics), so that the features of
    // a product do not depend on the rest of the catalogue. Missing -> 0 plus an indicator.
    float* x = &numeric[i * kNumericFeatures];
    if (std::isfinite(p.price[row]) && p.price[row] >= 0) {
      x[0] = (std::log1p(p.price[row]) - 3.5f) / 1.5f;  // $5 .. $2000 -> about -1.2 .. 2.7
    } else {
      x[1] = 1;
    }
    if (std::isfinite(p.rating[row])) {
      x[2] = (p.rating[row] - 3.0f) / 2.0f;  // 1..5 stars -> -1..1
    } else {
      x[3] = 1;
    }
    if (p.release_day[row] != data::kUnknownDay) {
      const double years =
          (options_.reference_day() - static_cast<double>(p.release_day[row])) / 365.25;
      x[4] = static_cast<float>(std::max(0.0, years) / 5.0);
    } else {
      x[5] = 1;
    }
  }
  ProductBatch b;
  b.title_ids = LongTensor(ids);
  b.title_offsets = LongTensor(offsets);
  b.brand = LongTensor(brand);
  b.category = LongTensor(category);
  b.colour = LongTensor(colour);
  b.numeric = torch::from_blob(numeric.data(), {n, kNumericFeatures}, torch::kFloat32).clone();
  return b;
}

// ---- Towers -------------------------------------------------------------------------------------

torch::nn::EmbeddingBag TextTable(const TwoTowerOptions& options) {
  return torch::nn::EmbeddingBag(
      torch::nn::EmbeddingBagOptions(options.num_buckets(), options.dim())
          .mode(torch::kMean)
          .sparse(true));
}

QueryTowerImpl::QueryTowerImpl(const TwoTowerOptions& options_, torch::nn::EmbeddingBag shared_text)
    : options(options_), shared_text_(std::move(shared_text)) {
  reset();
}

void QueryTowerImpl::reset() {
  text = shared_text_ ? shared_text_ : register_module("text", TextTable(options));
  mlp = register_module("mlp", ResidualMlp(options.dim(), options.hidden(), options.dim()));
}

torch::Tensor QueryTowerImpl::forward(const QueryBatch& batch) {
  const torch::Tensor bag = Bag(text, batch.ids, batch.offsets);
  return Normalise(bag + mlp->forward(bag));
}

ProductTowerImpl::ProductTowerImpl(const TwoTowerOptions& options_,
                                   torch::nn::EmbeddingBag shared_text)
    : options(options_), shared_text_(std::move(shared_text)) {
  reset();
}

void ProductTowerImpl::reset() {
  auto table = [](int64_t rows, int64_t width) {
    return torch::nn::Embedding(torch::nn::EmbeddingOptions(rows, width).sparse(true));
  };
  title = shared_text_ ? shared_text_ : register_module("title", TextTable(options));
  brand = register_module("brand", table(options.num_brands(), options.brand_dim()));
  category = register_module("category", table(options.num_categories(), options.category_dim()));
  colour = register_module("colour", table(options.num_colours(), options.colour_dim()));
  const int64_t in = options.dim() + options.brand_dim() + options.category_dim() +
                     options.colour_dim() + kNumericFeatures;
  mlp = register_module("mlp", ResidualMlp(in, options.hidden(), options.dim()));
}

torch::Tensor ProductTowerImpl::forward(const ProductBatch& batch) {
  const torch::Device device = title->weight.device();
  const torch::Tensor bag = Bag(title, batch.title_ids, batch.title_offsets);
  const torch::Tensor x = torch::cat(
      {bag, brand->forward(batch.brand.to(device)), category->forward(batch.category.to(device)),
       colour->forward(batch.colour.to(device)), batch.numeric.to(device, bag.scalar_type())},
      1);
  return Normalise(bag + mlp->forward(x));
}

TwoTowerImpl::TwoTowerImpl(const TwoTowerOptions& options_) : options(options_) { reset(); }

void TwoTowerImpl::reset() {
  TORCH_CHECK(options.temperature() > 0, "temperature must be positive, is ",
              options.temperature());
  TORCH_CHECK(options.dim() > 0 && options.hidden() > 0 && options.num_buckets() > 0,
              "bad two-tower sizes");
  if (options.tie_text()) text = register_module("text", TextTable(options));
  query = register_module("query", QueryTower(options, text));
  product = register_module("product", ProductTower(options, text));
  log_scale = torch::full({}, std::log(1.0 / options.temperature()));
  if (options.learn_temperature()) {
    log_scale = register_parameter("log_scale", log_scale);
  } else {
    log_scale = register_buffer("log_scale", log_scale);
  }
}

torch::Tensor TwoTowerImpl::scale() const {
  // Capped at 100 (temperature 0.01), as CLIP does, so a learned temperature cannot collapse.
  return log_scale.exp().clamp_max(100.0);
}

std::vector<std::string> TwoTowerImpl::sparse_parameters() const {
  std::vector<std::string> names = {"product.brand.weight", "product.category.weight",
                                    "product.colour.weight"};
  if (options.tie_text()) {
    names.push_back("text.weight");
  } else {
    names.push_back("query.text.weight");
    names.push_back("product.title.weight");
  }
  return names;
}

// ---- Inference ----------------------------------------------------------------------------------

namespace {

// Appends rows x dim embeddings (any float dtype, any device) to out as float32.
void AppendRows(const torch::Tensor& embeddings, std::vector<float>* out) {
  const torch::Tensor host = embeddings.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  out->insert(out->end(), host.data_ptr<float>(), host.data_ptr<float>() + host.numel());
}

}  // namespace

std::vector<float> EmbedProductRange(TwoTower& model, const TwoTowerFeaturizer& featurizer,
                                     const data::Dataset& dataset, int64_t begin, int64_t end,
                                     int64_t block_rows) {
  const auto n = static_cast<int64_t>(dataset.products.size());
  RECSYS_CHECK(0 <= begin && begin <= end && end <= n && block_rows >= 1,
               "product rows [" << begin << ", " << end << ") of " << n);
  torch::NoGradGuard no_grad;
  std::vector<float> out;
  out.reserve((end - begin) * model->options.dim());
  for (int64_t block = begin / block_rows * block_rows; block < end; block += block_rows) {
    // The whole aligned block is embedded even when the range covers part of it, so the
    // matrices (and so the rounding) are the same for every range.
    const int64_t block_end = std::min(block + block_rows, n);
    std::vector<int64_t> rows(block_end - block);
    for (int64_t i = 0; i < block_end - block; ++i) rows[i] = block + i;
    const torch::Tensor e = model->product->forward(featurizer.Products(dataset, rows));
    const int64_t first = std::max(begin, block), last = std::min(end, block_end);
    AppendRows(e.narrow(0, first - block, last - first), &out);
  }
  return out;
}

std::vector<float> EmbedQueryTexts(TwoTower& model, const TwoTowerFeaturizer& featurizer,
                                   const std::vector<std::string>& texts, int64_t block_rows) {
  RECSYS_CHECK(block_rows >= 1, "block_rows=" << block_rows);
  torch::NoGradGuard no_grad;
  std::vector<float> out;
  out.reserve(texts.size() * model->options.dim());
  for (size_t block = 0; block < texts.size(); block += block_rows) {
    const size_t block_end = std::min(texts.size(), block + block_rows);
    const std::vector<std::string> part(texts.begin() + block, texts.begin() + block_end);
    AppendRows(model->query->forward(featurizer.Queries(part)), &out);
  }
  return out;
}

std::string ParameterHash(const torch::nn::Module& model) {
  uint64_t hash = 0;
  auto add = [&hash](const std::string& name, const torch::Tensor& t) {
    const torch::Tensor host = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    hash = HashCombine(hash, StableHash(name));
    hash = HashCombine(hash, StableHash(std::string_view(static_cast<const char*>(host.data_ptr()),
                                                         host.numel() * sizeof(float))));
  };
  for (const auto& p : model.named_parameters()) add(p.key(), p.value());
  for (const auto& b : model.named_buffers()) add(b.key(), b.value());
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

}  // namespace recsys::models
