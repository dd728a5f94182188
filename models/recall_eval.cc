#include "models/recall_eval.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iterator>
#include <sstream>
#include <unordered_set>

#include "core/error.h"
#include "core/progress.h"
#include "dist/communicator.h"
#include "models/metrics.h"

namespace recsys::models {
namespace {

constexpr int kDepth = 100;  // products retrieved per query: the largest cut-off
constexpr int kColdDepth = 50;
// Queries handed to a retriever per call: large enough for BLAS-backed retrievers to batch,
// small enough for the progress line to move.
constexpr size_t kBatch = 256;

// The metric columns of both files, in order, with how to read each from a row.
struct Column {
  const char* name;
  double RecallRow::*value;
};
constexpr Column kColumns[] = {
    {"precision@5", &RecallRow::precision_at_5},
    {"precision@10", &RecallRow::precision_at_10},
    {"recall@5", &RecallRow::recall_at_5},
    {"recall@10", &RecallRow::recall_at_10},
    {"recall@50", &RecallRow::recall_at_50},
    {"recall@100", &RecallRow::recall_at_100},
    {"ndcg@10", &RecallRow::ndcg_at_10},
    {"hr@10", &RecallRow::hit_rate_at_10},
    {"cold_recall@50", &RecallRow::cold_recall_at_50},
};

// Sums over this rank's queries for one retriever; all-reduced before the means are taken.
// Values of one per-query row, sent to rank 0 as doubles: query index, relevant products,
// recall@10, @50, @100, ndcg@10.
constexpr int kQueryValues = 6;

struct Accumulator {
  Accumulator(data::Grade relevant, GradeGains g) : relevant_from(relevant), gains(g) {}
  data::Grade relevant_from;
  GradeGains gains;
  RankingMetrics metrics{{5, 10, 50, kDepth}, relevant_from, gains};
  double cold_recall_sum = 0;
  double cold_queries = 0;
  std::vector<double> per_query;  // kQueryValues per query with a relevant product

