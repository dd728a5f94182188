#include "models/ranker_net.h"

#include <cmath>
#include <sstream>

#include "core/error.h"
#include "models/embedding_bag.h"

namespace recsys::models {
namespace {

constexpr double kEmbeddingStd = 0.01;

constexpr char kWhat[] = "ranker";  // in configuration errors

// The field embeddings of a batch: [B, kNumSparseFields, width], each the mean of its bag's
// rows of table. torch::embedding_bag refuses a batch of no bags, which an empty slice of a global
// batch has: that gives [0, F, width] zeros instead.
torch::Tensor FieldBags(const torch::Tensor& table, const RankerInput& input) {
  const int64_t rows = input.dense.size(0);
  RECSYS_CHECK(input.offsets.numel() == rows * kNumSparseFields,
               "ranker input: " << input.offsets.numel() << " offsets for " << rows << " rows of "
                                << kNumSparseFields << " fields");
  if (rows == 0) return torch::zeros({0, kNumSparseFields, table.size(1)}, table.options());
  const torch::Tensor bags =
      EmbeddingBagMean(table, input.ids.to(table.device()), input.offsets.to(table.device()));
  return bags.view({rows, kNumSparseFields, table.size(1)});
}

torch::Tensor DenseOf(const RankerInput& input, const torch::Tensor& like, int64_t num_dense) {
  RECSYS_CHECK(input.dense.dim() == 2 && input.dense.size(1) == num_dense,
               "ranker input: dense features of shape " << input.dense.sizes() << ", expected [B, "
                                                        << num_dense << "]");
  return input.dense.to(like.options());
}

}  // namespace

// ---- Input
// ---------------------------------------------------------------------------------------

RankerInput ToRankerInput(const RankingFeatures& features, int64_t begin, int64_t end) {
  constexpr int64_t F = kNumSparseFields, D = kNumDenseFeatures;
  const int64_t n = features.rows;
  RECSYS_CHECK(0 <= begin && begin <= end && end <= n,
               "ToRankerInput: rows [" << begin << ", " << end << ") of " << n);
  RECSYS_CHECK(static_cast<int64_t>(features.offsets.size()) == n * F &&
                   static_cast<int64_t>(features.dense.size()) == n * D,
               "ToRankerInput: " << n << " rows need " << n * F << " offsets and " << n * D
                                 << " dense values, not " << features.offsets.size() << " and "
                                 << features.dense.size());
  const auto total = static_cast<int64_t>(features.ids.size());
  const int64_t first = begin < n ? features.offsets[begin * F] : total;
  const int64_t last = end < n ? features.offsets[end * F] : total;
  RECSYS_CHECK(0 <= first && first <= last && last <= total,
               "ToRankerInput: offsets of rows [" << begin << ", " << end << ") are outside the "
                                                  << total << " ids");
  RankerInput input;
  input.ids =
      torch::tensor(std::vector<int64_t>(features.ids.begin() + first, features.ids.begin() + last),
                    torch::kInt64);
  input.offsets = torch::tensor(std::vector<int64_t>(features.offsets.begin() + begin * F,
                                                     features.offsets.begin() + end * F),
                                torch::kInt64) -
                  first;
  input.dense = torch::tensor(std::vector<float>(features.dense.begin() + begin * D,
                                                 features.dense.begin() + end * D),
                              torch::kFloat32)
                    .view({end - begin, D});
  return input;
}

// ---- FM
// ------------------------------------------------------------------------------------------

FmImpl::FmImpl(const FmOptions& o) : options(o) {
  RECSYS_CHECK(o.num_buckets() >= 1, "FM: num_buckets must be >= 1, got " << o.num_buckets());
  RECSYS_CHECK(o.factors() >= 1, "FM: factors must be >= 1, got " << o.factors());
  RECSYS_CHECK(o.num_dense() >= 0, "FM: num_dense must be >= 0, got " << o.num_dense());
  embedding = register_parameter("embedding", torch::empty({o.num_buckets(), o.factors()}));
  first_order = register_parameter("first_order", torch::empty({o.num_buckets(), 1}));
  dense_factors = register_parameter("dense_factors", torch::empty({o.num_dense(), o.factors()}));
  dense_linear = register_parameter("dense_linear", torch::empty({o.num_dense()}));
  bias = register_parameter("bias", torch::empty({1}));
  reset();
}

void FmImpl::reset() {
  torch::NoGradGuard no_grad;
  embedding.normal_(0, kEmbeddingStd);
  dense_factors.normal_(0, kEmbeddingStd);
  first_order.zero_();
  dense_linear.zero_();
  bias.zero_();
}

torch::Tensor FmImpl::forward(const RankerInput& input) {
  const torch::Tensor dense = DenseOf(input, embedding, options.num_dense());
  const torch::Tensor fields = FieldBags(embedding, input);                // [B, F, k]
  const torch::Tensor first = FieldBags(first_order, input).sum({1, 2});   // [B]
  const torch::Tensor dense_vectors = dense.unsqueeze(2) * dense_factors;  // [B, D, k]
  const torch::Tensor e = torch::cat({fields, dense_vectors}, 1);          // [B, F + D, k]
  const torch::Tensor pairs = 0.5 * (e.sum(1).square() - e.square().sum(1)).sum(1);
  return bias + first + dense.matmul(dense_linear) + pairs;
}

std::vector<std::string> FmImpl::sparse_parameters() const { return {"embedding", "first_order"}; }

ModelConfig FmImpl::config() const {
  return {{"model", "fm"},
          {"num_buckets", std::to_string(options.num_buckets())},
          {"factors", std::to_string(options.factors())},
          {"num_dense", std::to_string(options.num_dense())}};
}

// ---- DCN
// -----------------------------------------------------------------------------------------

std::vector<int64_t> ParseHiddenSizes(const std::string& text) {
  std::vector<int64_t> sizes;
  if (text.empty()) return sizes;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    size_t used = 0;
    int64_t value = 0;
    try {
      value = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    RECSYS_CHECK(used > 0 && used == part.size() && value >= 1,
                 "hidden sizes \"" << text << "\": \"" << part
                                   << "\" is not an integer >= 1 (expected e.g. \"256,128\")");
    sizes.push_back(value);
  }
  RECSYS_CHECK(text.back() != ',', "hidden sizes \"" << text << "\" end with a comma");
  return sizes;
}

CrossKind ParseCrossKind(const std::string& name) {
  if (name == "matrix") return CrossKind::kMatrix;
  if (name == "vector") return CrossKind::kVector;
  RECSYS_THROW("unknown cross layer \"" << name << "\" (matrix, vector)");
}

CrossLayerImpl::CrossLayerImpl(int64_t width_, CrossKind kind_) : width(width_), kind(kind_) {
  RECSYS_CHECK(width >= 1, "cross layer width must be >= 1, got " << width);
  weight = register_parameter(
      "weight", kind == CrossKind::kMatrix ? torch::empty({width, width}) : torch::empty({width}));
  bias = register_parameter("bias", torch::empty({width}));
  reset();
}

void CrossLayerImpl::reset() {
  torch::NoGradGuard no_grad;
  if (kind == CrossKind::kMatrix) {
    torch::nn::init::xavier_uniform_(weight);
  } else {
    const double bound = std::sqrt(6.0 / static_cast<double>(width + 1));  // xavier of [width, 1]
    weight.uniform_(-bound, bound);
  }
  bias.zero_();
}

torch::Tensor CrossLayerImpl::forward(const torch::Tensor& x0, const torch::Tensor& x) {
  if (kind == CrossKind::kMatrix) return x0 * torch::addmm(bias, x, weight.t()) + x;
  return x0 * x.matmul(weight).unsqueeze(1) + bias + x;
}

DcnImpl::DcnImpl(const DcnOptions& o) : options(o) {
  RECSYS_CHECK(o.num_buckets() >= 1, "DCN: num_buckets must be >= 1, got " << o.num_buckets());
  RECSYS_CHECK(o.embedding_dim() >= 1,
               "DCN: embedding_dim must be >= 1, got " << o.embedding_dim());
  RECSYS_CHECK(o.num_dense() >= 0, "DCN: num_dense must be >= 0, got " << o.num_dense());
  RECSYS_CHECK(o.cross_layers() >= 0, "DCN: cross_layers must be >= 0, got " << o.cross_layers());
  RECSYS_CHECK(o.structure() == "stacked" || o.structure() == "parallel",
               "DCN: unknown structure \"" << o.structure() << "\" (stacked, parallel)");
  parallel_ = o.structure() == "parallel";
  const CrossKind kind = ParseCrossKind(o.cross());
  const std::vector<int64_t> hidden = ParseHiddenSizes(o.deep());

  const int64_t width = input_width();
  embedding = register_parameter("embedding", torch::empty({o.num_buckets(), o.embedding_dim()}));
  torch::nn::ModuleList cross_list;
  for (int64_t l = 0; l < o.cross_layers(); ++l) {
    cross.emplace_back(width, kind);
    cross_list->push_back(cross.back());
  }
  register_module("cross", cross_list);
  deep = register_module("deep", torch::nn::Sequential());
  int64_t in = width;
  for (int64_t size : hidden) {
    deep->push_back(torch::nn::Linear(in, size));
    deep->push_back(torch::nn::ReLU());
    in = size;
  }
  const int64_t deep_out = hidden.empty() ? 0 : hidden.back();
  const int64_t head_in = parallel_ ? width + deep_out : (hidden.empty() ? width : deep_out);
  head = register_module("head", torch::nn::Linear(head_in, 1));
  torch::NoGradGuard no_grad;
  embedding.normal_(0, kEmbeddingStd);
}

void DcnImpl::reset() {
  torch::NoGradGuard no_grad;
  embedding.normal_(0, kEmbeddingStd);
  for (CrossLayer& layer : cross) layer->reset();
  for (auto& module : deep->children()) {
    if (auto* linear = module->as<torch::nn::LinearImpl>()) linear->reset();
  }
  head->reset();
}

int64_t DcnImpl::input_width() const {
  return kNumSparseFields * options.embedding_dim() + options.num_dense();
}

torch::Tensor DcnImpl::forward(const RankerInput& input) {
  const torch::Tensor dense = DenseOf(input, embedding, options.num_dense());
  const torch::Tensor fields = FieldBags(embedding, input);
  const torch::Tensor x0 =
      torch::cat({fields.reshape({fields.size(0), input_width() - options.num_dense()}), dense},
                 1);  // [B, input_width]
  torch::Tensor x = x0;
  for (CrossLayer& layer : cross) x = layer->forward(x0, x);
  torch::Tensor out;
  if (deep->is_empty()) {
    out = x;
  } else if (parallel_) {
    out = torch::cat({x, deep->forward(x0)}, 1);
  } else {
    out = deep->forward(x);
  }
  return head->forward(out).squeeze(1);
}

std::vector<std::string> DcnImpl::sparse_parameters() const { return {"embedding"}; }

ModelConfig DcnImpl::config() const {
  return {{"model", "dcn"},
          {"num_buckets", std::to_string(options.num_buckets())},
          {"embedding_dim", std::to_string(options.embedding_dim())},
          {"num_dense", std::to_string(options.num_dense())},
          {"cross_layers", std::to_string(options.cross_layers())},
          {"cross", options.cross()},
          {"deep", options.deep()},
          {"structure", options.structure()}};
}

// ---- Factory
// -------------------------------------------------------------------------------------

std::shared_ptr<RankerNetImpl> MakeRankerNet(const ModelConfig& c) {
  const std::string& model = ConfigString(c, kWhat, "model");
  if (model == "fm") {
    return std::make_shared<FmImpl>(FmOptions()
                                        .num_buckets(ConfigInt(c, kWhat, "num_buckets"))
                                        .factors(ConfigInt(c, kWhat, "factors"))
                                        .num_dense(ConfigInt(c, kWhat, "num_dense")));
  }
  if (model == "dcn") {
    return std::make_shared<DcnImpl>(DcnOptions()
                                         .num_buckets(ConfigInt(c, kWhat, "num_buckets"))
                                         .embedding_dim(ConfigInt(c, kWhat, "embedding_dim"))
                                         .num_dense(ConfigInt(c, kWhat, "num_dense"))
                                         .cross_layers(ConfigInt(c, kWhat, "cross_layers"))
                                         .cross(ConfigString(c, kWhat, "cross"))
                                         .deep(ConfigString(c, kWhat, "deep"))
                                         .structure(ConfigString(c, kWhat, "structure")));
  }
  RECSYS_THROW("ranker configuration: unknown model \"" << model << "\" (fm, dcn)");
}

namespace {
constexpr int64_t kScoreBlockRows = 4096;  // rows scored at once: bounded memory, full speed
}  // namespace

std::vector<float> ScoreFeatures(RankerNetImpl& net, const RankingFeatures& features) {
  // Not only no gradients: no version counters or autograd metadata on the tensors either,
  // which is most of a small forward pass's cost (a serving request scores ~200 rows).
  c10::InferenceMode inference;
  std::vector<float> out;
  out.reserve(features.rows);
  for (int64_t begin = 0; begin < features.rows; begin += kScoreBlockRows) {
    const int64_t end = std::min(features.rows, begin + kScoreBlockRows);
    const torch::Tensor scores =
        net.forward(ToRankerInput(features, begin, end)).to(torch::kCPU, torch::kFloat32);
    out.insert(out.end(), scores.data_ptr<float>(), scores.data_ptr<float>() + scores.numel());
  }
  return out;
}

}  // namespace recsys::models
