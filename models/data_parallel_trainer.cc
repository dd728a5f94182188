#include "models/data_parallel_trainer.h"

#include <malloc.h>

#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include "core/error.h"
#include "dist/data_parallel.h"
#include "models/huge_pages.h"

namespace recsys::models {
namespace {

std::vector<std::pair<std::string, torch::Tensor>> NamedParameters(torch::nn::Module& model) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : model.named_parameters()) out.emplace_back(p.key(), p.value());
  return out;
}

// A step allocates and frees the same few-megabyte buffers every time (sparse gradient rows,
// exchange buffers). With glibc's default thresholds such blocks go back to the kernel when freed
// and are page-faulted in again at the next step: measured on the reference model, that made a
// step three times slower (95 ms instead of 27). Keeping freed memory in the heap avoids it.
// Process-wide and idempotent; blocks over 32 MiB (whole embedding tables) are still mapped.
void KeepFreedMemoryInTheHeap() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
}

}  // namespace

LrDecay ParseLrDecay(const std::string& name) {
  if (name == "constant") return LrDecay::kConstant;
  if (name == "linear") return LrDecay::kLinear;
  if (name == "cosine") return LrDecay::kCosine;
  RECSYS_THROW("unknown learning-rate decay '" << name << "' (choose constant, linear, cosine)");
}

double ScheduledLearningRate(const TrainerOptions& options, int64_t step, int64_t total_steps) {
  const double peak = options.learning_rate;
  if (step < options.warmup_steps) return peak * (step + 1) / options.warmup_steps;
  const int64_t span = total_steps - options.warmup_steps;
  if (options.decay == LrDecay::kConstant || span <= 0) return peak;
  const double progress = std::min(1.0, double(step - options.warmup_steps) / span);
  if (options.decay == LrDecay::kLinear) return peak * (1.0 - progress);
  return peak * 0.5 * (1.0 + std::cos(M_PI * progress));
}

DataParallelTrainer::DataParallelTrainer(torch::nn::Module& model,
                                         const std::vector<std::string>& sparse_parameters,
                                         const TrainerOptions& options, int64_t total_steps,
                                         dist::Communicator& comm)
    : options_(options),
      total_steps_(total_steps),
      comm_(comm),
      adam_(NamedParameters(model), options.adam) {
  RECSYS_CHECK(total_steps >= 1, "total_steps=" << total_steps);
  RECSYS_CHECK(options.learning_rate > 0 && options.warmup_steps >= 0 && options.clip_norm >= 0,
               "learning_rate=" << options.learning_rate << " warmup_steps=" << options.warmup_steps
                                << " clip_norm=" << options.clip_norm);
  std::set<std::string> sparse(sparse_parameters.begin(), sparse_parameters.end());
  for (const auto& [name, tensor] : NamedParameters(model)) {
    const bool is_sparse = sparse.erase(name) > 0;
    RECSYS_CHECK(!is_sparse || tensor.dim() == 2,
                 "sparse parameter " << name << " is not a table: " << tensor.sizes());
    if (is_sparse) {  // an embedding table: onto huge pages (see models/huge_pages.h)
      torch::NoGradGuard no_grad;
      const torch::Tensor moved = CopyToHugePages(tensor);
      torch::Tensor table = tensor;
      if (!moved.is_same(tensor)) table.set_(moved);
    }
    params_.push_back({name, tensor, is_sparse});
  }
  RECSYS_CHECK(sparse.empty(), "no parameter named " << *sparse.begin() << " in the model");
  if (!params_.empty()) device_ = params_.front().tensor.device();
  dist::BroadcastModule(model, comm_, /*root=*/0);
  KeepFreedMemoryInTheHeap();
}

double DataParallelTrainer::learning_rate() const {
  return ScheduledLearningRate(options_, step_, total_steps_);
}

