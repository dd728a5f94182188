#include "dist/data_parallel.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <numeric>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/row_order.h"

namespace recsys::dist {
namespace {

// The MPI backend reads host memory, NCCL device memory: a tensor elsewhere would be read as
// garbage (or crash), so refuse it with a message.
void CheckDevice(const torch::Tensor& t, const Communicator& comm, const char* what) {
  const bool device_backend = comm.backend() == "nccl";
  RECSYS_CHECK(device_backend ? t.is_cuda() : t.is_cpu(),
               what << " is on " << t.device() << " but the " << comm.backend()
                    << " communicator needs " << (device_backend ? "CUDA" : "CPU") << " tensors");
}

// Sums buffer over ranks in place (a fused bucket or a single tensor).
void AllReduceTensor(torch::Tensor& buffer, Communicator& comm) {
  comm.AllReduce(buffer.data_ptr(), buffer.numel(), DataTypeFor(buffer.scalar_type()),
                 ReduceOp::kSum);
}

class AllGatherRowsFunction : public torch::autograd::Function<AllGatherRowsFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& local,
                               const std::vector<int64_t>& counts, Communicator* comm) {
    const int rank = comm->rank();
    RECSYS_CHECK(static_cast<int>(counts.size()) == comm->size(),
                 "AllGatherRows: " << counts.size() << " counts for " << comm->size() << " ranks");
    RECSYS_CHECK(local.dim() >= 1 && local.size(0) == counts[rank],
                 "AllGatherRows: rank " << rank << " has " << (local.dim() ? local.size(0) : 0)
                                        << " rows, counts say " << counts[rank]);
    CheckDevice(local, *comm, "AllGatherRows input");
    torch::Tensor send = local.contiguous();
    int64_t row_size = 1;
    for (int64_t d = 1; d < local.dim(); ++d) row_size *= local.size(d);
    int64_t total = 0, offset = 0;
    std::vector<int64_t> elements(counts.size());
    for (size_t r = 0; r < counts.size(); ++r) {
      if (static_cast<int>(r) == rank) offset = total;
      elements[r] = counts[r] * row_size;
      total += counts[r];
    }
    std::vector<int64_t> shape = local.sizes().vec();
    shape[0] = total;
    torch::Tensor out = torch::empty(shape, local.options());
    comm->AllGatherV(send.data_ptr(), send.numel(), out.data_ptr(), elements,
                     DataTypeFor(local.scalar_type()));
    ctx->saved_data["offset"] = offset;
    ctx->saved_data["rows"] = counts[rank];
    ctx->saved_data["comm"] = static_cast<int64_t>(reinterpret_cast<intptr_t>(comm));
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* comm =
        reinterpret_cast<Communicator*>(static_cast<intptr_t>(ctx->saved_data["comm"].toInt()));
    torch::Tensor grad = grads[0].contiguous().clone();
    AllReduceTensor(grad, *comm);
    const int64_t offset = ctx->saved_data["offset"].toInt();
    const int64_t rows = ctx->saved_data["rows"].toInt();
    return {grad.narrow(0, offset, rows), torch::Tensor(), torch::Tensor()};
  }
};

// A gradient's rows in pieces: indices [n] (int64) and, for each run of them, that run's values
// ([run length, cols]; runs[k] is where run k starts in indices). One run: any rows, in any
// order (a rank's own gradient). Several: the rows received from the ranks, each run sorted and
// distinct, in rank order, which need not be copied into one tensor before they are summed.
struct RowRuns {
  torch::Tensor indices;
  std::vector<int64_t> runs;
  std::vector<torch::Tensor> values;
};

