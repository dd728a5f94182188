#include "serve/ranking_report.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <map>
#include <sstream>
#include <utility>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/gnuplot.h"
#include "core/log.h"

namespace recsys::serve {
namespace {

namespace fs = std::filesystem;

// The metric columns of the Markdown table and the CSV, in order. One list names them and reads a
// row's values, so that the two files cannot disagree.
struct Column {
  const char* markdown;
  const char* csv;
  int decimals;  // in the Markdown table
  double RankEvalRow::*value;
};
const Column kColumns[] = {
    {"HR@5", "hr@5", 4, &RankEvalRow::hr5},
    {"HR@10", "hr@10", 4, &RankEvalRow::hr10},
    {"HR@25", "hr@25", 4, &RankEvalRow::hr25},
    {"HR@50", "hr@50", 4, &RankEvalRow::hr50},
    {"NDCG@1", "ndcg@1", 4, &RankEvalRow::ndcg1},
    {"NDCG@10", "ndcg@10", 4, &RankEvalRow::ndcg10},
    {"AUC", "auc", 4, &RankEvalRow::auc},
    {"log loss", "log_loss", 4, &RankEvalRow::log_loss},
    {"train s", "train_seconds", 1, &RankEvalRow::train_seconds},
    {"p50 ms", "p50_ms", 3, &RankEvalRow::p50_ms},
    {"p99 ms", "p99_ms", 3, &RankEvalRow::p99_ms},
};

// The chart's size in pixels: wider when there are many bars, so that names stay apart.
constexpr int kChartMinWidth = 1000, kChartMaxWidth = 2000, kChartHeight = 600;
// A bar narrower than this (about the width of "0.123" in the labels' font) gets its value
// written upwards.
constexpr double kBarPixels = 40;
constexpr int kChartBorderPixels = 160;  // left and right of the plot: tics, labels, margins
constexpr int kCurveWidth = 900, kCurveHeight = 540;

std::string Fixed(double value, int decimals) {
  if (std::isnan(value)) return "-";
  std::ostringstream os;
  os << std::fixed << std::setprecision(decimals) << value;
  return os.str();
}

std::string MOf(int64_t candidates) { return candidates == 0 ? "-" : std::to_string(candidates); }

// Enough digits to read a value back; NaN as an empty field.
std::string CsvNumber(double value) {
  if (std::isnan(value)) return "";
  std::ostringstream os;
  os << std::setprecision(10) << value;
  return os.str();
}

// A Markdown table: a header, left-aligned first column and right-aligned numbers, then rows.
std::string MarkdownTable(const std::vector<std::string>& header,
                          const std::vector<std::vector<std::string>>& rows) {
  std::ostringstream os;
  auto line = [&os](const std::vector<std::string>& cells) {
    os << "|";
    for (const std::string& cell : cells) os << " " << cell << " |";
    os << "\n";
  };
  line(header);
  os << "|:---|";
  for (size_t i = 1; i < header.size(); ++i) os << "---:|";
  os << "\n";
  for (const auto& row : rows) line(row);
  return os.str();
}

// Runs a chart script that writes the temporary path of png (it starts with ChartStart), then
// moves the finished chart into place.
void DrawAtomically(const std::string& png, const std::string& script) {
  const std::string tmp = TemporaryPath(png);
  try {
    RunGnuplot(script);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  RECSYS_CHECK(fs::exists(tmp), png << ": gnuplot exited without writing the chart");
  RenameIntoPlace(tmp, png);
}

// The first lines of every chart: cairo's antialiased PNG where this gnuplot has it, libgd's
// otherwise; no enhanced text, so that '_' and '^' in model names print as themselves.
std::string ChartStart(const std::string& png, int width, int height) {
  std::ostringstream os;
  const std::string size = " size " + std::to_string(width) + "," + std::to_string(height);
  os << "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
     << "  set terminal pngcairo" << size << " noenhanced font 'Sans,11'\n"
     << "} else {\n"
     << "  set terminal png" << size << " noenhanced\n"
     << "}\n"
     << "set output " << GnuplotQuoted(TemporaryPath(png)) << "\n";
  return os.str();
}

void CreateFolder(const std::string& folder) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec || !fs::is_directory(folder)) {
    RECSYS_THROW(folder << ": cannot create the results directory"
                        << (ec ? ": " + ec.message() : std::string(": not a directory")));
  }
}

// The cross layers of a model named exactly "dcn-<layers>", or -1.
int DcnLayers(const std::string& model) {
  const std::string prefix = "dcn-";
  if (model.rfind(prefix, 0) != 0 || model.size() == prefix.size() || model.size() > 12) return -1;
  for (size_t i = prefix.size(); i < model.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(model[i]))) return -1;
  }
  return std::atoi(model.c_str() + prefix.size());
}

