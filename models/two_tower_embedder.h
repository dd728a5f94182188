#pragma once
// Embeds queries and products with a trained two-tower checkpoint, without exposing LibTorch:
// what evaluation, the embed stage and serving use. Torch stays inside two_tower_embedder.cc.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "dist/distributed_sampler.h"

namespace recsys::models {

class TwoTowerEmbedder {
 public:
  // Loads the model stored in a checkpoint written by TrainRecall (any variant). Not collective:
  // any number of ranks may load the same file. Throws recsys::Error naming the file when it is
  // missing or not a two-tower checkpoint.
  static std::unique_ptr<TwoTowerEmbedder> Load(const std::string& checkpoint);
  ~TwoTowerEmbedder();
  TwoTowerEmbedder(const TwoTowerEmbedder&) = delete;
  TwoTowerEmbedder& operator=(const TwoTowerEmbedder&) = delete;

  // Embedding size d.
  int64_t dim() const;

  // texts.size() x d floats, row-major, L2-normalised (a text without features embeds as the
  // tower's output for an empty bag). Not collective.
  std::vector<float> EmbedQueries(const std::vector<std::string>& texts) const;

  // Products rows [begin, end) of dataset: (end - begin) x d floats, row-major, L2-normalised.
  // Rows are embedded in blocks aligned to multiples of kBlockRows from row 0, so a row's vector
  // is bit-identical whatever range it is embedded in (the embed stage relies on that to make
  // vectors.h5 identical for any number of ranks). Not collective.
  std::vector<float> EmbedProducts(const data::Dataset& dataset, int64_t begin, int64_t end) const;

  // "two_tower_<variant>-<16 hex digits>": the variant and a stable hash of every parameter.
  std::string model_version() const;

  static constexpr int64_t kBlockRows = 1024;

 private:
  struct Impl;
  explicit TwoTowerEmbedder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Rows [begin, end) of a catalogue of `products` rows that rank `rank` of `world` embeds: whole
// blocks of TwoTowerEmbedder::kBlockRows, so that every row is computed the same way for any
// number of ranks. Pure.
dist::Slice EmbeddingSlice(int64_t products, int rank, int world);

}  // namespace recsys::models
