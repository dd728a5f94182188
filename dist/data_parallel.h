#pragma once
// Data-parallel training helpers over a Communicator, for any LibTorch model: parameter
// broadcast, fused all-reduce of dense gradients, exchange of sparse (row) gradients, and a
// differentiable all-gather of rows. Nothing here knows what the model computes.
//
// Tensors must live where the communicator's buffers live: CPU tensors with the MPI backend,
// CUDA tensors with NCCL. Every function is COLLECTIVE over comm: all ranks call it in the same
// order with tensors of the same shapes and dtypes (row counts may differ where stated).

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "dist/communicator.h"

namespace recsys::dist {

// The communicator element type of a tensor dtype (float32/64, int32/64, uint8); throws otherwise.
DataType DataTypeFor(torch::ScalarType type);

// Copies root's parameters and buffers into every rank's module, so all ranks start from the
// same weights whatever their own initialisation drew. Fused into one message per dtype.
void BroadcastModule(torch::nn::Module& module, Communicator& comm, int root = 0);

// Sums each tensor over all ranks in place. Tensors are packed into fused buckets of at most
// bucket_bytes (a tensor larger than that travels alone), so many small gradients cost a few
// messages instead of one each. Tensors must be contiguous; dtypes may be mixed (each bucket
// holds one dtype).
void AllReduceSum(const std::vector<torch::Tensor>& tensors, Communicator& comm,
                  int64_t bucket_bytes);

// The sums over ranks of row-sparse gradients of [rows, cols] tables. For table i, rank r passes
// its local gradient local[i] (a sparse COO tensor with one sparse dimension, coalesced or not,
// or an undefined tensor when its batch touched no row); every rank gets the same coalesced
// sparse tensor holding the union of the touched rows with their summed values. Only touched
// rows travel (a 2^18 x 64 table's dense gradient is 64 MiB; a batch touches a few thousand
// rows), and all tables together cost two collectives: the row counts, then one message of
// every table's indices and values packed as bytes. tables[i] gives the shape, dtype and device.
std::vector<torch::Tensor> AllReduceSparseRows(const std::vector<torch::Tensor>& local,
                                               const std::vector<torch::Tensor>& tables,
                                               Communicator& comm);

// Differentiable all-gather of rows: returns the concatenation, in rank order, of every rank's
// `local` [counts[rank], ...] tensor. counts (size comm.size()) must be the same on every rank;
// callers know them (e.g. from SliceOf) so no count exchange is needed. Backward all-reduces
// (sums) the gradient of the gathered tensor and returns this rank's rows: the gradient of the
// SUM over ranks of each rank's loss, which is what distributed contrastive losses need when each
// rank's loss scores its own queries against everybody's rows.
torch::Tensor AllGatherRows(const torch::Tensor& local, const std::vector<int64_t>& counts,
                            Communicator& comm);

}  // namespace recsys::dist