double DataParallelTrainer::Step(const torch::Tensor& local_loss) {
  for (Param& p : params_) p.tensor.mutable_grad() = torch::Tensor();
  using Clock = std::chrono::steady_clock;
  auto seconds_since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  Clock::time_point start = Clock::now();
  if (local_loss.requires_grad()) local_loss.backward();
  last_seconds_.backward = seconds_since(start);
  start = Clock::now();

  // 2. Dense gradients, summed in fused buckets (the same order on every rank).
  std::vector<torch::Tensor> dense;
  for (Param& p : params_) {
    if (p.sparse) continue;
    if (!p.tensor.grad().defined()) p.tensor.mutable_grad() = torch::zeros_like(p.tensor);
    dense.push_back(p.tensor.grad());
  }
  dist::AllReduceSum(dense, comm_, options_.bucket_bytes);

  // 3. Each rank's own rows of the sparse gradients, summed over the ranks.
  std::vector<torch::Tensor> sparse_grads, sparse_tables;
  for (Param& p : params_) {
    if (!p.sparse) continue;
    sparse_grads.push_back(p.tensor.grad());
    sparse_tables.push_back(p.tensor);
  }
  const std::vector<torch::Tensor> owned =
      dist::ReduceScatterSparseRows(sparse_grads, sparse_tables, comm_);
  for (size_t i = 0; i < owned.size(); ++i) sparse_tables[i].mutable_grad() = owned[i];
  last_seconds_.exchange = seconds_since(start);
  start = Clock::now();

  // 4. Clip by the global norm: the dense part is whole on every rank, the sparse part is summed
  //    over the rows' owners. The loss (for the caller) is summed in the same message.
  double dense_squared = 0, sparse_squared = 0;
  for (Param& p : params_) {
    const torch::Tensor& g = p.sparse ? p.tensor.grad()._values() : p.tensor.grad();
    const double norm = g.norm().item<double>();
    (p.sparse ? sparse_squared : dense_squared) += norm * norm;
  }
  const torch::TensorOptions float64 = torch::dtype(torch::kFloat64).device(device_);
  const torch::Tensor sums = torch::cat(
      {torch::tensor({sparse_squared}, float64), local_loss.detach().reshape({1}).to(float64)});
  dist::AllReduceSum({sums}, comm_, options_.bucket_bytes);
  const torch::Tensor host_sums = sums.cpu();
  last_norm_ = std::sqrt(dense_squared + host_sums[0].item<double>());
  if (options_.clip_norm > 0 && last_norm_ > options_.clip_norm) {
    const double factor = options_.clip_norm / (last_norm_ + 1e-6);
    torch::NoGradGuard no_grad;
    for (Param& p : params_) {
      if (p.sparse) {
        p.tensor.grad()._values().mul_(factor);
      } else {
        p.tensor.grad().mul_(factor);
      }
    }
  }

  // 5. The update, which writes this rank's updated rows into the message that then sends them to
  //    everybody.
  std::vector<torch::Tensor> updated;
  for (const torch::Tensor& g : owned) updated.push_back(g._indices().reshape({-1}));
  const Clock::time_point share_start = Clock::now();
  dist::UpdatedRowsShare share(updated, sparse_tables, comm_);
  std::map<std::string, torch::Tensor> updated_rows;
  size_t table = 0;
  for (const Param& p : params_) {
    if (p.sparse) updated_rows[p.name] = share.values(table++);
  }
  const double share_seconds = seconds_since(share_start);
  adam_.Step(learning_rate(), updated_rows);
  ++step_;
  last_seconds_.update = seconds_since(start) - share_seconds;
  start = Clock::now();
  share.Finish();
  last_seconds_.share = share_seconds + seconds_since(start);
  return host_sums[1].item<double>();
}

void DataParallelTrainer::Save(H5Writer* out) {
  RECSYS_CHECK((out != nullptr) == (comm_.rank() == 0),
               "DataParallelTrainer::Save: rank 0, and only rank 0, passes a writer");
  std::vector<torch::Tensor> moments;
  for (const Param& p : params_) {
    if (!p.sparse) continue;
    const auto [m, v] = adam_.moments(p.name);
    moments.push_back(m);
    moments.push_back(v);
  }
  dist::GatherOwnedRows(moments, comm_);
  if (out) adam_.Save(*out, "optimizer");
}

void DataParallelTrainer::Load(const H5Reader& in, int64_t step) {
  adam_.Load(in, "optimizer", step);
  step_ = step;
}

}  // namespace recsys::models