// The DCN depth ablation table, or "" when no row is named dcn-<layers>.
std::string FormatDcnAblation(const std::vector<RankEvalRow>& rows) {
  std::vector<std::pair<int, const RankEvalRow*>> dcn;
  for (const RankEvalRow& row : rows) {
    const int layers = DcnLayers(row.model);
    if (layers >= 0) dcn.emplace_back(layers, &row);
  }
  if (dcn.empty()) return "";
  std::stable_sort(dcn.begin(), dcn.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a.second->candidates, a.first) <
           std::make_pair(b.second->candidates, b.first);
  });
  std::vector<std::vector<std::string>> cells;
  for (const auto& [layers, row] : dcn) {
    cells.push_back({MOf(row->candidates), std::to_string(layers), Fixed(row->hr10, 4),
                     Fixed(row->ndcg1, 4), Fixed(row->ndcg10, 4)});
  }
  return "## DCN depth ablation\n\nThe dcn-<layers> rankers (same features and training, only "
         "the number of cross layers differs), on the same candidates for each M.\n\n" +
         MarkdownTable({"M", "cross layers", "HR@10", "NDCG@1", "NDCG@10"}, cells);
}

// The bar chart of NDCG@10: a cluster per model (in the order of first appearance), a bar per M
// that model was measured with, one colour per M across the clusters.
std::string NdcgChartScript(const std::vector<RankEvalRow>& rows, const std::string& png) {
  std::vector<std::string> models;
  std::map<std::string, std::vector<const RankEvalRow*>> bars_of;
  std::vector<int64_t> ms;
  for (const RankEvalRow& row : rows) {
    if (std::isnan(row.ndcg10)) continue;
    if (!bars_of.count(row.model)) models.push_back(row.model);
    bars_of[row.model].push_back(&row);
    ms.push_back(row.candidates);
  }
  std::sort(ms.begin(), ms.end());
  ms.erase(std::unique(ms.begin(), ms.end()), ms.end());
  size_t most = 1;
  for (auto& [model, bars] : bars_of) {
    std::stable_sort(bars.begin(), bars.end(),
                     [](const auto* a, const auto* b) { return a->candidates < b->candidates; });
    most = std::max(most, bars.size());
  }
  const double width = 0.8 / static_cast<double>(most);          // in x units: a cluster spans 1
  const double span = static_cast<double>(models.size()) + 0.2;  // the x range
  const int pixels = std::clamp(static_cast<int>(kChartBorderPixels + kBarPixels * span / width),
                                kChartMinWidth, kChartMaxWidth);
  const bool upright = (pixels - kChartBorderPixels) / span * width >= kBarPixels;
  // Tic labels slanted at 30 degrees reach left of their tic by about 0.87 of their length, which
  // gnuplot does not reserve room for: the first model's must fit in the left margin.
  const size_t first_label = models.empty() ? 0 : models[0].size();
  const int left_margin = std::max(10, static_cast<int>(std::ceil(0.87 * first_label)) - 2);
  double top = 0;
  for (const RankEvalRow& row : rows) {
    if (!std::isnan(row.ndcg10)) top = std::max(top, row.ndcg10);
  }

  std::ostringstream os;
  os << ChartStart(png, pixels, kChartHeight);
  if (models.empty()) {
    return os.str() +
           "set title 'NDCG@10 per model'\nunset xtics\nunset ytics\nset xrange [0:1]\n"
           "set yrange [0:1]\nset label 'no rows to show' at 0.5,0.5 center\nplot NaN notitle\n";
  }
  os << "set title 'NDCG@10 per model on the test queries (candidates: the fused top M of the "
        "hybrid recall)'\n"
     << "set ylabel 'NDCG@10'\nset xlabel 'model'\n"
     << "set style fill solid 0.85 border -1\nset boxwidth " << width << " absolute\n"
     << "set grid ytics\nset key inside top left horizontal opaque box\n"
     << "set xrange [-0.6:" << models.size() - 0.4 << "]\n"
     << "set yrange [0:" << std::max(top * 1.25, 0.05) << "]\n"
     << "set lmargin " << left_margin << "\n"
     << "set xtics rotate by 30 right nomirror scale 0\nset xtics (";
  for (size_t i = 0; i < models.size(); ++i) {
    os << (i ? ", " : "") << GnuplotQuoted(models[i]) << " " << i;
  }
  os << ")\n";
  // One data block per M: x position and value of each of its bars.
  std::ostringstream labels;
  for (size_t s = 0; s < ms.size(); ++s) {
    os << "$m" << s << " << EOD\n";
    for (size_t i = 0; i < models.size(); ++i) {
      const auto& bars = bars_of[models[i]];
      for (size_t j = 0; j < bars.size(); ++j) {
        if (bars[j]->candidates != ms[s]) continue;
        const double x = static_cast<double>(i) + (j - (bars.size() - 1) / 2.0) * width;
        os << x << " " << bars[j]->ndcg10 << "\n";
        labels << x << " " << bars[j]->ndcg10 << " " << Fixed(bars[j]->ndcg10, 3) << "\n";
      }
    }
    os << "EOD\n";
  }
  os << "$labels << EOD\n" << labels.str() << "EOD\n";
  // The catalogue rankers in grey, the M blocks in distinct colours.
  const char* colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"};
  os << "plot ";
  for (size_t s = 0, c = 0; s < ms.size(); ++s) {
    const std::string colour = ms[s] == 0 ? "#9a9a9a" : colours[c++ % std::size(colours)];
    const std::string title =
        ms[s] == 0 ? "whole catalogue (M = -)" : "M = " + std::to_string(ms[s]);
    os << "$m" << s << " using 1:2 with boxes lc rgb '" << colour << "' title "
       << GnuplotQuoted(title) << ", ";
  }
  os << "$labels using 1:2:3 with labels "
     << (upright ? "offset 0,0.7" : "rotate by 90 left offset 0,0.4") << " font ',9' notitle\n";
  return os.str();
}

