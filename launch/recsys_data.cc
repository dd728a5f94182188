// recsys_data: make, convert and inspect dataset.h5 files.
//   recsys_data generate --products N --seed S --out FILE      (mpirun -np N splits the work)
//   recsys_data generate --format judged-csv --out FILE.csv [--catalog-out CATALOG.csv]
//   recsys_data convert --format esci|judgments --in FILE --out FILE
// generate and convert never replace an existing file without --force, nor write over an input.
//   recsys_data inspect FILE

#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>
#include <utility>

#include "core/log.h"
#include "data/distributed_generate.h"
#include "data/judged_csv_writer.h"
#include "data/judgment_loaders.h"
#include "dist/collective_try.h"
#include "dist/make_communicator.h"
#include "launch/main_util.h"

namespace po = boost::program_options;

namespace recsys::launch {
namespace {

constexpr char kUsage[] =
    "Usage: recsys_data COMMAND [OPTIONS]\n"
    "Makes, converts and inspects dataset.h5 files (layout: README.md, 'dataset.h5').\n\n"
    "Commands:\n"
    "  generate   write a synthetic Amazon-like catalogue, queries and judged pairs\n"
    "             (mpirun -np N recsys_data generate ... splits the work over N ranks; the\n"
    "             file is identical for any N)\n"
    "  convert    convert judged search data (ESCI layout or a generic judged CSV/TSV)\n"
    "  inspect    print a dataset's counts\n\n"
    "'recsys_data COMMAND --help' lists a command's options.\n";

// Parses argv after the command word; returns false (after printing help on rank 0) for --help.
bool Parse(const std::vector<std::string>& args, const po::options_description& options,
           const po::positional_options_description& positional, const std::string& usage,
           bool print, po::variables_map* vm) {
  po::options_description all = options;
  all.add_options()("help,h", "show this help");
  po::store(po::command_line_parser(args).options(all).positional(positional).run(), *vm);
  if (vm->count("help")) {
    if (print) std::cout << usage << "\n" << all << std::endl;
    return false;
  }
  po::notify(*vm);
  return true;
}

// A command-line file option: its flag ("--in") and the path given.
using FileOption = std::pair<std::string, std::string>;

// Whether a and b name the same file: by file system identity when both exist (a link or another
// spelling of the path is the same file), else by their normalised absolute paths.
bool SameFile(const std::string& a, const std::string& b) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

// Refuses an output that is one of the other files of the command (an input, or another output:
// the output would destroy it), and an existing output unless force. Empty paths are unused
// options. Throws UsageError.
void CheckOutputs(const std::vector<FileOption>& outputs, const std::vector<FileOption>& inputs,
                  bool force) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto& [flag, path] = outputs[i];
    if (path.empty()) continue;
    std::vector<FileOption> others = inputs;
    others.insert(others.end(), outputs.begin(), outputs.begin() + i);
    for (const auto& [other_flag, other] : others) {
      if (!other.empty() && SameFile(path, other)) {
        throw UsageError(flag + " '" + path + "' is the same file as " + other_flag + " '" + other +
                         "': it would be destroyed; write somewhere else");
      }
    }
    std::error_code ec;
    if (!force && std::filesystem::exists(path, ec)) {
      throw UsageError(flag + " '" + path + "' exists; pass --force to replace it");
    }
  }
}

void LogWritten(const std::string& path, const data::Dataset& dataset) {
  RECSYS_INFO("wrote " << path << ": " << dataset.products.size() << " products, "
                       << dataset.queries.size() << " queries, " << dataset.pairs.size()
                       << " judged pairs (details: recsys_data inspect " << path << ")");
}

