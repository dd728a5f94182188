#include "dist/data_parallel.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <string>

#include "core/error.h"

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

// Sums the rows of values [n, cols] that share an index (indices [n]) into a coalesced sparse
// tensor shaped like table. LibTorch 1.13's CPU coalesce costs tens of milliseconds for the
// 20K rows of one batch (it works row by row through tensor operations), as much as the whole
// forward and backward pass: on the CPU a stable sort and one pass over raw rows do it instead.
// Equal indices are summed in the order they come (rank order), the same on every rank.
template <typename T>
torch::Tensor CoalesceRowsCpu(const torch::Tensor& indices, const torch::Tensor& values,
                              const torch::Tensor& table) {
  const int64_t n = indices.numel(), cols = values.size(1);
  const int64_t* index = indices.data_ptr<int64_t>();
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [index](int64_t a, int64_t b) { return index[a] < index[b]; });
  int64_t unique = 0;
  for (int64_t i = 0; i < n; ++i) unique += i == 0 || index[order[i]] != index[order[i - 1]];
  torch::Tensor out_index = torch::empty({1, unique}, indices.options());
  torch::Tensor out_values = torch::zeros({unique, cols}, values.options());
  int64_t* oi = out_index.data_ptr<int64_t>();
  T* ov = out_values.data_ptr<T>() - cols;
  const T* v = values.data_ptr<T>();
  int64_t row = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (i == 0 || index[order[i]] != index[order[i - 1]]) {
      oi[++row] = index[order[i]];
      ov += cols;
    }
    const T* src = v + order[i] * cols;
    for (int64_t c = 0; c < cols; ++c) ov[c] += src[c];
  }
  return torch::sparse_coo_tensor(out_index, out_values, table.sizes())._coalesced_(true);
}

