#include "serve/ranking_set_builder.h"

#include <algorithm>
#include <chrono>
#include <type_traits>
#include <unordered_map>

#include "core/error.h"
#include "core/log.h"
#include "models/metrics.h"

namespace recsys::serve {
namespace {

constexpr int kRoot = 0;
static_assert(std::is_trivially_copyable_v<models::CandidateSignals>,
              "candidate signals travel as bytes");

}  // namespace

std::vector<models::CandidateSignals> CandidateSignalsOf(const std::vector<Candidate>& candidates) {
  std::vector<models::CandidateSignals> out;
  out.reserve(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    out.push_back({c.product, static_cast<int32_t>(i + 1), c.dense_score, c.lexical_score,
                   c.dense_rank, c.lexical_rank});
  }
  return out;
}

models::RankingFeatures QueryFeatures(const models::RankingFeatureBuilder& builder,
                                      const std::string& text,
                                      const std::vector<Candidate>& candidates) {
  models::RankingFeatures out;
  builder.Append(text, -1, CandidateSignalsOf(candidates), &out);
  return out;
}

std::vector<int32_t> JudgedQueryRows(const data::Dataset& dataset, data::Split split) {
  std::vector<int32_t> rows;
  for (const models::JudgedQuery& q : models::JudgedQueries(dataset, split))
    rows.push_back(q.query);
  return rows;
}

models::RankingSet BuildRankingSet(RecallService& service,
                                   const models::RankingFeatureBuilder& builder,
                                   const data::Dataset& dataset,
                                   const std::vector<int32_t>& query_rows,
                                   const RecallOptions& recall, dist::Communicator& comm) {
  const auto start = std::chrono::steady_clock::now();
  const bool root = comm.rank() == kRoot;
  std::vector<std::string> texts;
  if (root) {
    for (int32_t q : query_rows) texts.push_back(dataset.queries.text[q]);
  }
  const std::vector<std::vector<Candidate>> lists = service.Recall(texts, recall);

  // Rank 0's candidates, shared: per query a count, then every candidate's signals as bytes
  // (CandidateSignals is plain data, the same on every rank of one build).
  std::vector<int64_t> counts;
  std::vector<models::CandidateSignals> all;
  for (const std::vector<Candidate>& list : lists) {
    std::vector<models::CandidateSignals> signals = CandidateSignalsOf(list);
    signals.resize(std::min<size_t>(signals.size(), recall.candidates));
    counts.push_back(static_cast<int64_t>(signals.size()));
    all.insert(all.end(), signals.begin(), signals.end());
  }
  dist::Broadcast(comm, counts, kRoot);
  RECSYS_CHECK(counts.size() == query_rows.size(), "ranking set: candidate lists of "
                                                       << counts.size() << " queries for "
                                                       << query_rows.size());
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  all.resize(total);
  comm.Broadcast(all.data(), all.size() * sizeof(models::CandidateSignals), dist::DataType::kUInt8,
                 kRoot);

  // Judged grades of each query's products.
  std::unordered_map<int64_t, data::Grade> grade_of;  // query row * products + product -> grade
  const auto n = static_cast<int64_t>(dataset.products.size());
  for (size_t i = 0; i < dataset.pairs.size(); ++i) {
    grade_of[int64_t{dataset.pairs.query[i]} * n + dataset.pairs.product[i]] =
        dataset.pairs.grade[i];
  }
  models::RankingSet set;
  int64_t next = 0;
  for (size_t g = 0; g < query_rows.size(); ++g) {
    const std::vector<models::CandidateSignals> signals(all.begin() + next,
                                                        all.begin() + next + counts[g]);
    next += counts[g];
    for (const models::CandidateSignals& c : signals) {
      const auto it = grade_of.find(int64_t{query_rows[g]} * n + c.product);
      set.products.push_back(static_cast<int32_t>(c.product));
      set.grades.push_back(it == grade_of.end() ? data::Grade::kIrrelevant : it->second);
    }
    builder.Append(dataset.queries.text[query_rows[g]], query_rows[g], signals, &set.features);
    set.group_offsets.push_back(set.features.rows);
    set.queries.push_back(query_rows[g]);
  }
  if (root) {
    RECSYS_INFO("ranking set: "
                << set.groups() << " queries, " << set.rows() << " candidates (fused top "
                << recall.candidates << " of " << RecallModeName(recall.mode) << ") in "
                << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
                << " s");
  }
  return set;
}

}  // namespace recsys::serve
