#include "serve/rerank.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <numeric>
#include <sstream>

#include "core/error.h"

namespace recsys::serve {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kMeasureAt = 10;

void CheckWeight(const char* name, double weight) {
  RECSYS_CHECK(std::isfinite(weight) && weight >= 0,
               "the re-rank " << name << " weight must be a finite number >= 0, got " << weight);
}

// Positions 0..n-1 by descending score, ties by position: the ranker's order.
std::vector<int64_t> ScoreOrder(const std::vector<float>& scores) {
  std::vector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });
  return order;
}

// A mean that skips NaN; NaN when nothing was added.
struct Mean {
  double sum = 0;
  int64_t count = 0;
  void Add(double value) {
    if (std::isnan(value)) return;
    sum += value;
    ++count;
  }
  double value() const { return count > 0 ? sum / static_cast<double>(count) : kNaN; }
};

std::string Fixed(double value, int decimals) {
  if (std::isnan(value)) return "-";
  std::ostringstream os;
  os << std::fixed << std::setprecision(decimals) << value;
  return os.str();
}

std::string Weight(double value) {
  std::ostringstream os;
  os << value;
  return os.str();
}

}  // namespace

Diversity ParseDiversity(const std::string& text) {
  if (text == "category") return Diversity::kCategory;
  if (text == "embedding") return Diversity::kEmbedding;
  RECSYS_THROW("unknown diversity '" << text << "': expected category or embedding");
}

const char* DiversityName(Diversity by) {
  return by == Diversity::kCategory ? "category" : "embedding";
}

Reranker::Reranker(const data::Dataset& dataset, const RerankOptions& options,
                   const std::vector<float>* embeddings, int64_t dim)
    : dataset_(dataset), options_(options), embeddings_(embeddings), dim_(dim) {
  CheckWeight("relevance", options.relevance);
  CheckWeight("diversity", options.diversity);
  CheckWeight("freshness", options.freshness);
  RECSYS_CHECK(options.depth >= 1, "the re-rank depth must be at least 1, got " << options.depth);
  RECSYS_CHECK(
      std::isfinite(options.half_life_days) && options.half_life_days > 0,
      "the freshness half-life must be a positive number of days, got " << options.half_life_days);
  RECSYS_CHECK(options.diversity_by != Diversity::kEmbedding || embeddings != nullptr,
               "embedding diversity needs the product embeddings (vectors.h5)");
  const int64_t products = static_cast<int64_t>(dataset.products.size());
  RECSYS_CHECK(dataset.products.category.size() == dataset.products.size() &&
                   dataset.products.release_day.size() == dataset.products.size(),
               "the catalogue has " << products << " products but "
                                    << dataset.products.category.size() << " categories and "
                                    << dataset.products.release_day.size() << " release days");
  if (embeddings != nullptr) {
    RECSYS_CHECK(dim >= 1, "embedding dimension must be at least 1, got " << dim);
    RECSYS_CHECK(static_cast<int64_t>(embeddings->size()) == products * dim,
                 "embeddings hold " << embeddings->size() << " values, not " << products
                                    << " products x " << dim);
  }
  for (int32_t day : dataset.products.release_day) {
    if (day != data::kUnknownDay) reference_day_ = std::max(reference_day_, day);
  }
}

void Reranker::CheckProduct(int32_t product) const {
  RECSYS_CHECK(
      product >= 0 && static_cast<size_t>(product) < dataset_.products.size(),
      "product row " << product << " is outside the catalogue of " << dataset_.products.size());
}

double Reranker::Similarity(Diversity by, int32_t a, int32_t b) const {
  if (by == Diversity::kCategory) {
    const int32_t category = dataset_.products.category[a];
    return category != 0 && category == dataset_.products.category[b] ? 1.0 : 0.0;
  }
  // The file's rows are L2-normalised, but dividing by the norms keeps this a cosine for any
  // vectors at the cost of two more sums in the same pass.
  const float* x = embeddings_->data() + static_cast<int64_t>(a) * dim_;
  const float* y = embeddings_->data() + static_cast<int64_t>(b) * dim_;
  double dot = 0, xx = 0, yy = 0;
  for (int64_t d = 0; d < dim_; ++d) {
    dot += static_cast<double>(x[d]) * y[d];
    xx += static_cast<double>(x[d]) * x[d];
    yy += static_cast<double>(y[d]) * y[d];
  }
  return xx > 0 && yy > 0 ? dot / std::sqrt(xx * yy) : 0.0;
}