// Sums the rows that share an index into a coalesced sparse tensor shaped like table.
// LibTorch 1.13's CPU coalesce costs tens of milliseconds for the 20K rows of one batch (it works
// row by row through tensor operations), as much as the whole forward and backward pass: on the
// CPU SortedRowEntries and one pass over raw rows do it instead. Equal indices are summed in the
// order they come (for rows received from several ranks: rank order), so every rank that sums the
// same rows gets the same result.
template <typename T>
torch::Tensor CoalesceRowsCpu(const RowRuns& in, const torch::Tensor& table) {
  const int64_t n = in.indices.numel(), cols = table.size(1);
  const std::vector<uint64_t> order =
      SortedRowEntries(in.indices.data_ptr<int64_t>(), n, table.size(0),
                       in.runs.size() > 1 ? in.runs : std::vector<int64_t>());
  auto row_of = [&](int64_t i) { return RowOf(order[i]); };
  auto position_of = [&](int64_t i) { return PositionOf(order[i]); };
  int64_t unique = 0;
  bool identity = true;  // already coalesced: no row to sum, none out of place
  for (int64_t i = 0; i < n; ++i) {
    unique += i == 0 || row_of(i) != row_of(i - 1);
    identity = identity && position_of(i) == i;
  }
  std::vector<const T*> run_values;  // where position p's row is: run_values[k] + p * cols
  for (size_t k = 0; k < in.runs.size(); ++k) {
    RECSYS_CHECK(in.values[k].is_contiguous() && in.values[k].scalar_type() == table.scalar_type(),
                 "CoalesceRows: run " << k << " is not a contiguous " << table.scalar_type());
    run_values.push_back(in.values[k].data_ptr<T>() - in.runs[k] * cols);
  }
  if (identity && unique == n) {
    const torch::Tensor values = in.values.size() == 1 ? in.values[0] : torch::cat(in.values);
    return torch::sparse_coo_tensor(in.indices.reshape({1, n}), values, table.sizes())
        ._coalesced_(true);
  }
  auto source = [&](int64_t position) {
    const auto k =
        std::upper_bound(in.runs.begin() + 1, in.runs.end(), position) - (in.runs.begin() + 1);
    return run_values[k] + position * cols;
  };
  torch::Tensor out_index = torch::empty({1, unique}, in.indices.options());
  torch::Tensor out_values = torch::empty({unique, cols}, table.options());
  int64_t* oi = out_index.data_ptr<int64_t>();
  T* ov = out_values.data_ptr<T>() - cols;
  constexpr int64_t kAhead = 4;  // rows fetched ahead: the input rows are read out of order
  int64_t row = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (i + kAhead < n) __builtin_prefetch(source(position_of(i + kAhead)));
    const T* src = source(position_of(i));
    if (i == 0 || row_of(i) != row_of(i - 1)) {
      oi[++row] = row_of(i);
      ov += cols;
      std::copy(src, src + cols, ov);
    } else {
      for (int64_t c = 0; c < cols; ++c) ov[c] += src[c];
    }
  }
  return torch::sparse_coo_tensor(out_index, out_values, table.sizes())._coalesced_(true);
}

torch::Tensor CoalesceRows(const RowRuns& in, const torch::Tensor& table) {
  if (!table.is_cpu()) {
    return torch::sparse_coo_tensor(in.indices.unsqueeze(0), torch::cat(in.values), table.sizes())
        .coalesce();
  }
  if (table.scalar_type() == torch::kFloat64) return CoalesceRowsCpu<double>(in, table);
  RECSYS_CHECK(table.scalar_type() == torch::kFloat32,
               "sparse gradients must be float32 or float64, not " << table.scalar_type());
  return CoalesceRowsCpu<float>(in, table);
}

// Copies a [n, cols] block into table rows. LibTorch 1.13's CPU index_copy_ goes row by row
// through tensor operations; on the CPU a memcpy per row does it, with the table rows (scattered
// over tens of megabytes: cache misses) fetched a few rows ahead, every cache line of them.
constexpr int64_t kRowsAhead = 4;

void ScatterRows(const torch::Tensor& table, const torch::Tensor& rows,
                 const torch::Tensor& values) {
  torch::NoGradGuard no_grad;
  torch::Tensor target = table;  // a handle; the rows are written in place
  if (!table.is_cpu()) {
    target.index_copy_(0, rows, values);
    return;
  }
  RECSYS_CHECK(table.is_contiguous() && values.is_contiguous(),
               "ScatterRows needs contiguous tensors");
  const int64_t n = rows.numel(), row_bytes = table.size(1) * table.element_size();
  const int64_t* row = rows.data_ptr<int64_t>();
  const auto* from = static_cast<const char*>(values.data_ptr());
  auto* to = static_cast<char*>(target.data_ptr());
  for (int64_t i = 0; i < n; ++i) {
    if (i + kRowsAhead < n) {
      const char* ahead = to + row[i + kRowsAhead] * row_bytes;
      for (int64_t b = 0; b < row_bytes; b += 64) __builtin_prefetch(ahead + b, 1);
    }
    std::memcpy(to + row[i] * row_bytes, from + i * row_bytes, row_bytes);
  }
}

