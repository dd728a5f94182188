#include "models/xgboost_ranker.h"

#include <unistd.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>
#include <utility>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"

namespace recsys::models {
namespace {

// XGBoost's last error on this thread as one line: its first line ("./src/x.cc:12: message")
// without the time stamp; the rest (a stack trace, a drawing of where JSON broke) is dropped.
std::string LastXgboostError() {
  std::string error = XGBGetLastError();
  error.resize(std::min(error.find('\n'), error.size()));
  if (error.size() > 11 && error[0] == '[' && error[9] == ']' && error[10] == ' ')
    error.erase(0, 11);
  while (!error.empty() && std::isspace(static_cast<unsigned char>(error.back()))) error.pop_back();
  return error;
}

// "XGBoosterCreate(nullptr, 0, &handle)" -> "XGBoosterCreate".
std::string CallName(const char* call_text) {
  return std::string(call_text, std::strcspn(call_text, "( "));
}

}  // namespace
}  // namespace recsys::models

// RECSYS_XGB_CHECK(XGBoosterCreate(...), "creating the booster"): every XGBoost C API call goes
// through this. A non-zero return throws recsys::Error with the context, the call's name and
// XGBoost's own message.
#define RECSYS_XGB_CHECK(call, context_expr)                           \
  do {                                                                 \
    if ((call) != 0) {                                                 \
      RECSYS_THROW(context_expr << ": XGBoost " << CallName(#call)     \
                                << " failed: " << LastXgboostError()); \
    }                                                                  \
  } while (0)

namespace recsys::models {

void detail::BoosterFree::operator()(void* booster) const {
  // Nothing can be reported from a destructor; XGBoosterFree fails only on a null handle.
  if (booster != nullptr) XGBoosterFree(booster);
}

namespace {

struct DMatrixFree {
  void operator()(void* matrix) const {
    if (matrix != nullptr) XGDMatrixFree(matrix);
  }
};
using DMatrixPtr = std::unique_ptr<void, DMatrixFree>;
using BoosterPtr = std::unique_ptr<void, detail::BoosterFree>;

// Exact decimal text of a double, for XGBoosterSetParam.
std::string Text(double value) {
  std::ostringstream os;
  os << std::setprecision(17) << value;
  return os.str();
}

void CheckOptions(const XgboostRankerOptions& o) {
  RECSYS_CHECK(o.rounds >= 1 && o.rounds <= std::numeric_limits<int>::max(),
               "XgboostRankerOptions: rounds must be in [1, 2^31), got " << o.rounds);
  RECSYS_CHECK(o.max_depth >= 1,
               "XgboostRankerOptions: max_depth must be >= 1, got " << o.max_depth);
  RECSYS_CHECK(o.eta > 0 && std::isfinite(o.eta),
               "XgboostRankerOptions: eta must be positive, got " << o.eta);
  RECSYS_CHECK(o.min_child_weight >= 0,
               "XgboostRankerOptions: min_child_weight must be >= 0, got " << o.min_child_weight);
  RECSYS_CHECK(o.subsample > 0 && o.subsample <= 1,
               "XgboostRankerOptions: subsample must be in (0, 1], got " << o.subsample);
  RECSYS_CHECK(o.colsample > 0 && o.colsample <= 1,
               "XgboostRankerOptions: colsample must be in (0, 1], got " << o.colsample);
  RECSYS_CHECK(o.ndcg_truncation >= 1,
               "XgboostRankerOptions: ndcg_truncation must be >= 1, got " << o.ndcg_truncation);
  RECSYS_CHECK(o.pairs_per_row >= 1,
               "XgboostRankerOptions: pairs_per_row must be >= 1, got " << o.pairs_per_row);
  RECSYS_CHECK(o.early_stopping_rounds >= 0,
               "XgboostRankerOptions: early_stopping_rounds must "
               "be >= 0 (0 = off), got "
                   << o.early_stopping_rounds);
  RECSYS_CHECK(o.threads >= 1, "XgboostRankerOptions: threads must be >= 1, got " << o.threads);
  RECSYS_CHECK(o.seed <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()),
               "XgboostRankerOptions: seed must be at most 2^63 - 1, got " << o.seed);
}

void CheckFinite(const float* dense, int64_t rows, const char* what) {
  for (int64_t i = 0; i < rows * kNumDenseFeatures; ++i) {
    RECSYS_CHECK(std::isfinite(dense[i]), what << ": feature " << i % kNumDenseFeatures
                                               << " of row " << i / kNumDenseFeatures << " is "
                                               << dense[i] << "; features must be finite");
  }
}

// Checks one RankingGroups (what = "train" or "valid" in messages); returns its row count.
int64_t CheckGroups(const RankingGroups& g, const char* what) {
  RECSYS_CHECK(g.dense.size() % kNumDenseFeatures == 0,
               what << ": dense has " << g.dense.size() << " floats, not a multiple of the "
                    << kNumDenseFeatures << " features of a row");
  const int64_t rows = static_cast<int64_t>(g.dense.size() / kNumDenseFeatures);
  RECSYS_CHECK(static_cast<int64_t>(g.labels.size()) == rows,
               what << ": " << g.labels.size() << " labels for " << rows << " rows");
  RECSYS_CHECK(g.group_offsets.size() >= 2,
               what << ": group_offsets needs at least 2 entries (one query), got "
                    << g.group_offsets.size());
  RECSYS_CHECK(g.group_offsets.front() == 0,
               what << ": group_offsets must start at 0, got " << g.group_offsets.front());
  for (size_t q = 0; q + 1 < g.group_offsets.size(); ++q) {
    RECSYS_CHECK(g.group_offsets[q] < g.group_offsets[q + 1],
                 what << ": query " << q << " is empty or reversed (group_offsets " << q << ", "
                      << q + 1 << " = " << g.group_offsets[q] << ", " << g.group_offsets[q + 1]
                      << "); offsets must increase strictly");
  }
  RECSYS_CHECK(g.group_offsets.back() == rows, what << ": group_offsets end at "
                                                    << g.group_offsets.back()
                                                    << ", not at the row count " << rows);
  for (int64_t r = 0; r < rows; ++r) {
    const float label = g.labels[r];
    RECSYS_CHECK(
        std::isfinite(label) && label >= 0 && label == std::floor(label),
        what << ": label of row " << r << " is " << label << "; grades are non-negative integers");
  }
  CheckFinite(g.dense.data(), rows, what);
  return rows;
}

DMatrixPtr MakeDMatrix(const RankingGroups& g, int64_t rows, int threads, const char* what) {
  DMatrixHandle handle = nullptr;
  // No value is missing (all finite), so NaN as the missing marker changes nothing.
  RECSYS_XGB_CHECK(
      XGDMatrixCreateFromMat_omp(g.dense.data(), static_cast<bst_ulong>(rows), kNumDenseFeatures,
                                 std::numeric_limits<float>::quiet_NaN(), &handle, threads),
      what << ": building the DMatrix");
  DMatrixPtr matrix(handle);
  RECSYS_XGB_CHECK(XGDMatrixSetFloatInfo(handle, "label", g.labels.data(), rows),
                   what << ": setting labels");
  std::vector<unsigned> sizes(g.group_offsets.size() - 1);
  for (size_t q = 0; q < sizes.size(); ++q) {
    const int64_t size = g.group_offsets[q + 1] - g.group_offsets[q];
    RECSYS_CHECK(size <= std::numeric_limits<unsigned>::max(),
                 what << ": query " << q << " has " << size << " rows, more than XGBoost takes");
    sizes[q] = static_cast<unsigned>(size);
  }
  RECSYS_XGB_CHECK(XGDMatrixSetUIntInfo(handle, "group", sizes.data(), sizes.size()),
                   what << ": setting query groups");
  return matrix;
}

// The value of "<name>-<metric>:<value>" in an XGBoosterEvalOneIter result such as
// "[12]\ttrain-ndcg@10:0.93\tvalid-ndcg@10:0.81".
double EvalValue(const std::string& result, const std::string& name, const std::string& metric) {
  const std::string key = "\t" + name + "-" + metric + ":";
  const size_t at = result.find(key);
  RECSYS_CHECK(at != std::string::npos,
               "XGBoost evaluation \"" << result << "\" has no " << name << "-" << metric);
  return std::strtod(result.c_str() + at + key.size(), nullptr);
}

}  // namespace

XgboostRanker::XgboostRanker(std::unique_ptr<void, detail::BoosterFree> booster,
                             int64_t best_iteration, int64_t rounds_trained)
    : booster_(std::move(booster)),
      best_iteration_(best_iteration),
      rounds_trained_(rounds_trained) {
  // XGBoost configures a booster lazily, on its first prediction (and again after SetParam).
  // Predicting once here, before the ranker can be shared, leaves concurrent Score calls nothing
  // to configure.
  const std::vector<float> zeros(kNumDenseFeatures, 0.0f);
  Score(zeros.data(), 1);
}

XgboostRanker XgboostRanker::Train(const RankingGroups& train, const RankingGroups& valid,
                                   const XgboostRankerOptions& options) {
  CheckOptions(options);
  const int64_t train_rows = CheckGroups(train, "train");
  const bool has_valid =
      !valid.dense.empty() || !valid.labels.empty() || valid.group_offsets.size() > 1;
  const int64_t valid_rows = has_valid ? CheckGroups(valid, "valid") : 0;
  const auto start = std::chrono::steady_clock::now();

  DMatrixPtr dtrain = MakeDMatrix(train, train_rows, options.threads, "train");
  DMatrixPtr dvalid;
  if (has_valid) dvalid = MakeDMatrix(valid, valid_rows, options.threads, "valid");
  DMatrixHandle cached[2] = {dtrain.get(), dvalid.get()};
  BoosterHandle handle = nullptr;
  RECSYS_XGB_CHECK(XGBoosterCreate(cached, has_valid ? 2 : 1, &handle), "XgboostRanker::Train");
  BoosterPtr booster(handle);

  const std::string metric = "ndcg@" + std::to_string(options.ndcg_truncation);
  const std::pair<const char*, std::string> params[] = {
      {"objective", "rank:ndcg"},
      {"eval_metric", metric},
      {"num_pairsample", std::to_string(options.pairs_per_row)},
      // hist, not 1.7's default auto (exact on small data, approx on large): fast on dense rows.
      {"tree_method", "hist"},
      {"max_depth", std::to_string(options.max_depth)},
      {"eta", Text(options.eta)},
      {"min_child_weight", Text(options.min_child_weight)},
      {"subsample", Text(options.subsample)},
      {"colsample_bytree", Text(options.colsample)},
      {"nthread", std::to_string(options.threads)},
      {"seed", std::to_string(options.seed)},
  };
  for (const auto& [name, value] : params) {
    RECSYS_XGB_CHECK(XGBoosterSetParam(handle, name, value.c_str()),
                     "XgboostRanker::Train: setting " << name << " = " << value);
  }

  RECSYS_INFO("xgboost ranker: " << train_rows << " train rows in "
                                 << train.group_offsets.size() - 1 << " queries, " << valid_rows
                                 << " valid rows; up to " << options.rounds << " rounds"
                                 << (has_valid ? ", best " + metric + " on valid kept" : ""));
  double best_score = -std::numeric_limits<double>::infinity();
  int64_t best_round = -1;
  int64_t round = 0;
  bool stopped = false;
  while (round < options.rounds && !stopped) {
    RECSYS_XGB_CHECK(XGBoosterUpdateOneIter(handle, static_cast<int>(round), dtrain.get()),
                     "XgboostRanker::Train: round " << round);
    const bool log_now = round % 50 == 0 || round + 1 == options.rounds;
    double valid_score = 0;
    if (has_valid) {
      DMatrixHandle matrices[1] = {dvalid.get()};
      const char* names[1] = {"valid"};
      const char* result = nullptr;
      RECSYS_XGB_CHECK(
          XGBoosterEvalOneIter(handle, static_cast<int>(round), matrices, names, 1, &result),
          "XgboostRanker::Train: evaluating round " << round);
      valid_score = EvalValue(result, "valid", metric);
      // Strictly better, as XGBoost's own early stopping: ties keep the earlier, smaller model.
      if (valid_score > best_score) {
        best_score = valid_score;
        best_round = round;
      } else if (options.early_stopping_rounds > 0 &&
                 round - best_round >= options.early_stopping_rounds) {
        stopped = true;
      }
    }
    if (log_now || stopped) {
      DMatrixHandle matrices[1] = {dtrain.get()};
      const char* names[1] = {"train"};
      const char* result = nullptr;
      RECSYS_XGB_CHECK(
          XGBoosterEvalOneIter(handle, static_cast<int>(round), matrices, names, 1, &result),
          "XgboostRanker::Train: evaluating round " << round);
      const double train_score = EvalValue(result, "train", metric);
      if (has_valid) {
        RECSYS_INFO("xgboost ranker: round " << round << " train " << metric << " " << train_score
                                             << ", valid " << valid_score << " (best " << best_score
                                             << " at round " << best_round << ")");
      } else {
        RECSYS_INFO("xgboost ranker: round " << round << " train " << metric << " " << train_score);
      }
    }
    ++round;
  }
  if (!has_valid) best_round = round - 1;

  // Saved with the model, under the names XGBoost's Python package reads back.
  RECSYS_XGB_CHECK(XGBoosterSetAttr(handle, "best_iteration", std::to_string(best_round).c_str()),
                   "XgboostRanker::Train: recording the best iteration");
  if (has_valid) {
    RECSYS_XGB_CHECK(XGBoosterSetAttr(handle, "best_score", Text(best_score).c_str()),
                     "XgboostRanker::Train: recording the best score");
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (has_valid) {
    RECSYS_INFO("xgboost ranker: " << round << " rounds in " << seconds << " s"
                                   << (stopped ? " (stopped early)" : "") << "; best iteration "
                                   << best_round << ", valid " << metric << " " << best_score);
  } else {
    RECSYS_INFO("xgboost ranker: " << round << " rounds in " << seconds << " s");
  }
  return XgboostRanker(std::move(booster), best_round, round);
}

XgboostRanker XgboostRanker::Load(const std::string& path, int threads) {
  std::ifstream in(path, std::ios::binary);
  RECSYS_CHECK(in, path << ": cannot open the XGBoost model for reading");
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  RECSYS_CHECK(!in.bad(), path << ": read failed");
  return FromJson(content, threads, path);
}

XgboostRanker XgboostRanker::FromJson(const std::string& content, int threads,
                                      const std::string& path) {
  RECSYS_CHECK(threads >= 1,
               path << ": XgboostRanker::Load: threads must be >= 1, got " << threads);
  // Save writes JSON. Anything else would reach XGBoost's legacy binary reader, which takes
  // arbitrary bytes for a header.
  const size_t first = content.find_first_not_of(" \t\r\n");
  RECSYS_CHECK(first != std::string::npos && content[first] == '{',
               path << ": not an XGBoost JSON model (XgboostRanker::Save writes one)");

  BoosterHandle handle = nullptr;
  RECSYS_XGB_CHECK(XGBoosterCreate(nullptr, 0, &handle), path << ": loading");
  BoosterPtr booster(handle);
  RECSYS_XGB_CHECK(XGBoosterLoadModelFromBuffer(handle, content.data(), content.size()),
                   path << ": not a valid XGBoost model");
  RECSYS_XGB_CHECK(XGBoosterSetParam(handle, "nthread", std::to_string(threads).c_str()),
                   path << ": setting nthread");

  bst_ulong features = 0;
  RECSYS_XGB_CHECK(XGBoosterGetNumFeature(handle, &features), path << ": loading");
  RECSYS_CHECK(features == static_cast<bst_ulong>(kNumDenseFeatures),
               path << ": the model takes " << features << " features, the ranking features are "
                    << kNumDenseFeatures);
  int rounds = 0;
  RECSYS_XGB_CHECK(XGBoosterBoostedRounds(handle, &rounds), path << ": loading");
  RECSYS_CHECK(rounds >= 1, path << ": the XGBoost model has no trees");

  int64_t best = rounds - 1;
  const char* attribute = nullptr;
  int found = 0;
  RECSYS_XGB_CHECK(XGBoosterGetAttr(handle, "best_iteration", &attribute, &found),
                   path << ": loading");
  if (found != 0) {
    char* end = nullptr;
    best = std::strtoll(attribute, &end, 10);
    RECSYS_CHECK(end != attribute && *end == '\0' && best >= 0 && best < rounds,
                 path << ": best_iteration \"" << attribute << "\" is not a round of the " << rounds
                      << " in the model");
  }
  return XgboostRanker(std::move(booster), best, rounds);
}

void XgboostRanker::Save(const std::string& path) const {
  RECSYS_CHECK(booster_, path << ": XgboostRanker::Save on a moved-from ranker");
  WriteFileAtomically(path, ToJson());
}

std::string XgboostRanker::ToJson() const {
  RECSYS_CHECK(booster_, "XgboostRanker::ToJson on a moved-from ranker");
  bst_ulong size = 0;
  const char* bytes = nullptr;
  RECSYS_XGB_CHECK(
      XGBoosterSaveModelToBuffer(booster_.get(), R"({"format": "json"})", &size, &bytes),
      "serialising the XGBoost model");
  // The buffer belongs to XGBoost and lives until the next call on this thread: copy it.
  return std::string(bytes, size);
}

std::vector<float> XgboostRanker::Score(const float* dense, int64_t rows) const {
  RECSYS_CHECK(booster_, "XgboostRanker::Score on a moved-from ranker");
  RECSYS_CHECK(rows >= 0, "XgboostRanker::Score: rows must be >= 0, got " << rows);
  if (rows == 0) return {};
  RECSYS_CHECK(dense != nullptr, "XgboostRanker::Score: dense is null for " << rows << " rows");
  CheckFinite(dense, rows, "XgboostRanker::Score");

  // In-place prediction over the caller's array (__array_interface__ in JSON), no DMatrix.
  std::ostringstream array;
  array << R"({"data": [)" << reinterpret_cast<uintptr_t>(dense) << R"(, true], "shape": [)" << rows
        << ", " << kNumDenseFeatures << R"(], "typestr": "<f4", "version": 3})";
  // iteration_end is exclusive: trees of rounds [0, best_iteration] only.
  std::ostringstream config;
  config << R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": )"
         << best_iteration_ + 1 << R"(, "strict_shape": false, "missing": NaN, "cache_id": 0})";
  const bst_ulong* shape = nullptr;
  bst_ulong dims = 0;
  const float* scores = nullptr;
  RECSYS_XGB_CHECK(XGBoosterPredictFromDense(booster_.get(), array.str().c_str(),
                                             config.str().c_str(), nullptr, &shape, &dims, &scores),
                   "XgboostRanker::Score: " << rows << " rows");
  bst_ulong total = 1;
  for (bst_ulong d = 0; d < dims; ++d) total *= shape[d];
  RECSYS_CHECK(total == static_cast<bst_ulong>(rows), "XgboostRanker::Score: XGBoost returned "
                                                          << total << " scores for " << rows
                                                          << " rows");
  // The buffer is XGBoost's, reused by this thread's next prediction.
  return std::vector<float>(scores, scores + rows);
}

}  // namespace recsys::models