struct CurvePoint {
  double epoch, loss, metric;
};
struct Curve {
  std::string metric;  // the validation metric's name
  std::vector<CurvePoint> points;
};

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

Curve ReadCurve(const std::string& path) {
  std::ifstream in(path);
  RECSYS_CHECK(in, path << ": cannot open the training curve");
  std::string line;
  Curve curve;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::vector<std::string> fields = SplitCsvLine(line);
    if (number == 1) {
      RECSYS_CHECK(fields.size() >= 4 && fields[0] == "epoch" && fields[2] == "loss",
                   path << ":1: not a training curve (expected the header "
                           "epoch,step,loss,<metric>,seconds, got '"
                        << line << "')");
      curve.metric = fields[3];
      continue;
    }
    RECSYS_CHECK(fields.size() >= 4,
                 path << ":" << number << ": expected 5 fields, got " << fields.size());
    double values[4];
    for (int f = 0; f < 4; ++f) {
      char* end = nullptr;
      values[f] = std::strtod(fields[f].c_str(), &end);
      RECSYS_CHECK(!fields[f].empty() && *end == '\0',
                   path << ":" << number << ": '" << fields[f] << "' is not a number");
    }
    curve.points.push_back({values[0], values[2], values[3]});
  }
  RECSYS_CHECK(number > 0, path << ": empty training curve (no header)");
  return curve;
}

