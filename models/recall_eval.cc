#include "models/recall_eval.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iterator>
#include <map>
#include <sstream>
#include <unordered_set>
#include <utility>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/progress.h"
#include "dist/communicator.h"
#include "models/metrics.h"

namespace recsys::models {
namespace {

constexpr int kColdDepth = 50;  // the cold-start column's cut-off
// Queries handed to a retriever per call: large enough for BLAS-backed retrievers to batch,
// small enough for the progress line to move.
constexpr size_t kBatch = 256;

// The metric columns of both files, in order: Precision@K and Recall@K per cut-off, then NDCG@10,
// HR@10 and the cold-start Recall@50. One function names them and reads a row's values, so the
// CSV and Markdown files cannot disagree.
std::vector<std::pair<std::string, double>> Columns(const RecallTable& table,
                                                    const RecallRow& row) {
  std::vector<std::pair<std::string, double>> out;
  auto value = [](const std::map<int, double>& by_k, int k) {
    auto it = by_k.find(k);
    return it == by_k.end() ? 0.0 : it->second;
  };
  for (int k : table.metrics.cutoffs) {
    out.emplace_back("precision@" + std::to_string(k), value(row.precision, k));
  }
  for (int k : table.metrics.cutoffs) {
    out.emplace_back("recall@" + std::to_string(k), value(row.recall, k));
  }
  out.emplace_back("ndcg@10", row.ndcg_at_10);
  out.emplace_back("hr@10", row.hit_rate_at_10);
  out.emplace_back("cold_recall@50", row.cold_recall_at_50);
  return out;
}

// The metrics' cut-offs: the table's, plus 10 for NDCG and HR.
std::vector<int> MetricCutoffs(const RecallMetricsOptions& options) {
  std::vector<int> ks = options.cutoffs;
  if (std::find(ks.begin(), ks.end(), 10) == ks.end()) ks.push_back(10);
  return ks;
}

// Values of one per-query row, sent to rank 0 as doubles: query index, relevant products,
// recall per cut-off, ndcg@10.
int QueryValues(const RecallMetricsOptions& options) {
  return 3 + static_cast<int>(options.cutoffs.size());
}

// Sums over this rank's queries for one retriever; all-reduced before the means are taken.
struct Accumulator {
  explicit Accumulator(const RecallMetricsOptions& o) : options(o) {}
  const RecallMetricsOptions& options;
  RankingMetrics metrics{MetricCutoffs(options), options.relevant_from, options.gains};
  double cold_recall_sum = 0;
  double cold_queries = 0;
  std::vector<double> per_query;  // QueryValues per query with a relevant product

  void Add(const std::vector<int32_t>& ranked, const JudgedQuery& judged, int64_t index,
           const std::vector<uint8_t>& cold) {
    const data::Grade relevant_from = options.relevant_from;
    metrics.Add(ranked, judged);
    RankingMetrics one(MetricCutoffs(options), relevant_from, options.gains);
    one.Add(ranked, judged);
    if (one.queries() == 1) {
      const auto relevant = std::count_if(judged.grades.begin(), judged.grades.end(),
                                          [&](data::Grade g) { return g >= relevant_from; });
      per_query.push_back(static_cast<double>(index));
      per_query.push_back(static_cast<double>(relevant));
      for (int k : options.cutoffs) per_query.push_back(one.Recall(k));
      per_query.push_back(one.Ndcg(10));
    }
    std::unordered_set<int32_t> relevant_cold;
    for (size_t i = 0; i < judged.products.size(); ++i) {
      if (judged.grades[i] >= relevant_from && cold[judged.products[i]]) {
        relevant_cold.insert(judged.products[i]);
      }
    }
    if (relevant_cold.empty()) return;
    int hits = 0;
    for (size_t i = 0; i < ranked.size() && i < static_cast<size_t>(kColdDepth); ++i) {
      hits += relevant_cold.count(ranked[i]) > 0;
    }
    cold_recall_sum += static_cast<double>(hits) / relevant_cold.size();
    cold_queries += 1;
  }
};

// Runs work on this rank; if it throws on any rank, every rank throws (the rank that failed
// with its own message), so that no rank is left waiting in the collective that follows.
// COLLECTIVE.
template <typename Work>
void RunAgreeingOnFailure(dist::Communicator& comm, const std::string& what, Work work) {
  std::exception_ptr error;
  try {
    work();
  } catch (...) {
    error = std::current_exception();
  }
  const int32_t failed = dist::AllReduceValue<int32_t>(comm, error ? 1 : 0, dist::ReduceOp::kSum);
  if (error) std::rethrow_exception(error);
  if (failed > 0) RECSYS_THROW(what << " failed on " << failed << " other rank(s)");
}

const char* GradeName(data::Grade grade) {
  switch (grade) {
    case data::Grade::kExact:
      return "Exact";
    case data::Grade::kSubstitute:
      return "Substitute";
    case data::Grade::kComplement:
      return "Complement";
    case data::Grade::kIrrelevant:
      return "Irrelevant";
  }
  return "?";
}

// A CSV field: quoted, with quotes doubled, when it holds a comma, a quote or a line break.
std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Fixed4(double value) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(4) << value;
  return os.str();
}

}  // namespace

