#include "models/two_tower_embedder.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/error.h"
#include "models/checkpoint.h"
#include "models/two_tower.h"

namespace recsys::models {

struct TwoTowerEmbedder::Impl {
  explicit Impl(const TwoTowerOptions& options) : model(options), featurizer(options) {}
  TwoTower model;
  TwoTowerFeaturizer featurizer;
  std::string version;
};

TwoTowerEmbedder::TwoTowerEmbedder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TwoTowerEmbedder::~TwoTowerEmbedder() = default;

std::unique_ptr<TwoTowerEmbedder> TwoTowerEmbedder::Load(const std::string& checkpoint) {
  H5Reader in(checkpoint);
  const CheckpointInfo info = ReadCheckpointInfo(in);
  RECSYS_CHECK(info.model == "two_tower",
               checkpoint << " holds a " << info.model << " model, not a two-tower one");
  auto variant = info.config.find("variant");
  RECSYS_CHECK(variant != info.config.end(), checkpoint << " names no variant");
  auto impl = std::make_unique<Impl>(TwoTowerOptionsFromConfig(info.config));
  ReadModule(in, *impl->model);
  impl->model->eval();
  impl->version = "two_tower_" + variant->second + "-" + ParameterHash(*impl->model);
  return std::unique_ptr<TwoTowerEmbedder>(new TwoTowerEmbedder(std::move(impl)));
}

int64_t TwoTowerEmbedder::dim() const { return impl_->model->options.dim(); }

std::vector<float> TwoTowerEmbedder::EmbedQueries(const std::vector<std::string>& texts) const {
  return EmbedQueryTexts(impl_->model, impl_->featurizer, texts, kBlockRows);
}

std::vector<float> TwoTowerEmbedder::EmbedProducts(const data::Dataset& dataset, int64_t begin,
                                                   int64_t end) const {
  return EmbedProductRange(impl_->model, impl_->featurizer, dataset, begin, end, kBlockRows);
}

std::string TwoTowerEmbedder::model_version() const { return impl_->version; }

dist::Slice EmbeddingSlice(int64_t products, int rank, int world) {
  const int64_t block = TwoTowerEmbedder::kBlockRows;
  const dist::Slice blocks = dist::SliceOf((products + block - 1) / block, rank, world);
  return {std::min(products, blocks.begin * block), std::min(products, blocks.end * block)};
}

}  // namespace recsys::models
