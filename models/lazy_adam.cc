#include "models/lazy_adam.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "models/checkpoint.h"
#include "models/huge_pages.h"

namespace recsys::models {

namespace {

struct RowUpdate {
  double beta1, beta2, eps, step_size, sqrt_bias2;
};

// The row-wise update in one pass over raw memory. LibTorch 1.13's CPU index_select /
// index_copy_ / index_add_ on a table go row by row through tensor operations and cost more
// than the whole forward and backward pass for the ~20K rows a batch touches. A dense parameter
// is one row of param.numel() columns: one pass instead of the eight tensor operations (and
// their temporaries) of torch's Adam, which ran on every rank for every dense parameter.
// out: null, or [rows.numel(), cols] that receives the updated rows.
template <typename T>
void UpdateRowsCpu(const RowUpdate& u, const torch::Tensor& rows, const torch::Tensor& grad,
                   int64_t cols, torch::Tensor& param, torch::Tensor& m, torch::Tensor& v, T* out) {
  TORCH_CHECK(
      param.is_contiguous() && m.is_contiguous() && v.is_contiguous() && grad.is_contiguous(),
      "LazyAdam needs contiguous tables");
  const int64_t n = rows.numel();
  const int64_t* row = rows.data_ptr<int64_t>();
  const T* g = grad.data_ptr<T>();
  T* p = param.data_ptr<T>();
  T* mm = m.data_ptr<T>();
  T* vv = v.data_ptr<T>();
  const T b1 = u.beta1, b2 = u.beta2, c1 = 1 - u.beta1, c2 = 1 - u.beta2, eps = u.eps;
  const T step = u.step_size, inv_sqrt_bias2 = 1 / u.sqrt_bias2;
  // The rows are scattered over tables of tens of megabytes, so every row is a cache (and TLB)
  // miss: fetching the rows a few iterations ahead overlaps those misses with the arithmetic.
  constexpr int64_t kAhead = 4;
  const int64_t row_bytes = cols * static_cast<int64_t>(sizeof(T));
  for (int64_t i = 0; i < n; ++i) {
    if (i + kAhead < n) {
      const int64_t ahead = row[i + kAhead] * cols;
      for (int64_t b = 0; b < row_bytes; b += 64) {
        __builtin_prefetch(reinterpret_cast<const char*>(p + ahead) + b, 1);
        __builtin_prefetch(reinterpret_cast<const char*>(mm + ahead) + b, 1);
        __builtin_prefetch(reinterpret_cast<const char*>(vv + ahead) + b, 1);
      }
    }
    const int64_t offset = row[i] * cols;
    const T* gi = g + i * cols;
    for (int64_t c = 0; c < cols; ++c) {
      const T mc = mm[offset + c] = b1 * mm[offset + c] + c1 * gi[c];
      const T vc = vv[offset + c] = b2 * vv[offset + c] + c2 * gi[c] * gi[c];
      p[offset + c] -= step * mc / (std::sqrt(vc) * inv_sqrt_bias2 + eps);
    }
    if (out != nullptr) std::copy(p + offset, p + offset + cols, out + i * cols);
  }
}

template <typename T>
void UpdateCpu(const RowUpdate& u, const torch::Tensor& rows, const torch::Tensor& grad,
               int64_t cols, torch::Tensor& param, torch::Tensor& m, torch::Tensor& v,
               const torch::Tensor& out) {
  UpdateRowsCpu<T>(u, rows, grad, cols, param, m, v, out.defined() ? out.data_ptr<T>() : nullptr);
}

}  // namespace

LazyAdam::LazyAdam(std::vector<std::pair<std::string, torch::Tensor>> params,
                   const LazyAdamOptions& options)
    : options_(options) {
  for (auto& [name, param] : params) {
    slots_.push_back({name, param, ZerosOnHugePages(param), ZerosOnHugePages(param)});
  }
}

void LazyAdam::Step(double lr, const std::map<std::string, torch::Tensor>& updated_rows) {
  ++steps_;
  const double b1 = options_.beta1, b2 = options_.beta2;
  const double bias1 = 1.0 - std::pow(b1, static_cast<double>(steps_));
  const double bias2 = 1.0 - std::pow(b2, static_cast<double>(steps_));
  const double step_size = lr / bias1;
  const double sqrt_bias2 = std::sqrt(bias2);
  const RowUpdate u{b1, b2, options_.eps, step_size, sqrt_bias2};
  torch::NoGradGuard no_grad;
  for (Slot& s : slots_) {
    const torch::Tensor& grad = s.param.grad();
    if (!grad.defined()) continue;
    const bool cpu = s.param.is_cpu() && (s.param.scalar_type() == torch::kFloat32 ||
                                          s.param.scalar_type() == torch::kFloat64);
    if (!grad.is_sparse()) {
      if (cpu && s.param.is_contiguous()) {
        const torch::Tensor row0 = torch::zeros({1}, torch::kInt64);
        const torch::Tensor g = grad.contiguous();
        if (s.param.scalar_type() == torch::kFloat32) {
          UpdateCpu<float>(u, row0, g, s.param.numel(), s.param, s.m, s.v, torch::Tensor());
        } else {
          UpdateCpu<double>(u, row0, g, s.param.numel(), s.param, s.m, s.v, torch::Tensor());
        }
        continue;
      }
      s.m.mul_(b1).add_(grad, 1.0 - b1);
      s.v.mul_(b2).addcmul_(grad, grad, 1.0 - b2);
      s.param.addcdiv_(s.m, (s.v.sqrt() / sqrt_bias2).add_(options_.eps), -step_size);
      continue;
    }
    TORCH_CHECK(grad.is_coalesced() && grad.sparse_dim() == 1, "LazyAdam: the sparse gradient of ",
                s.name, " must be coalesced and row-sparse");
    const torch::Tensor rows = grad._indices().reshape({-1}).contiguous();
    const torch::Tensor g = grad._values().contiguous();
    const auto out_it = updated_rows.find(s.name);
    const torch::Tensor out = out_it == updated_rows.end() ? torch::Tensor() : out_it->second;
    TORCH_CHECK(!out.defined() ||
                    (out.is_contiguous() && out.dim() == 2 && out.size(0) == rows.numel() &&
                     out.size(1) == s.param.size(1) && out.scalar_type() == s.param.scalar_type()),
                "LazyAdam: updated_rows of ", s.name, " is not a contiguous [", rows.numel(), ", ",
                s.param.size(1), "] ", s.param.scalar_type(), " tensor");
    if (rows.numel() == 0) continue;
    if (cpu && s.param.scalar_type() == torch::kFloat32) {
      UpdateCpu<float>(u, rows, g, s.param.size(1), s.param, s.m, s.v, out);
    } else if (cpu) {
      UpdateCpu<double>(u, rows, g, s.param.size(1), s.param, s.m, s.v, out);
    } else {
      // Other devices: gather the touched rows' moments, update them, scatter them back.
      torch::Tensor m = s.m.index_select(0, rows).mul_(b1).add_(g, 1.0 - b1);
      torch::Tensor v = s.v.index_select(0, rows).mul_(b2).addcmul_(g, g, 1.0 - b2);
      s.m.index_copy_(0, rows, m);
      s.v.index_copy_(0, rows, v);
      torch::Tensor update = m.div_(v.sqrt_().div_(sqrt_bias2).add_(options_.eps));
      s.param.index_add_(0, rows, update, -step_size);
      if (out.defined()) out.copy_(s.param.index_select(0, rows));
    }
  }
}

std::pair<torch::Tensor, torch::Tensor> LazyAdam::moments(const std::string& name) const {
  for (const Slot& s : slots_) {
    if (s.name == name) return {s.m, s.v};
  }
  RECSYS_THROW("LazyAdam: no parameter named " << name);
}

void LazyAdam::Save(H5Writer& out, const std::string& group) const {
  for (const Slot& s : slots_) {
    WriteTensor(out, group + "/m/" + s.name, s.m);
    WriteTensor(out, group + "/v/" + s.name, s.v);
  }
}

void LazyAdam::Load(const H5Reader& in, const std::string& group, int64_t steps) {
  RECSYS_CHECK(steps >= 0, "steps=" << steps);
  for (Slot& s : slots_) {
    ReadTensorInto(in, group + "/m/" + s.name, s.m);
    ReadTensorInto(in, group + "/v/" + s.name, s.v);
  }
  steps_ = steps;
}

}  // namespace recsys::models