int RetrievalDepth(const RecallMetricsOptions& options) {
  int depth = kColdDepth;
  for (int k : options.cutoffs) depth = std::max(depth, k);
  return depth;
}

std::vector<int> ParseCutoffs(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    int k = 0;
    try {
      k = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    RECSYS_CHECK(used > 0 && used == item.size() && k >= 1,
                 "cut-offs: '" << item << "' is not an integer >= 1");
    RECSYS_CHECK(std::find(out.begin(), out.end(), k) == out.end(),
                 "cut-offs: " << k << " given twice");
    out.push_back(k);
  }
  RECSYS_CHECK(!out.empty(), "cut-offs: none given (expected e.g. 10,50,100)");
  std::sort(out.begin(), out.end());
  return out;
}

RecallTable EvaluateRecall(const data::Dataset& dataset, data::Split split,
                           const std::vector<const Retriever*>& retrievers,
                           dist::Communicator& comm, bool show_progress,
                           const RecallMetricsOptions& metrics) {
  RECSYS_CHECK(!metrics.cutoffs.empty() && metrics.cutoffs[0] >= 1 &&
                   std::is_sorted(metrics.cutoffs.begin(), metrics.cutoffs.end()) &&
                   std::adjacent_find(metrics.cutoffs.begin(), metrics.cutoffs.end()) ==
                       metrics.cutoffs.end(),
               "EvaluateRecall: cut-offs must be ascending distinct integers >= 1");
  const int depth = RetrievalDepth(metrics);
  const int query_values = QueryValues(metrics);
  const std::vector<JudgedQuery> all = JudgedQueries(dataset, split);
  const std::vector<uint8_t> cold = data::ColdStartProducts(dataset);
  // This rank's contiguous block of the judged queries.
  const int64_t n = static_cast<int64_t>(all.size());
  const size_t begin = n * comm.rank() / comm.size(), end = n * (comm.rank() + 1) / comm.size();

  RecallTable table;
  table.split = split;
  table.metrics = metrics;
  table.judged_queries = n;
  for (const Retriever* retriever : retrievers) {
    RECSYS_CHECK(retriever != nullptr, "EvaluateRecall: null retriever");
    const std::string name = retriever->name();
    Accumulator sums(metrics);
    RunAgreeingOnFailure(comm, "evaluating " + name, [&] {
      // Rank 0's block stands for everyone's: blocks differ by at most one query.
      Progress progress("eval " + name, n, "queries", show_progress && comm.rank() == 0);
      for (size_t b = begin; b < end; b += kBatch) {
        const size_t e = std::min(b + kBatch, end);
        std::vector<int32_t> rows;
        for (size_t i = b; i < e; ++i) rows.push_back(all[i].query);
        const std::vector<std::vector<int32_t>> ranked = retriever->Retrieve(rows, depth);
        RECSYS_CHECK(ranked.size() == rows.size(), name << " returned " << ranked.size()
                                                        << " lists for " << rows.size()
                                                        << " queries");
        for (size_t i = b; i < e; ++i) {
          sums.Add(ranked[i - b], all[i], static_cast<int64_t>(i), cold);
        }
        progress.Update(static_cast<int64_t>(e - begin) * comm.size());
      }
      progress.Update(n);
    });
    sums.metrics.AllReduce(comm);
    std::vector<double> cold_sums = {sums.cold_recall_sum, sums.cold_queries};
    dist::AllReduce(comm, cold_sums, dist::ReduceOp::kSum);

    const RankingMetrics& m = sums.metrics;
    RecallRow row;
    row.model = name;
    for (int k : metrics.cutoffs) {
      row.precision[k] = m.Precision(k);
      row.recall[k] = m.Recall(k);
    }
    row.ndcg_at_10 = m.Ndcg(10);
    row.hit_rate_at_10 = m.HitRate(10);
    row.cold_recall_at_50 = cold_sums[1] > 0 ? cold_sums[0] / cold_sums[1] : 0.0;
    table.rows.push_back(row);
    // Blocks are contiguous and gathered in rank order: query order.
    const std::vector<double> gathered = dist::GatherV(comm, sums.per_query, /*root=*/0);
    for (size_t i = 0; i + query_values <= gathered.size(); i += query_values) {
      QueryRecallRow q;
      q.model = name;
      q.query_id = dataset.queries.id[all[static_cast<size_t>(gathered[i])].query];
      q.relevant = static_cast<int64_t>(gathered[i + 1]);
      for (size_t c = 0; c < metrics.cutoffs.size(); ++c) {
        q.recall[metrics.cutoffs[c]] = gathered[i + 2 + c];
      }
      q.ndcg_at_10 = gathered[i + 2 + metrics.cutoffs.size()];
      table.per_query.push_back(std::move(q));
    }
    // Every retriever sees the same queries, so the counts are the same for each.
    table.queries = m.queries();
    table.cold_queries = static_cast<int64_t>(cold_sums[1]);
  }
  return table;
}

