#pragma once
// Offline ranking metrics over judged queries: Precision@K, Recall@K, HR@K, NDCG@K and AUC.
//
// Conventions (ESCI-style):
//  - a product is relevant when its grade is at least `relevant_from` (default Exact);
//    unjudged products count as irrelevant;
//  - NDCG gains are by default E 1.0, S 0.1, C 0.01, I 0 (the ESCI shopping-queries
//    benchmark's; GradeGains);
//  - queries without any relevant judged product are skipped (they would make Recall undefined
//    and HR zero whatever the model does); queries() counts the ones that were used.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace recsys::dist {
class Communicator;
}

namespace recsys::models {

// The judged products of one query.
struct JudgedQuery {
  int32_t query = 0;                // row in Dataset::queries
  std::vector<int32_t> products;    // rows in Dataset::products
  std::vector<data::Grade> grades;  // same size as products
};

// Every query of the given split that has at least one judged pair, in query-row order.
std::vector<JudgedQuery> JudgedQueries(const data::Dataset& dataset, data::Split split);

// Every query row's judged products, whatever its split: entry q is query q's (no products when
// it has no judged pair). What NDCG over the full catalogue looks a ranked list up in.
std::vector<JudgedQuery> JudgedQueriesByRow(const data::Dataset& dataset);

// The default gain of a grade (E 1, S 0.1, C 0.01, I 0).
double GradeGain(data::Grade grade);

// NDCG gains per grade.
struct GradeGains {
  std::array<double, 4> gain = {0.0, 0.01, 0.1, 1.0};  // by grade: I, C, S, E
  double operator()(data::Grade grade) const { return gain[static_cast<int>(grade)]; }
};
// Parses "E=1,S=0.1,C=0.01,I=0" (letters E S C I, any order, spaces ignored; a grade left out
// keeps its default gain). Throws recsys::Error for an unknown grade, a gain that is not a finite
// number >= 0, a grade given twice, or an empty text.
GradeGains ParseGradeGains(const std::string& text);

class RankingMetrics {
 public:
  // ks: the cut-offs to report, each >= 1.
  explicit RankingMetrics(std::vector<int> ks, data::Grade relevant_from = data::Grade::kExact,
                          GradeGains gains = {});

  // Adds one query: ranked holds product rows, best first, without duplicates (throws on one).
  // A list shorter than k still divides Precision@k by k: missing results count as misses.
  void Add(const std::vector<int32_t>& ranked, const JudgedQuery& judged);

  // Sums the accumulated counts over all ranks. COLLECTIVE; every rank must have been
  // constructed with the same ks.
  void AllReduce(dist::Communicator& comm);

  // Means over the queries used; k must be one of ks.
  double Precision(int k) const;
  double Recall(int k) const;
  double HitRate(int k) const;
  double Ndcg(int k) const;
  int64_t queries() const { return static_cast<int64_t>(sums_[0]); }
  const std::vector<int>& ks() const { return ks_; }

 private:
  size_t Slot(int k) const;
  std::vector<int> ks_;
  data::Grade relevant_from_;
  GradeGains gains_;
  // [0] = queries used; then per k: precision, recall, hit rate, ndcg sums.
  std::vector<double> sums_;
};

// Area under the ROC curve of scores against binary labels (ties count one half). Throws if
// the sizes differ; returns 0.5 when only one class is present.
double Auc(const std::vector<float>& scores, const std::vector<uint8_t>& labels);

}  // namespace recsys::models
