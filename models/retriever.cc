#include "models/retriever.h"

#include <faiss/utils/distances.h>

#include <algorithm>

#include "core/error.h"

namespace recsys::models {

EmbeddingRetriever::EmbeddingRetriever(std::string name, std::vector<float> query_vectors,
                                       std::vector<float> product_vectors, int64_t dim)
    : name_(std::move(name)),
      query_vectors_(std::move(query_vectors)),
      product_vectors_(std::move(product_vectors)),
      dim_(dim) {
  RECSYS_CHECK(dim_ > 0 && query_vectors_.size() % dim_ == 0 && product_vectors_.size() % dim_ == 0,
               name_ << ": vector sizes " << query_vectors_.size() << " and "
                     << product_vectors_.size() << " are not multiples of dim " << dim_);
}

std::vector<std::vector<int32_t>> EmbeddingRetriever::Retrieve(
    const std::vector<int32_t>& query_rows, int k) const {
  const int64_t num_queries = query_vectors_.size() / dim_;
  const int64_t num_products = product_vectors_.size() / dim_;
  const int64_t kk = std::min<int64_t>(k, num_products);
  std::vector<float> queries(query_rows.size() * dim_);
  for (size_t i = 0; i < query_rows.size(); ++i) {
    RECSYS_CHECK(query_rows[i] >= 0 && query_rows[i] < num_queries,
                 name_ << ": query row " << query_rows[i] << " outside [0, " << num_queries << ")");
    std::copy_n(query_vectors_.begin() + query_rows[i] * dim_, dim_, queries.begin() + i * dim_);
  }
  std::vector<float> scores(query_rows.size() * kk);
  std::vector<int64_t> labels(query_rows.size() * kk);
  faiss::knn_inner_product(queries.data(), product_vectors_.data(), dim_, query_rows.size(),
                           num_products, kk, scores.data(), labels.data());
  std::vector<std::vector<int32_t>> out(query_rows.size());
  for (size_t i = 0; i < query_rows.size(); ++i) {
    out[i].assign(labels.begin() + i * kk, labels.begin() + (i + 1) * kk);
  }
  return out;
}

}  // namespace recsys::models