std::string GnuplotNumber(double value) {
  if (!std::isfinite(value)) return "NaN";
  std::ostringstream os;
  os << std::setprecision(10) << value;
  return os.str();
}

// Where a single value (one epoch) sits in its axis' range: the loss high and the metric low,
// so that the two points do not hide each other.
enum class Alone { kHigh, kLow };

// A range around the finite values with some room; a single value still gets a visible span.
std::string RangeOf(const std::vector<double>& values, Alone alone) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double v : values) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  if (lo > hi) return "[0:1]";
  double below = 0.08 * (hi - lo), above = below;
  if (hi == lo) {
    const double pad = std::max(0.1 * std::abs(hi), 0.01);
    below = alone == Alone::kHigh ? 3 * pad : pad;
    above = alone == Alone::kHigh ? pad : 3 * pad;
  }
  std::ostringstream os;
  os << std::setprecision(10) << "[" << lo - below << ":" << hi + above << "]";
  return os.str();
}

std::string CurveScript(const std::string& model, const Curve& curve, const std::string& png) {
  std::vector<double> epochs, losses, metrics;
  for (const CurvePoint& p : curve.points) {
    epochs.push_back(p.epoch);
    losses.push_back(p.loss);
    metrics.push_back(p.metric);
  }
  const double first = *std::min_element(epochs.begin(), epochs.end());
  const double last = *std::max_element(epochs.begin(), epochs.end());
  std::ostringstream os;
  os << ChartStart(png, kCurveWidth, kCurveHeight) << "set title "
     << GnuplotQuoted(model + ": training loss and validation " + curve.metric)
     << "\nset xlabel 'epoch'\nset ylabel 'training loss'\nset y2label "
     << GnuplotQuoted("validation " + curve.metric) << "\n"
     << "set ytics nomirror\nset y2tics\nset grid xtics ytics\n"
     << "set key bmargin center horizontal\n"
     << std::setprecision(10) << "set xrange [" << first - 0.5 << ":" << last + 0.5 << "]\n"
     << (last - first <= 20 ? "set xtics 1\n" : "") << "set yrange "
     << RangeOf(losses, Alone::kHigh) << "\nset y2range " << RangeOf(metrics, Alone::kLow) << "\n"
     << "set datafile missing 'NaN'\n$curve << EOD\n";
  for (const CurvePoint& p : curve.points) {
    // A value that is not finite (a diverged loss) becomes a gap.
    os << p.epoch << " " << GnuplotNumber(p.loss) << " " << GnuplotNumber(p.metric) << "\n";
  }
  os << "EOD\n"
     << "plot $curve using 1:2 axes x1y1 with linespoints lw 2 pt 7 ps 1.3 lc rgb '#1f77b4' "
        "title 'training loss (left)', "
     << "$curve using 1:3 axes x1y2 with linespoints lw 2 pt 5 ps 1.3 lc rgb '#d62728' title "
     << GnuplotQuoted("validation " + curve.metric + " (right)");
  if (curve.points.size() == 1) {  // no line to read the values from: print them
    os << ", $curve using 1:2:(sprintf('%.4g', $2)) axes x1y1 with labels offset 0,1.2 notitle, "
       << "$curve using 1:3:(sprintf('%.4g', $3)) axes x1y2 with labels offset 0,-1.2 notitle";
  }
  os << "\n";
  return os.str();
}

}  // namespace

