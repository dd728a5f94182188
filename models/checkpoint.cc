#include "models/checkpoint.h"

#include <sstream>
#include <vector>

#include "core/error.h"

namespace recsys::models {
namespace {

constexpr char kFormat[] = "recsys-checkpoint";
constexpr int64_t kFormatVersion = 1;

std::vector<uint64_t> StoredShape(const torch::Tensor& t) {
  std::vector<uint64_t> dims(t.sizes().begin(), t.sizes().end());
  if (dims.empty()) dims.push_back(1);  // HDF5 datasets here are at least 1-D
  return dims;
}

}  // namespace

void WriteCheckpointInfo(H5Writer& out, const CheckpointInfo& info,
                         torch::ScalarType tensor_dtype) {
  RECSYS_CHECK(tensor_dtype == torch::kFloat32 || tensor_dtype == torch::kFloat64,
               "checkpoint tensors must be float32 or float64, not " << tensor_dtype);
  std::vector<std::string> keys, values;
  for (const auto& [key, value] : info.config) {
    keys.push_back(key);
    values.push_back(value);
  }
  out.WriteStrings("config/keys", keys);
  out.WriteStrings("config/values", values);
  out.SetFormat(kFormat, kFormatVersion);
  out.SetAttribute("/", "model", info.model);
  out.SetAttribute("/", "step", info.step);
  out.SetAttribute("/", "epoch", info.epoch);
  out.SetAttribute("/", "tensor_dtype",
                   std::string(tensor_dtype == torch::kFloat64 ? "float64" : "float32"));
}

CheckpointInfo ReadCheckpointInfo(const H5Reader& in) {
  in.CheckFormat(kFormat, kFormatVersion);
  CheckpointInfo info;
  info.model = in.StringAttribute("/", "model");
  info.step = in.Int64Attribute("/", "step");
  info.epoch = in.Int64Attribute("/", "epoch");
  std::vector<std::string> keys = in.ReadStrings("config/keys");
  std::vector<std::string> values = in.ReadStrings("config/values");
  RECSYS_CHECK(keys.size() == values.size(), in.path()
                                                 << ": config keys and values differ in size");
  for (size_t i = 0; i < keys.size(); ++i) info.config[keys[i]] = values[i];
  return info;
}

void CheckCheckpointMatches(const CheckpointInfo& found, const std::string& path,
                            const std::string& model, const ModelConfig& expected) {
  RECSYS_CHECK(found.model == model,
               "checkpoint " << path << " holds a " << found.model << " model, not " << model);
  std::ostringstream diffs;
  int count = 0;
  auto add = [&](const std::string& key, const std::string& theirs, const std::string& ours) {
    diffs << (count++ ? "; " : "") << key << "=" << theirs << " in the checkpoint, " << ours
          << " here";
  };
  for (const auto& [key, value] : expected) {
    auto it = found.config.find(key);
    if (it == found.config.end()) {
      add(key, "(missing)", value);
    } else if (it->second != value) {
      add(key, it->second, value);
    }
  }
  for (const auto& [key, value] : found.config) {
    if (!expected.count(key)) add(key, value, "(unknown)");
  }
  RECSYS_CHECK(count == 0, "checkpoint " << path << " is of another " << model
                                         << " configuration: " << diffs.str());
}

void WriteTensor(H5Writer& out, const std::string& name, const torch::Tensor& tensor) {
  torch::Tensor t = tensor.detach().cpu().contiguous();
  if (t.scalar_type() == torch::kFloat64) {
    out.Write(name, t.data_ptr<double>(), StoredShape(t));
  } else {
    t = t.to(torch::kFloat32);
    out.Write(name, t.data_ptr<float>(), StoredShape(t));
  }
}

void ReadTensorInto(const H5Reader& in, const std::string& name, torch::Tensor into) {
  RECSYS_CHECK(in.Has(name), in.path() << " has no tensor " << name);
  const std::vector<uint64_t> shape = in.Shape(name);
  const std::vector<uint64_t> want = StoredShape(into);
  RECSYS_CHECK(shape == want,
               in.path() << ": " << name << " has shape "
                         << torch::IntArrayRef(std::vector<int64_t>(shape.begin(), shape.end()))
                         << ", the model's is " << into.sizes());
  torch::Tensor host;
  if (in.StringAttribute("/", "tensor_dtype") == "float64") {
    std::vector<double> values = in.Read<double>(name);
    host = torch::from_blob(values.data(), {static_cast<int64_t>(values.size())}, torch::kFloat64)
               .clone();
  } else {
    std::vector<float> values = in.Read<float>(name);
    host = torch::from_blob(values.data(), {static_cast<int64_t>(values.size())}, torch::kFloat32)
               .clone();
  }
  torch::NoGradGuard no_grad;
  into.copy_(host.view(into.sizes()));
}

void WriteModule(H5Writer& out, const torch::nn::Module& module) {
  for (const auto& p : module.named_parameters()) WriteTensor(out, "params/" + p.key(), p.value());
  for (const auto& b : module.named_buffers()) WriteTensor(out, "params/" + b.key(), b.value());
}

void ReadModule(const H5Reader& in, torch::nn::Module& module) {
  for (auto& p : module.named_parameters()) ReadTensorInto(in, "params/" + p.key(), p.value());
  for (auto& b : module.named_buffers()) ReadTensorInto(in, "params/" + b.key(), b.value());
}

const std::string& ConfigString(const ModelConfig& config, const std::string& what,
                                const std::string& key) {
  auto it = config.find(key);
  RECSYS_CHECK(it != config.end(), what << " configuration has no " << key);
  return it->second;
}

int64_t ConfigInt(const ModelConfig& config, const std::string& what, const std::string& key) {
  const std::string& text = ConfigString(config, what, key);
  try {
    size_t used = 0;
    const int64_t value = std::stoll(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  RECSYS_THROW(what << " configuration: " << key << "=" << text << " is not an integer");
}

double ConfigDouble(const ModelConfig& config, const std::string& what, const std::string& key) {
  const std::string& text = ConfigString(config, what, key);
  try {
    size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  RECSYS_THROW(what << " configuration: " << key << "=" << text << " is not a number");
}

}  // namespace recsys::models