// Row blocks travel as bytes: a block of n rows of a table is its indices (int64) then its values
// ([n, cols] of the table's dtype), each padded to 8 bytes so that it can be viewed in place as
// its dtype again once received.
int64_t Padded(int64_t bytes) { return (bytes + 7) / 8 * 8; }

int64_t RowBlockBytes(const torch::Tensor& table, int64_t n) {
  return Padded(n * 8) + Padded(n * table.size(1) * table.element_size());
}

void AppendRowBlock(const torch::Tensor& indices, const torch::Tensor& values,
                    std::vector<torch::Tensor>* pieces) {
  for (const torch::Tensor& part : {indices, values}) {
    const torch::Tensor bytes = part.contiguous().reshape({-1}).view(torch::kUInt8);
    pieces->push_back(bytes);
    const int64_t pad = Padded(bytes.numel()) - bytes.numel();
    if (pad > 0) pieces->push_back(torch::zeros({pad}, bytes.options()));
  }
}

// The block of n rows of table at *offset in blob: views, no copy, to read a block received or
// to write one in place; advances *offset past it.
std::pair<torch::Tensor, torch::Tensor> RowBlockAt(const torch::Tensor& blob,
                                                   const torch::Tensor& table, int64_t n,
                                                   int64_t* offset) {
  torch::Tensor indices = blob.narrow(0, *offset, n * 8).view(torch::kInt64);
  *offset += Padded(n * 8);
  const int64_t value_bytes = n * table.size(1) * table.element_size();
  torch::Tensor values =
      blob.narrow(0, *offset, value_bytes).view(table.scalar_type()).view({n, table.size(1)});
  *offset += Padded(value_bytes);
  return {indices, values};
}

// Row counts travel through the communicator too, so they live where its buffers live.
std::vector<int64_t> ExchangeRowCounts(const std::vector<int64_t>& send, bool all_to_all,
                                       const torch::Device& device, Communicator& comm) {
  const int world = comm.size();
  const int64_t per_rank =
      all_to_all ? static_cast<int64_t>(send.size()) / world : static_cast<int64_t>(send.size());
  const torch::Tensor out = torch::tensor(send, torch::kInt64).to(device);
  torch::Tensor in = torch::empty({world * per_rank}, out.options());
  const std::vector<int64_t> counts(world, per_rank);
  if (all_to_all) {
    comm.AllToAllV(out.data_ptr(), counts, in.data_ptr(), counts, DataType::kInt64);
  } else {
    comm.AllGatherV(out.data_ptr(), per_rank, in.data_ptr(), counts, DataType::kInt64);
  }
  const torch::Tensor host = in.cpu();
  return std::vector<int64_t>(host.data_ptr<int64_t>(), host.data_ptr<int64_t>() + host.numel());
}

void CheckTables(const std::vector<torch::Tensor>& tables, const Communicator& comm,
                 const char* op) {
  for (size_t t = 0; t < tables.size(); ++t) {
    RECSYS_CHECK(tables[t].dim() == 2,
                 op << ": table " << t << " is not 2-D but " << tables[t].sizes());
    CheckDevice(tables[t], comm, "a sparse table");
  }
}

}  // namespace

DataType DataTypeFor(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32:
      return DataType::kFloat32;
    case torch::kFloat64:
      return DataType::kFloat64;
    case torch::kInt32:
      return DataType::kInt32;
    case torch::kInt64:
      return DataType::kInt64;
    case torch::kUInt8:
      return DataType::kUInt8;
    default:
      RECSYS_THROW("no communicator type for tensor dtype " << type);
  }
}

