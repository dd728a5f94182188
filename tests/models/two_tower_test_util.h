#pragma once
// Helpers shared by the two-tower tests: a small generated dataset and tensor comparisons.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>

#include "data/catalog_generator.h"
#include "data/dataset.h"
#include "models/two_tower.h"

namespace recsys::models::testing_util {

// A generated dataset (the whole of it, in this process).
inline data::Dataset SmallDataset(int64_t products, int64_t queries, uint64_t seed = 3) {
  data::GeneratorOptions g;
  g.products = products;
  g.queries = queries;
  g.seed = seed;
  data::CatalogGenerator generator(g);
  data::Dataset d;
  generator.FillVocabularies(&d);
  d.products = generator.MakeProducts(0, products);
  generator.MakeQueries(0, queries, &d.queries, &d.pairs);
  d.source = "test";
  return d;
}

// A two-tower configuration small enough for tests that train.
inline TwoTowerOptions TinyOptions(const data::Dataset& d) {
  return TwoTowerOptions()
      .num_buckets(4096)
      .hidden(32)
      .dim(16)
      .num_brands(static_cast<int64_t>(d.brands.size()))
      .num_categories(static_cast<int64_t>(d.categories.size()))
      .num_colours(static_cast<int64_t>(d.colours.size()))
      .reference_day(18000);
}

// Every parameter and buffer of a and b agrees element-wise to rtol (plus a tiny atol for
// values that are zero on one side).
inline void ExpectModulesClose(const torch::nn::Module& a, const torch::nn::Module& b, double rtol,
                               double atol = 1e-12) {
  auto pa = a.named_parameters();
  auto pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& p : pa) {
    const torch::Tensor x = p.value().detach().cpu().to(torch::kFloat64);
    const torch::Tensor y = pb[p.key()].detach().cpu().to(torch::kFloat64);
    const double worst = ((x - y).abs() - rtol * y.abs()).max().item<double>();
    EXPECT_LE(worst, atol) << p.key() << ": max |a-b| = " << (x - y).abs().max().item<double>()
                           << ", max |b| = " << y.abs().max().item<double>();
  }
}

}  // namespace recsys::models::testing_util