std::string FormatRankingTable(const std::vector<RankEvalRow>& rows) {
  std::vector<std::string> header = {"model", "M", "queries"};
  for (const Column& c : kColumns) header.push_back(c.markdown);
  std::vector<std::vector<std::string>> cells;
  for (const RankEvalRow& row : rows) {
    std::vector<std::string> line = {row.model, MOf(row.candidates), std::to_string(row.queries)};
    for (const Column& c : kColumns) line.push_back(Fixed(row.*c.value, c.decimals));
    cells.push_back(std::move(line));
  }
  return MarkdownTable(header, cells);
}

void WriteRankingReport(const std::vector<RankEvalRow>& rows, const std::string& folder,
                        const std::string& name) {
  for (const RankEvalRow& row : rows) {
    RECSYS_CHECK(row.model.find_first_of(",\"|\r\n") == std::string::npos,
                 "model name '" << row.model << "' cannot go into a CSV or Markdown table");
  }
  CreateFolder(folder);
  const fs::path base = fs::path(folder) / name;

  std::ostringstream md;
  md << "Ranking on the test queries: each ranker orders the candidates, the fused top M of the "
        "hybrid recall (M = - for the rankers of the whole catalogue); metrics are over the full "
        "catalogue (a relevant product recall missed counts as missed); log loss is meaningful "
        "for BCE-trained models only.\n\n"
     << FormatRankingTable(rows);
  const std::string ablation = FormatDcnAblation(rows);
  if (!ablation.empty()) md << "\n" << ablation;
  WriteFileAtomically(base.string() + ".md", md.str());

  std::ostringstream csv;
  csv << "model,candidates,queries";
  for (const Column& c : kColumns) csv << "," << c.csv;
  csv << "\n";
  for (const RankEvalRow& row : rows) {
    csv << row.model << "," << row.candidates << "," << row.queries;
    for (const Column& c : kColumns) csv << "," << CsvNumber(row.*c.value);
    csv << "\n";
  }
  WriteFileAtomically(base.string() + ".csv", csv.str());

  const std::string png = base.string() + ".png";
  DrawAtomically(png, NdcgChartScript(rows, png));
}

void WriteRerankReport(const RankEvalResult& result, const std::string& folder) {
  if (result.rerank.empty()) return;
  CreateFolder(folder);
  std::ostringstream md;
  md << "Re-rank of " << result.rerank_ranker << "'s order of the fused top "
     << result.rerank_candidates
     << " candidates (test queries): greedy maximal marginal relevance over the top 10 with "
        "weights for relevance (the ranker's score, min-max normalised per list), diversity "
        "(redundancy with the products already placed) and freshness (2^(-age / half-life)). "
        "NDCG@10 over the full catalogue; intra-list diversity (ILD) = mean over pairs of the top "
        "10 of 1 - similarity (same category, or embedding cosine); mean age of the top 10 in "
        "days.\n\n"
     << FormatRerankTable(result.rerank);
  WriteFileAtomically((fs::path(folder) / "rerank.md").string(), md.str());
}

void PlotTrainingCurves(const std::string& curves_folder) {
  RECSYS_CHECK(fs::is_directory(curves_folder),
               curves_folder << ": not a directory (expected the training curves' folder)");
  std::vector<fs::path> csvs;
  for (const fs::directory_entry& entry : fs::directory_iterator(curves_folder)) {
    if (entry.is_regular_file() && entry.path().extension() == ".csv") csvs.push_back(entry);
  }
  std::sort(csvs.begin(), csvs.end());
  for (const fs::path& csv : csvs) {
    const Curve curve = ReadCurve(csv.string());
    if (curve.points.empty()) {
      RECSYS_WARN(csv.string() << ": no epoch yet, no chart drawn");
      continue;
    }
    const std::string png = fs::path(csv).replace_extension(".png").string();
    DrawAtomically(png, CurveScript(csv.stem().string(), curve, png));
  }
}

}  // namespace recsys::serve