  void Add(const std::vector<int32_t>& ranked, const JudgedQuery& judged, int64_t index,
           const std::vector<uint8_t>& cold) {
    metrics.Add(ranked, judged);
    RankingMetrics one({10, 50, kDepth}, relevant_from, gains);
    one.Add(ranked, judged);
    if (one.queries() == 1) {
      const auto relevant = std::count_if(judged.grades.begin(), judged.grades.end(),
                                          [&](data::Grade g) { return g >= relevant_from; });
      per_query.insert(per_query.end(),
                       {static_cast<double>(index), static_cast<double>(relevant), one.Recall(10),
                        one.Recall(50), one.Recall(kDepth), one.Ndcg(10)});
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

// Writes content to path through a temporary file in the same directory, so that a crash never
// leaves a half-written file under the final name.
void WriteFileAtomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    RECSYS_CHECK(out, tmp << ": cannot open for writing");
    out << content;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      RECSYS_THROW(tmp << ": write failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    RECSYS_THROW(path << ": cannot rename the finished file into place: " << ec.message());
  }
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

RecallTable EvaluateRecall(const data::Dataset& dataset, data::Split split,
                           const std::vector<const Retriever*>& retrievers,
                           dist::Communicator& comm, bool show_progress, data::Grade relevant_from,
                           GradeGains gains) {
  const std::vector<JudgedQuery> all = JudgedQueries(dataset, split);
  const std::vector<uint8_t> cold = data::ColdStartProducts(dataset);
  // This rank's contiguous block of the judged queries.
  const int64_t n = static_cast<int64_t>(all.size());
  const size_t begin = n * comm.rank() / comm.size(), end = n * (comm.rank() + 1) / comm.size();

  RecallTable table;
  table.split = split;
  table.relevant_from = relevant_from;
  table.gains = gains;
  table.judged_queries = n;
  for (const Retriever* retriever : retrievers) {
    RECSYS_CHECK(retriever != nullptr, "EvaluateRecall: null retriever");
    const std::string name = retriever->name();
    Accumulator sums(relevant_from, gains);
    RunAgreeingOnFailure(comm, "evaluating " + name, [&] {
      // Rank 0's block stands for everyone's: blocks differ by at most one query.
      Progress progress("eval " + name, n, "queries", show_progress && comm.rank() == 0);
      for (size_t b = begin; b < end; b += kBatch) {
        const size_t e = std::min(b + kBatch, end);
        std::vector<int32_t> rows;
        for (size_t i = b; i < e; ++i) rows.push_back(all[i].query);
        const std::vector<std::vector<int32_t>> ranked = retriever->Retrieve(rows, kDepth);
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
    row.precision_at_5 = m.Precision(5);
    row.precision_at_10 = m.Precision(10);
    row.recall_at_5 = m.Recall(5);
    row.recall_at_10 = m.Recall(10);
    row.recall_at_50 = m.Recall(50);
    row.recall_at_100 = m.Recall(kDepth);
    row.ndcg_at_10 = m.Ndcg(10);
    row.hit_rate_at_10 = m.HitRate(10);
    row.cold_recall_at_50 = cold_sums[1] > 0 ? cold_sums[0] / cold_sums[1] : 0.0;
    table.rows.push_back(row);
    // Blocks are contiguous and gathered in rank order: query order.
    const std::vector<double> gathered = dist::GatherV(comm, sums.per_query, /*root=*/0);
    for (size_t i = 0; i + kQueryValues <= gathered.size(); i += kQueryValues) {
      const JudgedQuery& q = all[static_cast<size_t>(gathered[i])];
      table.per_query.push_back({name, dataset.queries.id[q.query],
                                 static_cast<int64_t>(gathered[i + 1]), gathered[i + 2],
                                 gathered[i + 3], gathered[i + 4], gathered[i + 5]});
    }
    // Every retriever sees the same queries, so the counts are the same for each.
    table.queries = m.queries();
    table.cold_queries = static_cast<int64_t>(cold_sums[1]);
  }
  return table;
}

std::string FormatRecallTable(const RecallTable& table) {
  std::ostringstream os;
  os << "| model |";
  for (const Column& c : kColumns) os << " " << c.name << " |";
  os << " queries | cold_queries |\n|:---|";
  for (size_t i = 0; i < std::size(kColumns) + 2; ++i) os << "---:|";
  os << "\n";
  for (const RecallRow& row : table.rows) {
    os << "| " << row.model << " |";
    for (const Column& c : kColumns) os << " " << Fixed4(row.*c.value) << " |";
    os << " " << table.queries << " | " << table.cold_queries << " |\n";
  }
  os << "\nSplit " << data::SplitName(table.split) << ": " << table.judged_queries
     << " judged queries; metrics are means over the " << table.queries
     << " with a relevant product (grade >= " << GradeName(table.relevant_from) << "), top "
     << kDepth << " per query; NDCG gains E " << table.gains(data::Grade::kExact) << ", S "
     << table.gains(data::Grade::kSubstitute) << ", C " << table.gains(data::Grade::kComplement)
     << ", I " << table.gains(data::Grade::kIrrelevant)
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
  for (const Column& c : kColumns) csv << "," << c.name;
  csv << ",queries,cold_queries\n";
  for (const RecallRow& row : table.rows) {
    csv << row.model;
    for (const Column& c : kColumns) csv << "," << Fixed4(row.*c.value);
    csv << "," << table.queries << "," << table.cold_queries << "\n";
  }
  const std::filesystem::path base(dir);
  WriteFileAtomically((base / "recall_metrics.csv").string(), csv.str());
  WriteFileAtomically((base / "recall_metrics.md").string(), FormatRecallTable(table));
  std::ostringstream per_query;
  per_query << "model,query_id,relevant,recall@10,recall@50,recall@100,ndcg@10\n";
  for (const QueryRecallRow& q : table.per_query) {
    per_query << q.model << "," << CsvField(q.query_id) << "," << q.relevant << ","
              << Fixed4(q.recall_at_10) << "," << Fixed4(q.recall_at_50) << ","
              << Fixed4(q.recall_at_100) << "," << Fixed4(q.ndcg_at_10) << "\n";
  }
  WriteFileAtomically((base / "recall_per_query.csv").string(), per_query.str());
}

}  // namespace recsys::models