torch::Tensor CoalesceRows(const torch::Tensor& indices, const torch::Tensor& values,
                           const torch::Tensor& table) {
  if (!table.is_cpu()) {
    return torch::sparse_coo_tensor(indices.unsqueeze(0), values, table.sizes()).coalesce();
  }
  const torch::Tensor v = values.contiguous();
  if (v.scalar_type() == torch::kFloat64) return CoalesceRowsCpu<double>(indices, v, table);
  RECSYS_CHECK(v.scalar_type() == torch::kFloat32,
               "sparse gradients must be float32 or float64, not " << v.scalar_type());
  return CoalesceRowsCpu<float>(indices, v, table);
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

std::vector<torch::Tensor> AllReduceSparseRows(const std::vector<torch::Tensor>& local,
                                               const std::vector<torch::Tensor>& tables,
                                               Communicator& comm) {
  RECSYS_CHECK(
      local.size() == tables.size(),
      "AllReduceSparseRows: " << local.size() << " gradients for " << tables.size() << " tables");
  const auto num_tables = static_cast<int64_t>(tables.size());
  if (num_tables == 0) return {};
  const torch::TensorOptions bytes_options = tables[0].options().dtype(torch::kUInt8);
  // Blocks are padded to 8 bytes so that each can be viewed in place as int64 or float again.
  auto padded = [](int64_t bytes) { return (bytes + 7) / 8 * 8; };
  auto block_bytes = [&](int64_t t, int64_t rows) {
    return padded(rows * 8) + padded(rows * tables[t].size(1) * tables[t].element_size());
  };

  // 1. This rank's coalesced rows, packed: per table, indices then values.
  std::vector<int64_t> my_rows(num_tables);
  std::vector<torch::Tensor> pieces;
  for (int64_t t = 0; t < num_tables; ++t) {
    const torch::Tensor& table = tables[t];
    RECSYS_CHECK(table.dim() == 2,
                 "AllReduceSparseRows: table " << t << " is not 2-D but " << table.sizes());
    CheckDevice(table, comm, "a sparse table");
    torch::Tensor indices = torch::empty({0}, table.options().dtype(torch::kInt64));
    torch::Tensor values = torch::empty({0, table.size(1)}, table.options());
    if (local[t].defined()) {
      RECSYS_CHECK(
          local[t].is_sparse() && local[t].sparse_dim() == 1 && local[t].sizes() == table.sizes(),
          "AllReduceSparseRows: gradient " << t << " is not a row-sparse gradient of "
                                           << table.sizes());
      // Merged locally first: a batch repeats rows (a list-wise batch's titles hold ~600K ids
      // over a few tens of thousands of rows), and only distinct rows need to travel.
      const torch::Tensor merged = CoalesceRows(local[t]._indices().reshape({-1}).contiguous(),
                                                local[t]._values().to(table.scalar_type()), table);
      indices = merged._indices().reshape({-1}).contiguous();
      values = merged._values().contiguous();
    }
    my_rows[t] = indices.numel();
    for (const torch::Tensor& part : {indices, values}) {
      const torch::Tensor bytes = part.reshape({-1}).view(torch::kUInt8);
      pieces.push_back(bytes);
      const int64_t pad = padded(bytes.numel()) - bytes.numel();
      if (pad > 0) pieces.push_back(torch::zeros({pad}, bytes_options));
    }
  }
  const torch::Tensor blob = torch::cat(pieces);

  // 2. Everybody's row counts (as a device tensor too, so the same code serves MPI and NCCL).
  const int world = comm.size();
  const torch::Tensor counts_out = torch::tensor(my_rows, torch::kInt64).to(tables[0].device());
  torch::Tensor counts = torch::empty({world * num_tables}, counts_out.options());
  comm.AllGatherV(counts_out.data_ptr(), num_tables, counts.data_ptr(),
                  std::vector<int64_t>(world, num_tables), DataType::kInt64);
  const torch::Tensor host_counts = counts.cpu();
  const int64_t* rows = host_counts.data_ptr<int64_t>();

  // 3. Everybody's rows, in one message.
  std::vector<int64_t> blob_bytes(world, 0);
  int64_t total_bytes = 0;
  for (int r = 0; r < world; ++r) {
    for (int64_t t = 0; t < num_tables; ++t)
      blob_bytes[r] += block_bytes(t, rows[r * num_tables + t]);
    total_bytes += blob_bytes[r];
  }
  RECSYS_CHECK(blob.numel() == blob_bytes[comm.rank()], "AllReduceSparseRows: packing error");
  torch::Tensor all = torch::empty({total_bytes}, bytes_options);
  comm.AllGatherV(blob.data_ptr(), blob.numel(), all.data_ptr(), blob_bytes, DataType::kUInt8);

  // 4. Unpack in rank order and sum the rows each table received more than once.
  std::vector<std::vector<torch::Tensor>> indices(num_tables), values(num_tables);
  int64_t offset = 0;
  for (int r = 0; r < world; ++r) {
    for (int64_t t = 0; t < num_tables; ++t) {
      const int64_t n = rows[r * num_tables + t];
      const int64_t cols = tables[t].size(1);
      indices[t].push_back(all.narrow(0, offset, n * 8).view(torch::kInt64));
      offset += padded(n * 8);
      const int64_t value_bytes = n * cols * tables[t].element_size();
      values[t].push_back(
          all.narrow(0, offset, value_bytes).view(tables[t].scalar_type()).view({n, cols}));
      offset += padded(value_bytes);
    }
  }
  std::vector<torch::Tensor> out;
  for (int64_t t = 0; t < num_tables; ++t) {
    out.push_back(CoalesceRows(torch::cat(indices[t]), torch::cat(values[t]), tables[t]));
  }
  return out;
}

torch::Tensor AllGatherRows(const torch::Tensor& local, const std::vector<int64_t>& counts,
                            Communicator& comm) {
  return AllGatherRowsFunction::apply(local, counts, &comm);
}

}  // namespace recsys::dist