std::vector<int64_t> Reranker::Order(const std::vector<int32_t>& products,
                                     const std::vector<float>& scores) const {
  RECSYS_CHECK(products.size() == scores.size(),
               products.size() << " products but " << scores.size() << " scores");
  const int64_t n = static_cast<int64_t>(products.size());
  for (int64_t i = 0; i < n; ++i) {
    CheckProduct(products[i]);
    RECSYS_CHECK(std::isfinite(scores[i]),
                 "the score at position " << i << " is " << scores[i] << ", not a finite number");
  }
  std::vector<int64_t> by_score = ScoreOrder(scores);
  // Nothing but relevance: the ranker's order as it is, free of rounding in the normalisation.
  if (options_.diversity == 0 && options_.freshness == 0) return by_score;

  const auto [lo, hi] = std::minmax_element(scores.begin(), scores.end());
  std::vector<double> base(n);  // relevance * rel + freshness * fresh
  for (int64_t i = 0; i < n; ++i) {
    const double rel = *hi > *lo ? (static_cast<double>(scores[i]) - *lo) / (*hi - *lo) : 1.0;
    const int32_t day = dataset_.products.release_day[products[i]];
    const double fresh =
        day == data::kUnknownDay
            ? 0.0
            : std::exp2(-static_cast<double>(reference_day_ - day) / options_.half_life_days);
    base[i] = options_.relevance * rel + options_.freshness * fresh;
  }

  const int64_t depth = std::min(options_.depth, n);
  std::vector<double> redundancy(n, 0.0);  // max similarity to the placed ones
  std::vector<uint8_t> placed(n, 0);
  std::vector<int64_t> order;
  order.reserve(n);
  for (int64_t step = 0; step < depth; ++step) {
    int64_t best = -1;
    double best_value = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (placed[i]) continue;
      const double value = base[i] - options_.diversity * redundancy[i];
      // Ascending i: an equal value keeps the earlier position unless it scores higher.
      if (best < 0 || value > best_value || (value == best_value && scores[i] > scores[best])) {
        best = i;
        best_value = value;
      }
    }
    placed[best] = 1;
    order.push_back(best);
    if (options_.diversity == 0 || step + 1 == depth) continue;
    for (int64_t i = 0; i < n; ++i) {
      if (placed[i]) continue;
      const double sim = Similarity(options_.diversity_by, products[i], products[best]);
      // Before the first placement the penalty is 0; afterwards it is the max, even if negative.
      redundancy[i] = step == 0 ? sim : std::max(redundancy[i], sim);
    }
  }
  for (int64_t i : by_score) {
    if (!placed[i]) order.push_back(i);
  }
  return order;
}

ListMeasures Reranker::Measure(const std::vector<int32_t>& ranked, int64_t k) const {
  RECSYS_CHECK(k >= 1, "measures need k >= 1, got " << k);
  const int64_t m = std::min<int64_t>(k, static_cast<int64_t>(ranked.size()));
  for (int64_t i = 0; i < m; ++i) CheckProduct(ranked[i]);
  ListMeasures out;
  if (m >= 2) {
    const double pairs = static_cast<double>(m) * (m - 1) / 2;
    double category = 0, embedding = 0;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = i + 1; j < m; ++j) {
        category += 1 - Similarity(Diversity::kCategory, ranked[i], ranked[j]);
        if (embeddings_ != nullptr) {
          embedding += 1 - Similarity(Diversity::kEmbedding, ranked[i], ranked[j]);
        }
      }
    }
    out.ild_category = category / pairs;
    if (embeddings_ != nullptr) out.ild_embedding = embedding / pairs;
  }
  Mean age;
  for (int64_t i = 0; i < m; ++i) {
    const int32_t day = dataset_.products.release_day[ranked[i]];
    if (day != data::kUnknownDay) age.Add(static_cast<double>(reference_day_) - day);
  }
  out.mean_age_days = age.value();
  return out;
}

