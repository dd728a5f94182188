#include "data/distributed_generate.h"

#include <algorithm>

#include "core/progress.h"

namespace recsys::data {
namespace {

// [begin, end) of rank's contiguous share of n rows.
std::pair<int64_t, int64_t> SliceOf(int64_t n, int rank, int size) {
  return {n * rank / size, n * (rank + 1) / size};
}

// Gathers a column whose type has no MPI element type (enums, int16) through a wider Wire type.
template <typename Wire, typename T>
std::vector<T> GatherConverted(dist::Communicator& comm, const std::vector<T>& local, int root) {
  std::vector<Wire> wire(local.size());
  std::transform(local.begin(), local.end(), wire.begin(), [](T v) { return Wire(v); });
  std::vector<Wire> all = dist::GatherV(comm, wire, root);
  std::vector<T> out(all.size());
  std::transform(all.begin(), all.end(), out.begin(), [](Wire w) { return T(w); });
  return out;
}

}  // namespace

Dataset GenerateDistributed(const GeneratorOptions& options, dist::Communicator& comm, int root,
                            bool show_progress) {
  CatalogGenerator generator(options);
  const int rank = comm.rank(), size = comm.size();
  const bool report = show_progress && rank == root;

  // Generate this rank's slices in chunks so that progress can be shown on long runs. Root's
  // progress stands for everyone's: all slices are the same size to within one row.
  constexpr int64_t kChunk = 1 << 16;
  auto [p_begin, p_end] = SliceOf(options.products, rank, size);
  Products products;
  {
    Progress progress("generate products", options.products, "products", report);
    for (int64_t b = p_begin; b < p_end; b += kChunk) {
      products.Append(generator.MakeProducts(b, std::min(b + kChunk, p_end)));
      progress.Update((std::min(b + kChunk, p_end) - p_begin) * size);
    }
    progress.Update(options.products);
  }
  auto [q_begin, q_end] = SliceOf(options.queries, rank, size);
  Queries queries;
  Judgments pairs;
  {
    Progress progress("generate queries", options.queries, "queries", report);
    for (int64_t b = q_begin; b < q_end; b += kChunk) {
      Queries chunk_queries;
      Judgments chunk_pairs;
      generator.MakeQueries(b, std::min(b + kChunk, q_end), &chunk_queries, &chunk_pairs);
      queries.Append(chunk_queries);
      // Row indices are global already, so no offsets.
      pairs.Append(chunk_pairs, 0, 0);
      progress.Update((std::min(b + kChunk, q_end) - q_begin) * size);
    }
    progress.Update(options.queries);
  }

  // Gather column by column, in the same order on every rank (each call is collective).
  Dataset out;
  out.products.id = dist::GatherStrings(comm, products.id, root);
  out.products.title = dist::GatherStrings(comm, products.title, root);
  out.products.brand = dist::GatherV(comm, products.brand, root);
  out.products.colour = dist::GatherV(comm, products.colour, root);
  out.products.category = dist::GatherV(comm, products.category, root);
  out.products.price = dist::GatherV(comm, products.price, root);
  out.products.rating = dist::GatherV(comm, products.rating, root);
  out.products.release_day = dist::GatherV(comm, products.release_day, root);
  out.queries.id = dist::GatherStrings(comm, queries.id, root);
  out.queries.text = dist::GatherStrings(comm, queries.text, root);
  out.queries.split = GatherConverted<uint8_t>(comm, queries.split, root);
  out.pairs.query = dist::GatherV(comm, pairs.query, root);
  out.pairs.product = dist::GatherV(comm, pairs.product, root);
  out.pairs.grade = GatherConverted<uint8_t>(comm, pairs.grade, root);
  out.pairs.click = dist::GatherV(comm, pairs.click, root);
  out.pairs.position = GatherConverted<int32_t>(comm, pairs.position, root);
  if (rank != root) return Dataset{};

  generator.FillVocabularies(&out);
  out.source = "synthetic seed=" + std::to_string(options.seed) +
               " products=" + std::to_string(options.products) +
               " queries=" + std::to_string(options.queries) +
               " judged_per_query=" + std::to_string(options.judged_per_query) +
               " cold_fraction=" + std::to_string(options.cold_fraction);
  return out;
}

}  // namespace recsys::data
