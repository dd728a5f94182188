#pragma once
// Model checkpoints in HDF5 (core/hdf5_file.h):
//
//   @format "recsys-checkpoint", @format_version 1, @model ("two_tower", ...), @step, @epoch,
//   @tensor_dtype ("float32" or "float64": every tensor below)
//   config/keys, config/values   strings: the model's configuration, compared on load
//   params/<name>                each parameter and buffer under its named_parameters() name
//   <other groups>               the trainer's state (optimiser moments, early stopping, ...)
//
// Written by one rank through an H5Writer (so atomically); read by any number of ranks.

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>

#include "core/hdf5_file.h"

namespace recsys::models {

// A model's configuration, name -> value as text. Two checkpoints are of the same model when
// their model names and configurations are equal.
using ModelConfig = std::map<std::string, std::string>;

// A double as configuration text, exactly (17 significant digits, trailing zeros dropped).
std::string DoubleText(double value);

// Values of a stored configuration; `what` names the model in messages ("two-tower"). Throw
// recsys::Error naming a missing key, or a value that is not an integer / a number.
const std::string& ConfigString(const ModelConfig& config, const std::string& what,
                                const std::string& key);
int64_t ConfigInt(const ModelConfig& config, const std::string& what, const std::string& key);
double ConfigDouble(const ModelConfig& config, const std::string& what, const std::string& key);

struct CheckpointInfo {
  std::string model;  // "two_tower", "fm", ...
  ModelConfig config;
  int64_t step = 0;   // optimiser steps taken
  int64_t epoch = 0;  // epoch the next step belongs to
};

void WriteCheckpointInfo(H5Writer& out, const CheckpointInfo& info, torch::ScalarType tensor_dtype);
// Throws recsys::Error naming the file when it is not a checkpoint.
CheckpointInfo ReadCheckpointInfo(const H5Reader& in);

// Throws recsys::Error when found is not a checkpoint of `model` with configuration `expected`,
// with a message naming the file and every difference ("dim=32 in the checkpoint, 64 here").
void CheckCheckpointMatches(const CheckpointInfo& found, const std::string& path,
                            const std::string& model, const ModelConfig& expected);

// The differences between a stored configuration and the expected one, "; "-separated
// ("dim=32 in the checkpoint, 64 here"); empty when they are equal.
std::string ConfigDifferences(const ModelConfig& found, const ModelConfig& expected);

// A configuration as group/keys and group/values strings (as the model's under "config").
void WriteConfig(H5Writer& out, const std::string& group, const ModelConfig& config);
// Empty when the file has no such group (a checkpoint written before it existed).
ModelConfig ReadConfig(const H5Reader& in, const std::string& group);

// Tensors under group/<name>, in the checkpoint's tensor dtype.
void WriteTensor(H5Writer& out, const std::string& name, const torch::Tensor& tensor);
// Reads a tensor into `into` (same number of elements, and the same shape unless it is a scalar);
// throws naming the tensor otherwise.
void ReadTensorInto(const H5Reader& in, const std::string& name, torch::Tensor into);

// Every parameter and buffer of module, under "params/".
void WriteModule(H5Writer& out, const torch::nn::Module& module);
void ReadModule(const H5Reader& in, torch::nn::Module& module);

}  // namespace recsys::models