int Generate(const std::vector<std::string>& args, dist::MpiRuntime& mpi) {
  data::GeneratorOptions g;
  std::string out, format = "h5", catalog_out;
  bool force = false;
  po::options_description options("generate options");
  // clang-format off
  options.add_options()
      ("out,o", po::value(&out)->required(),
       "output path: dataset.h5 (--format h5) or the judged CSV (--format judged-csv)")
      ("format", po::value(&format)->default_value(format),
       "h5: a dataset.h5 of the ESCI-like regime; judged-csv: the real-like regime as the files "
       "a real judgment set comes in: a titles-only judged CSV (query_id, query, product_id, "
       "product_title, relevance = mean of simulated raters' 1..3 scores), to convert with "
       "'convert --format judgments' (see launch/make_real_like.sh)")
      ("catalog-out", po::value(&catalog_out),
       "judged-csv: also write every product (judged or not) to this catalogue CSV (product_id, "
       "product_title, brand, colour, category, price, rating), for 'convert --catalog'")
      ("products", po::value(&g.products)->default_value(g.products), "number of products")
      ("queries", po::value(&g.queries)->default_value(g.queries), "number of queries")
      ("judged-per-query", po::value(&g.judged_per_query)->default_value(g.judged_per_query),
       "judged products per query (the real-like regime: use about 6)")
      ("cold-fraction", po::value(&g.cold_fraction)->default_value(g.cold_fraction),
       "share of products never judged for a train or valid query (cold start)")
      ("paraphrase-share", po::value(&g.paraphrase_share)->default_value(g.paraphrase_share),
       "share of queries written only with words that no title of their product type holds "
       "(paraphrases of the type, colour synonyms): lexical matching misses them")
      ("seed", po::value(&g.seed)->default_value(g.seed), "random seed; same seed, same file")
      ("force", po::bool_switch(&force),
       "replace the output files when they exist (without it, an existing file is an error)");
  // clang-format on
  dist::CollectiveTimeouts timeouts;
  AddCollectiveTimeoutOption(options, &timeouts);
  po::variables_map vm;
  if (!Parse(args, options, {}, "Usage: recsys_data generate --out FILE [OPTIONS]",
             mpi.world_rank() == 0, &vm)) {
    return 0;
  }
  if (format != "h5" && format != "judged-csv") {
    throw UsageError("--format must be h5 or judged-csv, not '" + format + "'");
  }
  const bool csv = format == "judged-csv";
  if (!csv && !catalog_out.empty()) throw UsageError("--catalog-out needs --format judged-csv");
  if (csv) g.regime = data::Regime::kRealLike;
  try {
    data::CatalogGenerator check(g);  // every rank rejects bad options the same way
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  auto comm = dist::MakeCommunicator(dist::Backend::kMpi, MPI_COMM_WORLD, timeouts);
  // Rank 0 writes the files, so its view of the file system decides, on every rank.
  try {
    dist::CollectiveTry(*comm, [&] {
      if (comm->rank() == 0)
        CheckOutputs({{"--out", out}, {"--catalog-out", catalog_out}}, {}, force);
    });
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  if (comm->rank() == 0) {
    RECSYS_INFO("generating " << g.products << " products, " << g.queries << " queries on "
                              << comm->size() << " rank(s)" << (csv ? " (real-like regime)" : ""));
  }
  data::Dataset dataset = data::GenerateDistributed(g, *comm, /*root=*/0, /*show_progress=*/true);
  if (comm->rank() == 0) {
    if (csv) {
      data::WriteJudgedCsv(dataset, g.seed, out);
      RECSYS_INFO("wrote " << out << ": " << dataset.pairs.size() << " judged pairs of "
                           << dataset.queries.size() << " queries");
      if (!catalog_out.empty()) {
        data::WriteCatalogCsv(dataset, catalog_out);
        RECSYS_INFO("wrote " << catalog_out << ": " << dataset.products.size() << " products");
      }
    } else {
      data::WriteDataset(dataset, out);
      LogWritten(out, dataset);
    }
  }
  // Nobody returns before the file exists, so a script may read it as soon as mpirun returns.
  comm->Barrier();
  return 0;
}

int Convert(const std::vector<std::string>& args, dist::MpiRuntime& mpi) {
  std::string format, in, out, delimiter = "auto", label_map, catalog_delimiter = "auto";
  double label_threshold = 0;
  int64_t max_line_bytes = data::CsvReader::kDefaultMaxRecordBytes;
  bool force = false;
  data::JudgmentsOptions j;
  data::CatalogOptions& c = j.catalog;
  po::options_description options("convert options");
  // clang-format off
  options.add_options()
      ("format", po::value(&format)->required(), "input layout: esci | judgments")
      ("in,i", po::value(&in)->required(), "input CSV or TSV file (UTF-8, header row)")
      ("out,o", po::value(&out)->required(), "output dataset.h5 path")
      ("delimiter", po::value(&delimiter)->default_value(delimiter),
       "field delimiter: auto | comma | tab")
      ("max-line-bytes", po::value(&max_line_bytes)->default_value(max_line_bytes),
       "longest record of the input and the catalogue, in bytes (a line, or the lines of a quoted "
       "field with line breaks); a longer one is an error, so that a file without line breaks is "
       "refused after reading this much")
      ("force", po::bool_switch(&force),
       "replace the output file when it exists (without it, an existing file is an error; an "
       "output that is one of the inputs is always refused)")
      ("valid-fraction", po::value(&j.valid_fraction)->default_value(j.valid_fraction),
       "share of the train queries (by a stable hash of the query id) moved to the validation "
       "split when the file names no valid query (always so without --split-column)")
      ("test-fraction", po::value(&j.test_fraction)->default_value(j.test_fraction),
       "judgments: the same for the test split, when the file names no test query")
      ("query-column", po::value(&j.query_column)->default_value(j.query_column),
       "judgments: query text column")
      ("query-id-column", po::value(&j.query_id_column),
       "judgments: query id column (default: the query text identifies the query)")
      ("product-column", po::value(&j.product_id_column)->default_value(j.product_id_column),
       "judgments: product id column")
      ("title-column", po::value(&j.title_column)->default_value(j.title_column),
       "judgments: product title column")
      ("label-column", po::value(&j.label_column)->default_value(j.label_column),
       "judgments: relevance label column")
      ("label-map", po::value(&label_map),
       "judgments: how labels become grades 0 I (irrelevant), 1 C, 2 S, 3 E (exact); a grade is "
       "written 0..3 or I/C/S/E. Either text labels LABEL=GRADE, e.g. "
       "'Exact=3,Substitute=2,Complement=1,Irrelevant=0' or '0=0,1=0,2=2,3=3,4=3', or numeric "
       "ranges LO-HI=GRADE, e.g. '1-1.5=I,1.5-2=S,2-3=E': ranges are [LO, HI) but the highest "
       "is [LO, HI], may leave gaps, never overlap, and are not mixed with text labels; "
       "default: labels are the grades 0..3")
      ("label-threshold", po::value(&label_threshold),
       "judgments: numeric labels >= T are E (3), below T I (0); instead of --label-map")
      ("brand-column", po::value(&j.brand_column), "judgments: optional brand column")
      ("colour-column", po::value(&j.colour_column), "judgments: optional colour column")
      ("split-column", po::value(&j.split_column),
       "judgments: optional split column (train / valid / test)")
      ("catalog", po::value(&c.path),
       "CSV/TSV of products joined to the judgments by product id: every row becomes a product "
       "(judged or not), judged products keep the catalogue's fields, judged products absent "
       "from it keep the judged file's")
      ("catalog-delimiter", po::value(&catalog_delimiter)->default_value(catalog_delimiter),
       "the catalogue's field delimiter: auto | comma | tab")
      ("catalog-product-column", po::value(&c.product_id_column),
       "the catalogue's product id column (default: as --product-column; esci: product_id)")
      ("catalog-title-column", po::value(&c.title_column),
       "the catalogue's title column (default: as --title-column; esci: product_title)")
      ("catalog-brand-column", po::value(&c.brand_column),
       "the catalogue's optional brand column")
      ("catalog-colour-column", po::value(&c.colour_column),
       "the catalogue's optional colour column")
      ("catalog-category-column", po::value(&c.category_column),
       "the catalogue's optional category column (a name or a path 'A > B > C')")
      ("catalog-price-column", po::value(&c.price_column),
       "the catalogue's optional price column (a number >= 0, US dollars)")
      ("catalog-rating-column", po::value(&c.rating_column),
       "the catalogue's optional rating column (mean stars, a number in [1, 5])");
  // clang-format on
  po::variables_map vm;
  if (!Parse(args, options, {},
             "Usage: recsys_data convert --format esci|judgments --in FILE --out FILE "
             "[OPTIONS]",
             mpi.world_rank() == 0, &vm)) {
    return 0;
  }
  if (format != "esci" && format != "judgments") {
    throw UsageError("--format must be esci or judgments, not '" + format + "'");
  }
  if (vm.count("label-map") && vm.count("label-threshold")) {
    throw UsageError("give --label-map or --label-threshold, not both");
  }
  // Conversion is a single pass over one file: one rank does it.
  if (mpi.world_size() > 1)
    throw UsageError("convert runs on one process; start it without mpirun");
  if (max_line_bytes <= 0) throw UsageError("--max-line-bytes must be > 0");
  CheckOutputs({{"--out", out}}, {{"--in", in}, {"--catalog", c.path}}, force);
  const char delim = data::ParseDelimiter(delimiter);
  c.delimiter = data::ParseDelimiter(catalog_delimiter);
  c.max_record_bytes = j.max_record_bytes = max_line_bytes;
  data::Dataset dataset;
  if (format == "esci") {
    data::EsciOptions e;
    e.path = in;
    e.delimiter = delim;
    e.max_record_bytes = max_line_bytes;
    e.valid_fraction = j.valid_fraction;
    e.catalog = c;
    dataset = data::LoadEsci(e);
  } else {
    j.path = in;
    j.delimiter = delim;
    if (vm.count("label-map")) j.labels = data::LabelMap::Parse(label_map);
    if (vm.count("label-threshold")) j.labels = data::LabelMap::Threshold(label_threshold);
    dataset = data::LoadJudgments(j);
  }
  data::WriteDataset(dataset, out);
  LogWritten(out, dataset);
  return 0;
}

int Inspect(const std::vector<std::string>& args, dist::MpiRuntime& mpi) {
  std::string path;
  po::options_description options("inspect options");
  // clang-format off
  options.add_options()
      ("file", po::value(&path)->required(), "dataset.h5 to describe");
  // clang-format on
  po::positional_options_description positional;
  positional.add("file", 1);
  po::variables_map vm;
  if (!Parse(args, options, positional, "Usage: recsys_data inspect FILE", mpi.world_rank() == 0,
             &vm)) {
    return 0;
  }
  if (mpi.world_rank() != 0) return 0;
  std::cout << path << "\n";
  data::PrintSummary(data::ReadDataset(path), std::cout);
  return 0;
}

int Run(int argc, char** argv, dist::MpiRuntime& mpi) {
  std::string command = argc > 1 ? argv[1] : "";
  std::vector<std::string> args(argv + std::min(argc, 2), argv + argc);
  if (command == "generate") return Generate(args, mpi);
  if (command == "convert") return Convert(args, mpi);
  if (command == "inspect") return Inspect(args, mpi);
  if (command == "--help" || command == "-h" || command == "help") {
    if (mpi.world_rank() == 0) std::cout << kUsage;
    return 0;
  }
  if (mpi.world_rank() == 0) std::cerr << kUsage;
  throw UsageError(command.empty() ? "no command given" : "unknown command '" + command + "'");
}

}  // namespace
}  // namespace recsys::launch

int main(int argc, char** argv) {
  return recsys::launch::RunMain("recsys_data", argc, argv, [&](recsys::dist::MpiRuntime& mpi) {
    return recsys::launch::Run(argc, argv, mpi);
  });
}
