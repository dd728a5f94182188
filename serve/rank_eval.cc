#include "serve/rank_eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>

#include "core/error.h"
#include "core/latency.h"
#include "core/log.h"
#include "core/numeric_checks.h"
#include "data/vector_file.h"
#include "dist/distributed_sampler.h"
#include "models/baselines.h"
#include "models/ranker.h"
#include "serve/ranking_set_builder.h"
#include "serve/recall_eval_stage.h"

namespace recsys::serve {
namespace {

namespace fs = std::filesystem;
constexpr double kNotApplicable = std::numeric_limits<double>::quiet_NaN();
const std::vector<int> kCutoffs = {1, 5, 10, 25, 50};

// The metrics of ranked lists (one per query of `queries`), over the full catalogue.
RankEvalRow MetricsRow(const std::string& model, int64_t candidates,
                       const std::vector<std::vector<int32_t>>& ranked,
                       const std::vector<int32_t>& queries,
                       const std::vector<models::JudgedQuery>& judged_by_row,
                       const RankEvalOptions& o) {
  models::RankingMetrics metrics(kCutoffs, o.relevant_from, o.gains);
  for (size_t i = 0; i < queries.size(); ++i) metrics.Add(ranked[i], judged_by_row[queries[i]]);
  RankEvalRow row;
  row.model = model;
  row.candidates = candidates;
  row.queries = metrics.queries();
  if (row.queries > 0) {
    row.hr5 = metrics.HitRate(5);
    row.hr10 = metrics.HitRate(10);
    row.hr25 = metrics.HitRate(25);
    row.hr50 = metrics.HitRate(50);
    row.ndcg1 = metrics.Ndcg(1);
    row.ndcg10 = metrics.Ndcg(10);
  }
  row.auc = row.log_loss = row.train_seconds = row.p50_ms = row.p99_ms = kNotApplicable;
  return row;
}

// AUC (relevant vs not) and log loss (sigmoid(score) against the gain) over every row of set.
void AddScoreMetrics(const models::RankingSet& set, const std::vector<float>& scores,
                     const RankEvalOptions& o, bool log_loss, RankEvalRow* row) {
  std::vector<uint8_t> labels(set.rows());
  double loss = 0;
  for (int64_t r = 0; r < set.rows(); ++r) {
    labels[r] = set.grades[r] >= o.relevant_from ? 1 : 0;
    const double target = o.gains(set.grades[r]), s = scores[r];
    // BCE with logits, stable for any score: max(s, 0) - s t + log(1 + exp(-|s|)).
    loss += std::max(s, 0.0) - s * target + std::log1p(std::exp(-std::abs(s)));
  }
  row->auc = models::Auc(scores, labels);
  if (log_loss) row->log_loss = set.rows() > 0 ? loss / static_cast<double>(set.rows()) : 0.0;
}

// COLLECTIVE: every rank scores its slice of the groups, one query at a time; the scores of all
// groups are gathered on every rank. *ms: rank 0's time per query.
std::vector<float> ScoreSet(const models::Ranker& ranker, const models::RankingSet& set,
                            dist::Communicator& comm, std::vector<double>* ms) {
  const dist::Slice mine = dist::SliceOf(set.groups(), comm.rank(), comm.size());
  std::vector<float> local;
  for (int64_t g = mine.begin; g < mine.end; ++g) {
    const auto start = std::chrono::steady_clock::now();
    const std::vector<float> scores = ranker.Score(
        models::SelectRows(set.features, set.group_offsets[g], set.group_offsets[g + 1]));
    ms->push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
    local.insert(local.end(), scores.begin(), scores.end());
  }
  return dist::AllGatherV(comm, local);
}

}  // namespace

void CheckRankEvalOptions(const RankEvalOptions& o) {
  RECSYS_CHECK(!o.candidates.empty(), "--eval-candidates names no candidate count");
  for (int64_t m : o.candidates) {
    RECSYS_CHECK(m >= 1, "--eval-candidates: every M must be at least 1, got " << m);
  }
  CheckThreads("--threads", o.threads);
  CheckCount("--nprobe", o.recall.nprobe, 1);
  CheckNonNegative("--lexical-weight", o.recall.fusion.lexical_weight);
  CheckCount("--feature-buckets", o.features.num_buckets, 1);
}

std::vector<std::string> RankerCheckpoints(const RankEvalOptions& o) {
  if (!o.checkpoints.empty()) return o.checkpoints;
  std::vector<std::string> out;
  const fs::path folder = fs::path(o.out) / "checkpoints";
  if (!fs::is_directory(folder)) return out;
  for (const fs::directory_entry& e : fs::directory_iterator(folder)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("ranker_", 0) == 0 && e.path().extension() == ".h5" &&
        name.find(".last.") == std::string::npos) {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

RankEvalResult RunRankEval(const RankEvalOptions& o, dist::Communicator& comm) {
  CheckRankEvalOptions(o);
  const bool root = comm.rank() == 0;
  const data::Dataset dataset = data::ReadDataset(o.data);
  CheckHasTestQueries(dataset, o.data);
  std::vector<std::unique_ptr<models::Ranker>> rankers;
  for (const std::string& path : RankerCheckpoints(o)) {
    rankers.push_back(models::LoadRanker(path, o.threads));
    const int64_t buckets = rankers.back()->num_buckets();
    RECSYS_CHECK(buckets == 0 || buckets == o.features.num_buckets,
                 path << " was trained on " << buckets << " feature buckets, the evaluation builds "
                      << o.features.num_buckets);
  }
  RecallService service(o.out, comm);
  RECSYS_CHECK(service.products() == static_cast<int64_t>(dataset.products.size()),
               "rank eval: the index in " << o.out << " holds " << service.products()
                                          << " products, " << o.data << " has "
                                          << dataset.products.size());
  const models::RankingFeatureBuilder builder(dataset, o.features);
  const std::vector<int32_t> queries = JudgedQueryRows(dataset, data::Split::kTest);
  const std::vector<models::JudgedQuery> judged = models::JudgedQueriesByRow(dataset);
  const int depth = kCutoffs.back();
  // Product embeddings for the re-rank's diversity by embedding: the served ones.
  std::vector<float> embeddings;
  int64_t embedding_dim = 0;
  if (o.rerank.diversity_by == Diversity::kEmbedding) {
    const std::string vectors = (fs::path(o.out) / "vectors.h5").string();
    const data::VectorFileInfo info = data::ReadVectorInfo(vectors);
    embeddings = data::ReadVectorRows(vectors, 0, info.rows);
    embedding_dim = info.dim;
  }

  RankEvalResult result;
  std::vector<RankEvalRow>& rows = result.rows;
  {
    const models::PopularityRetriever popularity(dataset);
    rows.push_back(
        MetricsRow(popularity.name(), 0, popularity.Retrieve(queries, depth), queries, judged, o));
    RecallOptions lexical = o.recall;
    lexical.mode = RecallMode::kLexical;
    lexical.candidates = depth;
    const models::RankingSet bm25 =
        BuildRankingSet(service, builder, dataset, queries, lexical, comm);
    rows.push_back(MetricsRow("bm25", 0,
                              models::RankGroups(bm25, models::CandidateOrderScores(bm25)), queries,
                              judged, o));
  }
  double best_ndcg = -1;
  for (int64_t m : o.candidates) {
    RecallOptions recall = o.recall;
    recall.candidates = m;
    const models::RankingSet set =
        BuildRankingSet(service, builder, dataset, queries, recall, comm);
    const std::vector<float> order = models::CandidateOrderScores(set);
    rows.push_back(MetricsRow("fusion", m, models::RankGroups(set, order), queries, judged, o));
    AddScoreMetrics(set, order, o, /*log_loss=*/false, &rows.back());
    for (const auto& ranker : rankers) {
      std::vector<double> ms;
      const std::vector<float> scores = ScoreSet(*ranker, set, comm, &ms);
      rows.push_back(
          MetricsRow(ranker->name(), m, models::RankGroups(set, scores), queries, judged, o));
      RankEvalRow& row = rows.back();
      AddScoreMetrics(set, scores, o, /*log_loss=*/true, &row);
      row.train_seconds = ranker->train_seconds();
      const LatencySummary latency = SummarizeLatencies(ms);
      std::vector<double> times = {latency.p50, latency.p99};
      dist::Broadcast(comm, times, 0);
      row.p50_ms = times[0];
      row.p99_ms = times[1];
      if (root) {
        RECSYS_INFO("rank eval M=" << m << " " << row.model << ": NDCG@10 " << row.ndcg10
                                   << ", HR@10 " << row.hr10 << ", p50 " << row.p50_ms << " ms");
      }
      // The re-rank table re-orders the best ranker's lists at the first M.
      if (m == o.candidates.front() && row.ndcg10 > best_ndcg) {
        best_ndcg = row.ndcg10;
        result.rerank_ranker = row.model;
        result.rerank_candidates = m;
        result.rerank = RerankTable(set, scores, dataset, judged, o.rerank_weights, o.rerank,
                                    embeddings.empty() ? nullptr : &embeddings, embedding_dim,
                                    o.gains, o.relevant_from);
      }
    }
  }
  return result;
}

}  // namespace recsys::serve
