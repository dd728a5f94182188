#include "models/retriever.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace recsys::models {
namespace {

TEST(EmbeddingRetrieverTest, ReturnsTopKByInnerProductBestFirst) {
  // Products along the axes of 2-D space and one diagonal; queries pick their nearest.
  std::vector<float> products = {1, 0, 0, 1, -1, 0, 0.6f, 0.8f};
  std::vector<float> queries = {1, 0, 0, 1};
  EmbeddingRetriever r("test", queries, products, 2);
  auto top = r.Retrieve({1, 0}, 2);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0], (std::vector<int32_t>{1, 3}));  // query (0,1): 1.0, 0.8
  EXPECT_EQ(top[1], (std::vector<int32_t>{0, 3}));  // query (1,0): 1.0, 0.6
  // k larger than the catalogue gives the whole catalogue.
  EXPECT_EQ(r.Retrieve({0}, 10)[0].size(), 4u);
  EXPECT_THROW(r.Retrieve({2}, 1), Error);
  EXPECT_THROW(EmbeddingRetriever("bad", {1, 2, 3}, products, 2), Error);
}

}  // namespace
}  // namespace recsys::models
