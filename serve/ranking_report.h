#pragma once
// The ranking stage's results as files a person reads: the RunRankEval table (serve/rank_eval.h)
// as Markdown, CSV and a bar chart, and the rankers' training curves (models/training_loop.h's
// RUN/results/curves/<model>.csv) as charts. The charts are drawn by gnuplot (core/gnuplot.h).
// Nothing here is collective: call it on one rank.

#include <string>
#include <vector>

#include "serve/rank_eval.h"

namespace recsys::serve {

// The rows as a Markdown table, one line per row in the order given: model | M | queries | HR@5 |
// HR@10 | HR@25 | HR@50 | NDCG@1 | NDCG@10 | AUC | log loss | train s | p50 ms | p99 ms. Metrics
// with 4 decimals, seconds with 1, milliseconds with 3; NaN (does not apply) and M = 0 (ranks the
// catalogue itself) are printed "-".
std::string FormatRankingTable(const std::vector<RankEvalRow>& rows);

// Writes, creating folder if needed, each file under a temporary name renamed into place:
//   <name>.md   a line saying what was measured, FormatRankingTable, then (when some rows are
//               named "dcn-<layers>" with nothing after the number) the DCN depth ablation: per M,
//               cross layers | HR@10 | NDCG@1 | NDCG@10, so that only models differing in depth
//               are compared ("dcn-2-stacked" is left out).
//   <name>.csv  a header and one line per row, every field: model, candidates (0 for the
//               catalogue rankers), queries, hr@5 .. p99_ms; NaN is an empty field.
//   <name>.png  NDCG@10 per model, a cluster of bars per model, one bar per M (the M = 0
//               baselines have one bar); about 1000 x 600 pixels.
// The two tables are written before the chart, so they exist even when gnuplot is missing.
// Throws recsys::Error naming the path when a file cannot be written, or gnuplot's message (see
// RunGnuplot); and when a model name would break the formats (contains , " | or a line break).
void WriteRankingReport(const std::vector<RankEvalRow>& rows, const std::string& folder,
                        const std::string& name);

// Writes folder/rerank.md: what each re-rank weight does (serve/rerank.h's RerankTable of
// result) to NDCG@10, intra-list diversity and the mean age of the top 10, with a line naming the
// ranker and M it re-orders. Nothing when result has no re-rank rows.
void WriteRerankReport(const RankEvalResult& result, const std::string& folder);

// For each <model>.csv training curve in curves_folder (header epoch,step,loss,<metric>,seconds;
// a row per epoch), writes <model>.png beside it: the training loss (left axis) and the
// validation metric (right axis, named from the header) per epoch, titled with the model. A curve
// with a single epoch is drawn as points; one without any epoch is skipped with a warning.
// Throws recsys::Error naming the file and line of a malformed curve, or when curves_folder is
// not a directory.
void PlotTrainingCurves(const std::string& curves_folder);

}  // namespace recsys::serve
