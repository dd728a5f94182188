#include "models/embedding_bag.h"

#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/row_order.h"

namespace recsys::models {
namespace {

// The text each id belongs to, and one over each text's length.
void BagsOf(const torch::Tensor& offsets, int64_t num_ids, std::vector<int64_t>* bag_of,
            std::vector<double>* inverse_length) {
  const int64_t bags = offsets.numel();
  const int64_t* start = offsets.data_ptr<int64_t>();
  bag_of->resize(num_ids);
  inverse_length->resize(bags);
  for (int64_t b = 0; b < bags; ++b) {
    const int64_t end = b + 1 < bags ? start[b + 1] : num_ids;
    RECSYS_CHECK(start[b] >= 0 && start[b] <= end && end <= num_ids,
                 "EmbeddingBagMean: offsets are not ascending within the " << num_ids << " ids");
    for (int64_t i = start[b]; i < end; ++i) (*bag_of)[i] = b;
    (*inverse_length)[b] = end > start[b] ? 1.0 / static_cast<double>(end - start[b]) : 0.0;
  }
}

// out[0, width) += scale * src[0, width). The backward's inner loop, once per id occurrence
// (~40K a batch): written with vector lanes because -O2 vectorises no loop of run-time length
// itself, and the scalar loop cost a fifth of a one-rank step. The same multiply and add per
// element as the scalar loop, so the same result to the bit.
template <typename T>
struct VectorOf;
template <>
struct VectorOf<float> {
  typedef float type __attribute__((vector_size(32)));
};
template <>
struct VectorOf<double> {
  typedef double type __attribute__((vector_size(32)));
};

template <typename T>
void AddScaled(T* out, const T* src, T scale, int64_t width) {
  using Lanes = typename VectorOf<T>::type;
  constexpr auto kLanes = static_cast<int64_t>(sizeof(Lanes) / sizeof(T));
  int64_t c = 0;
  for (; c + kLanes <= width; c += kLanes) {
    Lanes o, x;
    std::memcpy(&o, out + c, sizeof(Lanes));
    std::memcpy(&x, src + c, sizeof(Lanes));
    o += scale * x;
    std::memcpy(out + c, &o, sizeof(Lanes));
  }
  for (; c < width; ++c) out[c] += scale * src[c];
}

template <typename T>
torch::Tensor MeanBagGradientCpu(const torch::Tensor& grad, const torch::Tensor& ids,
                                 const torch::Tensor& offsets, int64_t rows) {
  const int64_t n = ids.numel(), width = grad.size(1);
  std::vector<int64_t> bag_of;
  std::vector<double> inverse_length;
  BagsOf(offsets, n, &bag_of, &inverse_length);
  const std::vector<uint64_t> order = SortedRowEntries(ids.data_ptr<int64_t>(), n, rows);
  int64_t unique = 0;
  for (int64_t i = 0; i < n; ++i) unique += i == 0 || RowOf(order[i]) != RowOf(order[i - 1]);
  torch::Tensor out_index = torch::empty({1, unique}, ids.options());
  torch::Tensor out_values = torch::zeros({unique, width}, grad.options());
  int64_t* oi = out_index.data_ptr<int64_t>();
  T* out = out_values.data_ptr<T>() - width;
  const T* g = grad.data_ptr<T>();
  int64_t row = -1;
  for (int64_t i = 0; i < n; ++i) {
    if (i == 0 || RowOf(order[i]) != RowOf(order[i - 1])) {
      oi[++row] = RowOf(order[i]);
      out += width;
    }
    const int64_t bag = bag_of[PositionOf(order[i])];
    AddScaled(out, g + bag * width, static_cast<T>(inverse_length[bag]), width);
  }
  return torch::sparse_coo_tensor(out_index, out_values, {rows, width})._coalesced_(true);
}

torch::Tensor MeanBagGradient(const torch::Tensor& grad_output, const torch::Tensor& ids,
                              const torch::Tensor& offsets, int64_t rows) {
  const torch::Tensor grad = grad_output.contiguous();
  if (grad.is_cpu()) {
    const torch::Tensor i = ids.contiguous(), o = offsets.contiguous();
    if (grad.scalar_type() == torch::kFloat64) return MeanBagGradientCpu<double>(grad, i, o, rows);
    RECSYS_CHECK(grad.scalar_type() == torch::kFloat32,
                 "EmbeddingBagMean: float32 or float64 tables, not " << grad.scalar_type());
    return MeanBagGradientCpu<float>(grad, i, o, rows);
  }
  // Other devices: the same sums with tensor operations.
  const int64_t n = ids.numel();
  const torch::Tensor ends = torch::cat(
      {offsets.narrow(0, 1, offsets.numel() - 1), torch::full({1}, n, offsets.options())});
  const torch::Tensor lengths = ends - offsets;
  const torch::Tensor bag_of =
      torch::repeat_interleave(torch::arange(offsets.numel(), offsets.options()), lengths);
  const torch::Tensor scale = lengths.index_select(0, bag_of).to(grad.scalar_type()).reciprocal();
  const torch::Tensor values = grad.index_select(0, bag_of) * scale.unsqueeze(1);
  return torch::sparse_coo_tensor(ids.unsqueeze(0), values, {rows, grad.size(1)}).coalesce();
}

class EmbeddingBagMeanFunction : public torch::autograd::Function<EmbeddingBagMeanFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& weight,
                               const torch::Tensor& ids, const torch::Tensor& offsets) {
    ctx->save_for_backward({ids, offsets});
    ctx->saved_data["rows"] = weight.size(0);
    return std::get<0>(torch::embedding_bag(weight, ids, offsets, /*scale_grad_by_freq=*/false,
                                            /*mode=mean*/ 1));
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    return {MeanBagGradient(grads[0], saved[0], saved[1], ctx->saved_data["rows"].toInt()),
            torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor EmbeddingBagMean(const torch::Tensor& weight, const torch::Tensor& ids,
                               const torch::Tensor& offsets) {
  RECSYS_CHECK(weight.dim() == 2 && ids.dim() == 1 && offsets.dim() == 1 &&
                   ids.scalar_type() == torch::kInt64 && offsets.scalar_type() == torch::kInt64,
               "EmbeddingBagMean: a [rows, width] table, 1-D int64 ids and offsets");
  return EmbeddingBagMeanFunction::apply(weight, ids, offsets);
}

}  // namespace recsys::models
