#pragma once
// Recall-stage retrievers behind one interface, so that trained models and baselines are
// evaluated by the same code on the same queries.

#include <cstdint>
#include <string>
#include <vector>

namespace recsys::models {

class Retriever {
 public:
  Retriever() = default;
  Retriever(const Retriever&) = delete;
  Retriever& operator=(const Retriever&) = delete;
  virtual ~Retriever() = default;
  // Name used as the row label in reports ("two_tower_pairwise", "bm25", ...).
  virtual std::string name() const = 0;
  // For each query row (row in Dataset::queries), at most k product rows, best first, without
  // duplicates; fewer when the retriever has no more candidates (a catalogue smaller than k, no
  // title sharing a word with the query). Not collective.
  virtual std::vector<std::vector<int32_t>> Retrieve(const std::vector<int32_t>& query_rows,
                                                     int k) const = 0;
};

// Exact maximum-inner-product search over embeddings (cosine when both sides are
// L2-normalised), with FAISS's BLAS kernel.
class EmbeddingRetriever : public Retriever {
 public:
  // query_vectors: one row per dataset query (num_queries x dim, row-major);
  // product_vectors: one row per product (num_products x dim).
  EmbeddingRetriever(std::string name, std::vector<float> query_vectors,
                     std::vector<float> product_vectors, int64_t dim);

  std::string name() const override { return name_; }
  std::vector<std::vector<int32_t>> Retrieve(const std::vector<int32_t>& query_rows,
                                             int k) const override;

 private:
  std::string name_;
  std::vector<float> query_vectors_, product_vectors_;
  int64_t dim_;
};

}  // namespace recsys::models
