#include "models/checkpoint.h"

#include <cmath>
#include <cstdlib>
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

// Whether two configuration texts are numbers of the same value ("0.05" written with 17 digits
// by an older version, and with the shortest exact text now).
bool SameNumber(const std::string& a, const std::string& b) {
  try {
    size_t used_a = 0, used_b = 0;
    const double x = std::stod(a, &used_a), y = std::stod(b, &used_b);
    return used_a == a.size() && used_b == b.size() && x == y;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

void WriteCheckpointInfo(H5Writer& out, const CheckpointInfo& info,
                         torch::ScalarType tensor_dtype) {
  RECSYS_CHECK(tensor_dtype == torch::kFloat32 || tensor_dtype == torch::kFloat64,
               "checkpoint tensors must be float32 or float64, not " << tensor_dtype);
  WriteConfig(out, "config", info.config);
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
  RECSYS_CHECK(in.Has("config/keys"), in.path() << " has no model configuration (config/keys)");
  info.config = ReadConfig(in, "config");
  return info;
}

void CheckCheckpointMatches(const CheckpointInfo& found, const std::string& path,
                            const std::string& model, const ModelConfig& expected) {
  RECSYS_CHECK(found.model == model,
               "checkpoint " << path << " holds a " << found.model << " model, not " << model);
  const std::string diffs = ConfigDifferences(found.config, expected);
  RECSYS_CHECK(diffs.empty(),
               "checkpoint " << path << " is of another " << model << " configuration: " << diffs);
}

std::string ConfigDifferences(const ModelConfig& found, const ModelConfig& expected) {
  std::ostringstream diffs;
  int count = 0;
  auto add = [&](const std::string& key, const std::string& theirs, const std::string& ours) {
    diffs << (count++ ? "; " : "") << key << "=" << theirs << " in the checkpoint, " << ours
          << " here";
  };
  for (const auto& [key, value] : expected) {
    auto it = found.find(key);
    if (it == found.end()) {
      add(key, "(missing)", value);
    } else if (it->second != value && !SameNumber(it->second, value)) {
      add(key, it->second, value);
    }
  }
  for (const auto& [key, value] : found) {
    if (!expected.count(key)) add(key, value, "(unknown)");
  }
  return diffs.str();
}

void WriteConfig(H5Writer& out, const std::string& group, const ModelConfig& config) {
  std::vector<std::string> keys, values;
  for (const auto& [key, value] : config) {
    keys.push_back(key);
    values.push_back(value);
  }
  out.WriteStrings(group + "/keys", keys);
  out.WriteStrings(group + "/values", values);
}

ModelConfig ReadConfig(const H5Reader& in, const std::string& group) {
  ModelConfig config;
  if (!in.Has(group + "/keys")) return config;
  const std::vector<std::string> keys = in.ReadStrings(group + "/keys");
  const std::vector<std::string> values = in.ReadStrings(group + "/values");
  RECSYS_CHECK(keys.size() == values.size(),
               in.path() << ": " << group << " keys and values differ in size");
  for (size_t i = 0; i < keys.size(); ++i) config[keys[i]] = values[i];
  return config;
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
  const torch::Tensor finite = torch::isfinite(host);
  if (!finite.all().item<bool>()) {
    RECSYS_THROW(in.path() << ": " << name << " holds NaN or infinite values (first at element "
                           << torch::argmin(finite.to(torch::kInt32)).item<int64_t>()
                           << "): a diverged or damaged checkpoint");
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

std::string DoubleText(double value) {
  std::string text;
  for (int digits = 15; digits <= 17; ++digits) {  // the shortest text that reads back exactly
    std::ostringstream os;
    os.precision(digits);
    os << value;
    text = os.str();
    if (!std::isfinite(value) || std::strtod(text.c_str(), nullptr) == value) break;
  }
  return text;
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
