#pragma once
// The final re-rank of a ranked candidate list against several objectives: the ranker's relevance,
// diversity (maximal marginal relevance: a candidate too similar to those already placed is
// pushed down) and freshness (recently released products are pulled up). No LibTorch here.
//
// Greedy MMR: for each of the first `depth` positions, the not-yet-placed candidate i maximising
//   relevance * rel(i) - diversity * max_{j placed} sim(i, j) + freshness * fresh(i)
// is placed next (ties: higher ranker score, then earlier position in the list), where
//   rel(i)   = the ranker's score min-max normalised within the list to [0, 1] (1 when all equal),
//   fresh(i) = 2^(-age_days / half_life_days), age relative to the catalogue's newest release day
//              (0 for an unknown release day),
//   sim(i,j) = 1 for the same known category (category 0 = unknown is like nothing), 0 otherwise;
//              or the cosine of the two products' embeddings.
// The rest of the list follows in ranker order. A running max per candidate keeps it at
// O(depth * n) similarity evaluations for a list of n.

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"
#include "models/metrics.h"
#include "models/ranker.h"

namespace recsys::serve {

enum class Diversity { kCategory, kEmbedding };

// "category" | "embedding"; throws recsys::Error naming the text and listing both.
Diversity ParseDiversity(const std::string& text);
const char* DiversityName(Diversity by);

struct RerankOptions {
  // Weights, each >= 0. rel, sim and fresh all lie in [0, 1] (a cosine in [-1, 1]).
  double relevance = 1.0;  // of rel(i)
  double diversity = 0.0;  // of the redundancy penalty max_j sim(i, j)
  double freshness = 0.0;  // of fresh(i)
  Diversity diversity_by = Diversity::kCategory;
  double half_life_days = 365;  // age at which fresh() is 1/2
  int64_t depth = 10;           // positions chosen greedily; the rest follow in ranker order
};

// Intra-list diversity and age of a list's top k. NaN where undefined.
struct ListMeasures {
  double ild_category = std::numeric_limits<double>::quiet_NaN();   // mean over pairs of 1 - sim
  double ild_embedding = std::numeric_limits<double>::quiet_NaN();  // same, cosine; NaN: none
  double mean_age_days = std::numeric_limits<double>::quiet_NaN();  // over known release days
};

class Reranker {
 public:
  // dataset and embeddings (products x dim floats, row i embeds product row i, as in vectors.h5;
  // nullptr when there are none) must outlive the Reranker. The catalogue's newest release day,
  // the reference of every age, is found here once. Throws recsys::Error on bad options (a weight
  // negative or not finite, depth < 1, half-life <= 0, embedding diversity without embeddings) and
  // on embeddings whose size is not products x dim.
  Reranker(const data::Dataset& dataset, const RerankOptions& options,
           const std::vector<float>* embeddings = nullptr, int64_t dim = 0);

  // One list: products[i] (product rows) with the ranker's scores[i] (same size n, finite). The
  // positions 0..n-1 in re-ranked order. With diversity = 0 and freshness = 0 it is the order of
  // descending score, ties by position: exactly the ranker's (models::RankGroups). Not collective.
  std::vector<int64_t> Order(const std::vector<int32_t>& products,
                             const std::vector<float>& scores) const;

  // The measures of ranked (product rows, best first) over its first k (k >= 1): ILD by
  // category; by embedding when there are embeddings; mean age in days of the products with a
  // known release day. ILD is NaN for fewer than 2 products, the age for none known. Not
  // collective.
  ListMeasures Measure(const std::vector<int32_t>& ranked, int64_t k) const;

  // The newest release day of the catalogue (days since 1970-01-01); kUnknownDay if none known.
  int32_t reference_day() const { return reference_day_; }

 private:
  double Similarity(Diversity by, int32_t a, int32_t b) const;  // product rows
  void CheckProduct(int32_t product) const;

  const data::Dataset& dataset_;
  RerankOptions options_;
  const std::vector<float>* embeddings_;
  int64_t dim_;
  int32_t reference_day_ = data::kUnknownDay;
};

// One row of the weight table.
struct RerankRow {
  double relevance = 1, diversity = 0, freshness = 0;  // the weights
  // Graded gains, over the full catalogue; every number is NaN where nothing was measured.
  double ndcg10 = 0;
  double ild_category = 0;   // top 10, mean over the queries with at least 2 candidates
  double ild_embedding = 0;  // the same by cosine; NaN without embeddings
  double mean_age_days = 0;  // top 10, mean over the queries with a known release day there
  int64_t queries = 0;       // queries measured: those with a relevant judged product
};

// For each (diversity, freshness) pair of weights: the groups of set, ranked by scores (one per
// row of set) and re-ranked with base's other options, measured at 10 (NDCG@10 over the full
// catalogue against judged_by_query_row[set.queries[g]], ILD, mean age), averaged over the
// queries with a relevant judged product. Pure, not collective. embeddings: as for Reranker.
std::vector<RerankRow> RerankTable(const models::RankingSet& set, const std::vector<float>& scores,
                                   const data::Dataset& dataset,
                                   const std::vector<models::JudgedQuery>& judged_by_query_row,
                                   const std::vector<std::pair<double, double>>& weights,
                                   const RerankOptions& base,
                                   const std::vector<float>* embeddings = nullptr, int64_t dim = 0,
                                   const models::GradeGains& gains = {},
                                   data::Grade relevant_from = data::Grade::kExact);

// The table as Markdown, one line per row; NaN as "-".
std::string FormatRerankTable(const std::vector<RerankRow>& rows);

}  // namespace recsys::serve