void BroadcastModule(torch::nn::Module& module, Communicator& comm, int root) {
  std::vector<torch::Tensor> tensors;
  for (const torch::Tensor& p : module.parameters()) tensors.push_back(p);
  for (const torch::Tensor& b : module.buffers()) tensors.push_back(b);
  torch::NoGradGuard no_grad;
  // One flat buffer per dtype: a model has tens of tensors, a message each would cost latency.
  std::map<torch::ScalarType, std::vector<torch::Tensor>> by_type;
  for (const torch::Tensor& t : tensors) {
    CheckDevice(t, comm, "a module tensor");
    by_type[t.scalar_type()].push_back(t);
  }
  for (auto& [type, group] : by_type) {
    std::vector<torch::Tensor> flat;
    for (const torch::Tensor& t : group) flat.push_back(t.reshape({-1}));
    torch::Tensor buffer = torch::cat(flat);
    comm.Broadcast(buffer.data_ptr(), buffer.numel(), DataTypeFor(type), root);
    int64_t offset = 0;
    for (torch::Tensor t : group) {
      t.copy_(buffer.narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }
}

void AllReduceSum(const std::vector<torch::Tensor>& tensors, Communicator& comm,
                  int64_t bucket_bytes) {
  RECSYS_CHECK(bucket_bytes > 0, "bucket_bytes=" << bucket_bytes);
  // Pending buckets by dtype, flushed when full and at the end, in a fixed order on every rank.
  std::map<torch::ScalarType, std::vector<torch::Tensor>> pending;
  std::map<torch::ScalarType, int64_t> pending_bytes;
  auto flush = [&](torch::ScalarType type) {
    std::vector<torch::Tensor>& group = pending[type];
    if (group.empty()) return;
    if (group.size() == 1) {
      AllReduceTensor(group[0], comm);
    } else {
      std::vector<torch::Tensor> flat;
      for (const torch::Tensor& t : group) flat.push_back(t.view({-1}));
      torch::Tensor bucket = torch::cat(flat);
      AllReduceTensor(bucket, comm);
      int64_t offset = 0;
      for (torch::Tensor t : group) {
        t.view({-1}).copy_(bucket.narrow(0, offset, t.numel()));
        offset += t.numel();
      }
    }
    group.clear();
    pending_bytes[type] = 0;
  };
  for (const torch::Tensor& t : tensors) {
    RECSYS_CHECK(t.is_contiguous(), "AllReduceSum needs contiguous tensors");
    CheckDevice(t, comm, "a gradient");
    const int64_t bytes = t.numel() * static_cast<int64_t>(t.element_size());
    if (pending_bytes[t.scalar_type()] + bytes > bucket_bytes) flush(t.scalar_type());
    pending[t.scalar_type()].push_back(t);
    pending_bytes[t.scalar_type()] += bytes;
  }
  for (auto& entry : pending) flush(entry.first);
}

Slice OwnedRows(int64_t rows, int rank, int world) {
  RECSYS_CHECK(rows >= 0 && world >= 1 && rank >= 0 && rank < world,
               "OwnedRows: rows=" << rows << " rank=" << rank << " world=" << world);
  const int64_t block = (rows + world - 1) / world;
  return {std::min(rows, rank * block), std::min(rows, (rank + 1) * block)};
}

std::vector<torch::Tensor> ReduceScatterSparseRows(const std::vector<torch::Tensor>& local,
                                                   const std::vector<torch::Tensor>& tables,
                                                   Communicator& comm) {
  constexpr const char* kOp = "ReduceScatterSparseRows";
  RECSYS_CHECK(local.size() == tables.size(),
               kOp << ": " << local.size() << " gradients for " << tables.size() << " tables");
  CheckTables(tables, comm, kOp);
  const auto num_tables = static_cast<int64_t>(tables.size());
  if (num_tables == 0) return {};
  const int world = comm.size();

  // 1. This rank's touched rows of each table, merged. They come out sorted, so the rows of each
  //    owner are one run: first[t][d] is where destination d's run starts.
  std::vector<torch::Tensor> indices(num_tables), values(num_tables);
  std::vector<std::vector<int64_t>> first(num_tables, std::vector<int64_t>(world + 1));
  std::vector<int64_t> send_rows(world * num_tables);  // [destination][table]
  for (int64_t t = 0; t < num_tables; ++t) {
    const torch::Tensor& table = tables[t];
    indices[t] = torch::empty({0}, table.options().dtype(torch::kInt64));
    values[t] = torch::empty({0, table.size(1)}, table.options());
    if (local[t].defined()) {
      RECSYS_CHECK(
          local[t].is_sparse() && local[t].sparse_dim() == 1 && local[t].sizes() == table.sizes(),
          kOp << ": gradient " << t << " is not a row-sparse gradient of " << table.sizes());
      const RowRuns rows{local[t]._indices().reshape({-1}).contiguous(),
                         {0},
                         {local[t]._values().to(table.scalar_type()).contiguous()}};
      const torch::Tensor merged = CoalesceRows(rows, table);
      indices[t] = merged._indices().reshape({-1}).contiguous();
      values[t] = merged._values().contiguous();
    }
    const torch::Tensor host = indices[t].cpu();
    const int64_t* begin = host.data_ptr<int64_t>();
    const int64_t* end = begin + host.numel();
    for (int d = 0; d < world; ++d) {
      first[t][d] = std::lower_bound(begin, end, OwnedRows(table.size(0), d, world).begin) - begin;
    }
    first[t][world] = host.numel();
    for (int d = 0; d < world; ++d) send_rows[d * num_tables + t] = first[t][d + 1] - first[t][d];
  }

  // 2. How many rows of each table every rank sends this one.
  const std::vector<int64_t> recv_rows =
      ExchangeRowCounts(send_rows, /*all_to_all=*/true, tables[0].device(), comm);

  // 3. Every owner's rows, in one all-to-all; this rank's own rows stay where they are.
  const int rank = comm.rank();
  std::vector<torch::Tensor> pieces;
  std::vector<int64_t> send_bytes(world, 0), recv_bytes(world, 0);
  for (int d = 0; d < world; ++d) {
    if (d == rank) continue;
    for (int64_t t = 0; t < num_tables; ++t) {
      const int64_t n = send_rows[d * num_tables + t];
      AppendRowBlock(indices[t].narrow(0, first[t][d], n), values[t].narrow(0, first[t][d], n),
                     &pieces);
      send_bytes[d] += RowBlockBytes(tables[t], n);
      recv_bytes[d] += RowBlockBytes(tables[t], recv_rows[d * num_tables + t]);
    }
  }
  const torch::TensorOptions bytes = tables[0].options().dtype(torch::kUInt8);
  const torch::Tensor send = pieces.empty() ? torch::empty({0}, bytes) : torch::cat(pieces);
  torch::Tensor received =
      torch::empty({std::accumulate(recv_bytes.begin(), recv_bytes.end(), int64_t{0})}, bytes);
  comm.AllToAllV(send.data_ptr(), send_bytes, received.data_ptr(), recv_bytes, DataType::kUInt8);

  // 4. Sum the rows that several ranks sent, in rank order, straight from where they arrived.
  std::vector<RowRuns> owned(num_tables);
  std::vector<std::vector<torch::Tensor>> owned_indices(num_tables);
  std::vector<int64_t> owned_rows(num_tables, 0);
  int64_t offset = 0;
  for (int s = 0; s < world; ++s) {
    for (int64_t t = 0; t < num_tables; ++t) {
      const int64_t n = recv_rows[s * num_tables + t];
      auto [i, v] = s == rank ? std::pair(indices[t].narrow(0, first[t][rank], n),
                                          values[t].narrow(0, first[t][rank], n))
                              : RowBlockAt(received, tables[t], n, &offset);
      owned[t].runs.push_back(owned_rows[t]);
      owned_rows[t] += n;
      owned_indices[t].push_back(i);
      owned[t].values.push_back(v);
    }
  }
  std::vector<torch::Tensor> out;
  for (int64_t t = 0; t < num_tables; ++t) {
    owned[t].indices = torch::cat(owned_indices[t]);
    out.push_back(CoalesceRows(owned[t], tables[t]));
  }
  return out;
}

UpdatedRowsShare::UpdatedRowsShare(const std::vector<torch::Tensor>& updated,
                                   const std::vector<torch::Tensor>& tables, Communicator& comm)
    : tables_(tables), comm_(comm) {
  constexpr const char* kOp = "UpdatedRowsShare";
  RECSYS_CHECK(updated.size() == tables.size(),
               kOp << ": " << updated.size() << " row lists for " << tables.size() << " tables");
  CheckTables(tables, comm, kOp);
  const auto num_tables = static_cast<int64_t>(tables.size());
  const int world = comm.size();
  values_.resize(num_tables);
  if (num_tables == 0 || world == 1) return;

  std::vector<int64_t> my_rows(num_tables);
  for (int64_t t = 0; t < num_tables; ++t) {
    RECSYS_CHECK(updated[t].dim() == 1 && updated[t].scalar_type() == torch::kInt64,
                 kOp << ": rows of table " << t << " must be a 1-D int64 tensor");
    my_rows[t] = updated[t].numel();
  }
  rows_ = ExchangeRowCounts(my_rows, /*all_to_all=*/false, tables[0].device(), comm);
  bytes_.assign(world, 0);
  for (int r = 0; r < world; ++r) {
    for (int64_t t = 0; t < num_tables; ++t) {
      bytes_[r] += RowBlockBytes(tables[t], rows_[r * num_tables + t]);
    }
  }
  message_ = torch::empty({std::accumulate(bytes_.begin(), bytes_.end(), int64_t{0})},
                          tables[0].options().dtype(torch::kUInt8));
  // This rank's block is written at its place in the all-gather's buffer.
  int64_t offset = std::accumulate(bytes_.begin(), bytes_.begin() + comm.rank(), int64_t{0});
  for (int64_t t = 0; t < num_tables; ++t) {
    auto [i, v] = RowBlockAt(message_, tables[t], my_rows[t], &offset);
    i.copy_(updated[t]);
    values_[t] = v;
  }
}

void UpdatedRowsShare::Finish() {
  const auto num_tables = static_cast<int64_t>(tables_.size());
  const int world = comm_.size(), rank = comm_.rank();
  if (num_tables == 0 || world == 1) return;
  comm_.AllGatherVInPlace(message_.data_ptr(), bytes_, DataType::kUInt8);
  int64_t offset = 0;
  for (int r = 0; r < world; ++r) {
    for (int64_t t = 0; t < num_tables; ++t) {
      auto [i, v] = RowBlockAt(message_, tables_[t], rows_[r * num_tables + t], &offset);
      if (r != rank) ScatterRows(tables_[t], i, v);
    }
  }
}

void GatherOwnedRows(const std::vector<torch::Tensor>& tables, Communicator& comm) {
  CheckTables(tables, comm, "GatherOwnedRows");
  const int world = comm.size();
  if (world == 1) return;
  for (const torch::Tensor& table : tables) {
    RECSYS_CHECK(table.is_contiguous(), "GatherOwnedRows needs contiguous tables");
    // In place: the blocks follow each other in rank order, so with rank 0 contributing nothing,
    // the others' blocks land, in order, right after rank 0's own block of its table. (A gather
    // into a fresh copy of a 64 MiB table cost most of a checkpoint here, in page faults.)
    std::vector<int64_t> counts(world, 0);
    for (int r = 1; r < world; ++r)
      counts[r] = OwnedRows(table.size(0), r, world).size() * table.size(1);
    const Slice mine = OwnedRows(table.size(0), comm.rank(), world);
    const int64_t row_elements = table.size(1);
    auto* base = static_cast<char*>(table.data_ptr());
    const int64_t element = table.element_size();
    if (comm.rank() == 0) {
      comm.GatherV(nullptr, 0, base + mine.end * row_elements * element, counts,
                   DataTypeFor(table.scalar_type()), /*root=*/0);
    } else {
      comm.GatherV(base + mine.begin * row_elements * element, mine.size() * row_elements, nullptr,
                   {}, DataTypeFor(table.scalar_type()), /*root=*/0);
    }
  }
}

torch::Tensor AllGatherRows(const torch::Tensor& local, const std::vector<int64_t>& counts,
                            Communicator& comm) {
  return AllGatherRowsFunction::apply(local, counts, &comm);
}

}  // namespace recsys::dist