std::vector<RerankRow> RerankTable(const models::RankingSet& set, const std::vector<float>& scores,
                                   const data::Dataset& dataset,
                                   const std::vector<models::JudgedQuery>& judged_by_query_row,
                                   const std::vector<std::pair<double, double>>& weights,
                                   const RerankOptions& base, const std::vector<float>* embeddings,
                                   int64_t dim, const models::GradeGains& gains,
                                   data::Grade relevant_from) {
  RECSYS_CHECK(scores.size() == set.products.size(),
               scores.size() << " scores for " << set.products.size() << " candidate rows");
  RECSYS_CHECK(
      set.group_offsets.size() == set.queries.size() + 1 && set.group_offsets.front() == 0 &&
          set.group_offsets.back() == static_cast<int64_t>(set.products.size()),
      "the ranking set's group offsets do not cover its " << set.products.size() << " rows");
  for (int32_t query : set.queries) {
    RECSYS_CHECK(query >= 0 && static_cast<size_t>(query) < judged_by_query_row.size(),
                 "query row " << query << " has no judgements (" << judged_by_query_row.size()
                              << " query rows)");
  }
  std::vector<RerankRow> rows;
  for (const auto& [diversity, freshness] : weights) {
    RerankOptions options = base;
    options.diversity = diversity;
    options.freshness = freshness;
    const Reranker reranker(dataset, options, embeddings, dim);
    models::RankingMetrics metrics({static_cast<int>(kMeasureAt)}, relevant_from, gains);
    Mean ild_category, ild_embedding, age;
    for (int64_t g = 0; g < set.groups(); ++g) {
      const auto begin = set.group_offsets[g], end = set.group_offsets[g + 1];
      const std::vector<int32_t> products(set.products.begin() + begin, set.products.begin() + end);
      const std::vector<float> group_scores(scores.begin() + begin, scores.begin() + end);
      std::vector<int32_t> ranked;
      for (int64_t i : reranker.Order(products, group_scores)) ranked.push_back(products[i]);
      const models::JudgedQuery& judged = judged_by_query_row[set.queries[g]];
      // The queries RankingMetrics counts: those with a relevant judged product.
      if (std::none_of(judged.grades.begin(), judged.grades.end(),
                       [&](data::Grade grade) { return grade >= relevant_from; })) {
        continue;
      }
      metrics.Add(ranked, judged);
      const ListMeasures measures = reranker.Measure(ranked, kMeasureAt);
      ild_category.Add(measures.ild_category);
      ild_embedding.Add(measures.ild_embedding);
      age.Add(measures.mean_age_days);
    }
    RerankRow row;
    row.relevance = options.relevance;
    row.diversity = diversity;
    row.freshness = freshness;
    row.queries = metrics.queries();
    row.ndcg10 = row.queries > 0 ? metrics.Ndcg(kMeasureAt) : kNaN;
    row.ild_category = ild_category.value();
    row.ild_embedding = ild_embedding.value();
    row.mean_age_days = age.value();
    rows.push_back(row);
  }
  return rows;
}

std::string FormatRerankTable(const std::vector<RerankRow>& rows) {
  std::ostringstream os;
  os << "| relevance | diversity | freshness | queries | NDCG@10 | ILD@10 category | "
        "ILD@10 embedding | mean age@10 (days) |\n"
     << "|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const RerankRow& row : rows) {
    os << "| " << Weight(row.relevance) << " | " << Weight(row.diversity) << " | "
       << Weight(row.freshness) << " | " << row.queries << " | " << Fixed(row.ndcg10, 4) << " | "
       << Fixed(row.ild_category, 3) << " | " << Fixed(row.ild_embedding, 3) << " | "
       << Fixed(row.mean_age_days, 1) << " |\n";
  }
  return os.str();
}

}  // namespace recsys::serve