std::string FormatRecallTable(const RecallTable& table) {
  const std::vector<std::pair<std::string, double>> names = Columns(table, RecallRow{});
  std::ostringstream os;
  os << "| model |";
  for (const auto& c : names) os << " " << c.first << " |";
  os << " queries | cold_queries |\n|:---|";
  for (size_t i = 0; i < names.size() + 2; ++i) os << "---:|";
  os << "\n";
  for (const RecallRow& row : table.rows) {
    os << "| " << row.model << " |";
    for (const auto& c : Columns(table, row)) os << " " << Fixed4(c.second) << " |";
    os << " " << table.queries << " | " << table.cold_queries << " |\n";
  }
  const GradeGains& gains = table.metrics.gains;
  os << "\nSplit " << data::SplitName(table.split) << ": " << table.judged_queries
     << " judged queries; metrics are means over the " << table.queries
     << " with a relevant product (grade >= " << GradeName(table.metrics.relevant_from) << "), top "
     << RetrievalDepth(table.metrics) << " per query; NDCG gains E " << gains(data::Grade::kExact)
     << ", S " << gains(data::Grade::kSubstitute) << ", C " << gains(data::Grade::kComplement)
     << ", I " << gains(data::Grade::kIrrelevant)
     << "; cold_recall@50 is Recall@50 over relevant cold-start products (never "
        "judged for a train or valid query, so unseen in training), averaged over the "
     << table.cold_queries << " queries that have one.\n";
  return os.str();
}

void WriteRecallTable(const RecallTable& table, const std::string& dir) {
  for (const RecallRow& row : table.rows) {
    RECSYS_CHECK(row.model.find_first_of(",\"|\r\n") == std::string::npos,
                 "model name '" << row.model << "' cannot go into a CSV or Markdown table");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    RECSYS_THROW(dir << ": cannot create the results directory"
                     << (ec ? ": " + ec.message() : std::string(": not a directory")));
  }

  std::ostringstream csv;
  csv << "model";
  for (const auto& c : Columns(table, RecallRow{})) csv << "," << c.first;
  csv << ",queries,cold_queries\n";
  for (const RecallRow& row : table.rows) {
    csv << row.model;
    for (const auto& c : Columns(table, row)) csv << "," << Fixed4(c.second);
    csv << "," << table.queries << "," << table.cold_queries << "\n";
  }
  const std::filesystem::path base(dir);
  WriteFileAtomically((base / "recall_metrics.csv").string(), csv.str());
  WriteFileAtomically((base / "recall_metrics.md").string(), FormatRecallTable(table));
  std::ostringstream per_query;
  per_query << "model,query_id,relevant";
  for (int k : table.metrics.cutoffs) per_query << ",recall@" << k;
  per_query << ",ndcg@10\n";
  for (const QueryRecallRow& q : table.per_query) {
    per_query << q.model << "," << CsvField(q.query_id) << "," << q.relevant;
    for (int k : table.metrics.cutoffs) {
      auto it = q.recall.find(k);
      per_query << "," << Fixed4(it == q.recall.end() ? 0.0 : it->second);
    }
    per_query << "," << Fixed4(q.ndcg_at_10) << "\n";
  }
  WriteFileAtomically((base / "recall_per_query.csv").string(), per_query.str());
}

}  // namespace recsys::models
