#include "models/metrics.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "dist/communicator.h"

namespace recsys::models {

std::vector<JudgedQuery> JudgedQueries(const data::Dataset& dataset, data::Split split) {
  std::vector<JudgedQuery> out;
  const data::Judgments& pairs = dataset.pairs;
  for (size_t i = 0; i < pairs.size(); ++i) {
    int32_t q = pairs.query[i];
    if (dataset.queries.split[q] != split) continue;
    // Pairs are grouped by query (Dataset::Validate), so a new query starts a new entry.
    if (out.empty() || out.back().query != q) out.push_back({q, {}, {}});
    out.back().products.push_back(pairs.product[i]);
    out.back().grades.push_back(pairs.grade[i]);
  }
  return out;
}

std::vector<JudgedQuery> JudgedQueriesByRow(const data::Dataset& dataset) {
  std::vector<JudgedQuery> out(dataset.queries.size());
  for (size_t q = 0; q < out.size(); ++q) out[q].query = static_cast<int32_t>(q);
  const data::Judgments& pairs = dataset.pairs;
  for (size_t i = 0; i < pairs.size(); ++i) {
    out[pairs.query[i]].products.push_back(pairs.product[i]);
    out[pairs.query[i]].grades.push_back(pairs.grade[i]);
  }
  return out;
}

double GradeGain(data::Grade grade) { return GradeGains()(grade); }

GradeGains ParseGradeGains(const std::string& text) {
  GradeGains out;
  bool given[4] = {false, false, false, false};
  std::string entry;
  std::istringstream in(text);
  bool any = false;
  while (std::getline(in, entry, ',')) {
    entry.erase(std::remove(entry.begin(), entry.end(), ' '), entry.end());
    const size_t eq = entry.find('=');
    RECSYS_CHECK(eq == 1, "gains: '" << entry << "' is not GRADE=GAIN (grades E, S, C, I)");
    const int g = std::string("ICSE").find(static_cast<char>(std::toupper(entry[0])));
    RECSYS_CHECK(g != static_cast<int>(std::string::npos),
                 "gains: unknown grade '" << entry[0] << "' (choose E, S, C, I)");
    RECSYS_CHECK(!given[g], "gains: grade " << entry[0] << " given twice");
    size_t used = 0;
    double value = -1;
    try {
      value = std::stod(entry.substr(2), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    RECSYS_CHECK(used > 0 && used == entry.size() - 2 && std::isfinite(value) && value >= 0,
                 "gains: '" << entry.substr(2) << "' is not a gain >= 0");
    given[g] = true;
    out.gain[g] = value;
    any = true;
  }
  RECSYS_CHECK(any, "gains: empty (expected e.g. E=1,S=0.1,C=0.01,I=0)");
  return out;
}

RankingMetrics::RankingMetrics(std::vector<int> ks, data::Grade relevant_from, GradeGains gains)
    : ks_(std::move(ks)),
      relevant_from_(relevant_from),
      gains_(gains),
      sums_(1 + 4 * ks_.size(), 0.0) {
  RECSYS_CHECK(!ks_.empty(), "RankingMetrics needs at least one cut-off");
  for (int k : ks_) RECSYS_CHECK(k >= 1, "cut-off k must be >= 1, got " << k);
}

size_t RankingMetrics::Slot(int k) const {
  auto it = std::find(ks_.begin(), ks_.end(), k);
  RECSYS_CHECK(it != ks_.end(), "metrics were not computed at k=" << k);
  return 1 + 4 * static_cast<size_t>(it - ks_.begin());
}

void RankingMetrics::Add(const std::vector<int32_t>& ranked, const JudgedQuery& judged) {
  RECSYS_CHECK(judged.products.size() == judged.grades.size(),
               "query " << judged.query << ": products and grades differ in size");
  std::unordered_map<int32_t, data::Grade> grade_of;
  int relevant = 0;
  std::vector<double> gains;
  for (size_t i = 0; i < judged.products.size(); ++i) {
    grade_of.emplace(judged.products[i], judged.grades[i]);
    relevant += judged.grades[i] >= relevant_from_;
    gains.push_back(gains_(judged.grades[i]));
  }
  if (relevant == 0) return;
  std::sort(gains.rbegin(), gains.rend());
  std::unordered_set<int32_t> seen(ranked.begin(), ranked.end());
  RECSYS_CHECK(seen.size() == ranked.size(),
               "query " << judged.query << ": the ranked list repeats a product");

  sums_[0] += 1;
  for (int k : ks_) {
    int hits = 0;
    double dcg = 0, ideal = 0;
    for (int i = 0; i < k && i < static_cast<int>(ranked.size()); ++i) {
      auto it = grade_of.find(ranked[i]);
      if (it == grade_of.end()) continue;
      hits += it->second >= relevant_from_;
      dcg += gains_(it->second) / std::log2(i + 2.0);
    }
    for (int i = 0; i < k && i < static_cast<int>(gains.size()); ++i) {
      ideal += gains[i] / std::log2(i + 2.0);
    }
    size_t s = Slot(k);
    sums_[s] += static_cast<double>(hits) / k;
    sums_[s + 1] += static_cast<double>(hits) / relevant;
    sums_[s + 2] += hits > 0 ? 1.0 : 0.0;
    sums_[s + 3] += ideal > 0 ? dcg / ideal : 0.0;
  }
}

void RankingMetrics::AllReduce(dist::Communicator& comm) {
  dist::AllReduce(comm, sums_, dist::ReduceOp::kSum);
}

namespace {
double Mean(double sum, double count) { return count > 0 ? sum / count : 0.0; }
}  // namespace

double RankingMetrics::Precision(int k) const { return Mean(sums_[Slot(k)], sums_[0]); }
double RankingMetrics::Recall(int k) const { return Mean(sums_[Slot(k) + 1], sums_[0]); }
double RankingMetrics::HitRate(int k) const { return Mean(sums_[Slot(k) + 2], sums_[0]); }
double RankingMetrics::Ndcg(int k) const { return Mean(sums_[Slot(k) + 3], sums_[0]); }

double Auc(const std::vector<float>& scores, const std::vector<uint8_t>& labels) {
  RECSYS_CHECK(scores.size() == labels.size(),
               "AUC: " << scores.size() << " scores but " << labels.size() << " labels");
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Mann-Whitney U: sum of the positives' ranks (1-based, ties get their average rank).
  double positive_rank_sum = 0;
  int64_t positives = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    double average_rank = (i + 1 + j) / 2.0;
    for (size_t t = i; t < j; ++t) {
      if (labels[order[t]]) {
        positive_rank_sum += average_rank;
        ++positives;
      }
    }
    i = j;
  }
  int64_t negatives = static_cast<int64_t>(scores.size()) - positives;
  if (positives == 0 || negatives == 0) return 0.5;
  return (positive_rank_sum - positives * (positives + 1) / 2.0) /
         (static_cast<double>(positives) * negatives);
}

}  // namespace recsys::models
