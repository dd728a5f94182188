#pragma once
// Data-parallel training helpers over a Communicator, for any LibTorch model: parameter
// broadcast, fused all-reduce of dense gradients, a sharded update of sparse (row) gradients, and
// a differentiable all-gather of rows. Nothing here knows what the model computes.
//
// Tensors must live where the communicator's buffers live: CPU tensors with the MPI backend,
// CUDA tensors with NCCL. Every function is COLLECTIVE over comm: all ranks call it in the same
// order with tensors of the same shapes and dtypes (row counts may differ where stated).

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "dist/communicator.h"
#include "dist/distributed_sampler.h"

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

// Sharded update of row-sparse (embedding) tables. Every rank holds every table whole, but each
// row has one owner: the rank whose block OwnedRows() holds it. A step's sparse gradients are
// summed on their owners only (ReduceScatterSparseRows), each owner updates its own rows, and the
// updated rows are sent to everybody (UpdatedRowsShare). Every rank thus does 1/N of the summing
// and of the optimiser's work, instead of all of it, and each touched row crosses the network
// twice (its gradient to the owner, its new value back) instead of once per rank that touched it.
// Optimiser state (Adam's moments) is up to date in owned rows only; GatherOwnedRows collects it.

// The rows [begin, end) of a table of `rows` rows that `rank` of `world` owns: contiguous blocks
// of ceil(rows / world) rows, the last ones shorter or empty. Hashed n-gram ids fall evenly into
// blocks. Not collective.
Slice OwnedRows(int64_t rows, int rank, int world);

// For table i, rank r passes its local gradient local[i] (a sparse COO tensor with one sparse
// dimension, coalesced or not, or an undefined tensor when its batch touched no row) and gets back
// a coalesced sparse tensor of the rows it owns that any rank touched, each summed over the ranks
// (in rank order, so the sum is the same whatever rank computes it). Rows are merged on the rank
// that touched them before they travel, and only touched rows travel: a 2^18 x 64 table's dense
// gradient is 64 MiB, a batch touches a few thousand rows. All tables together cost two
// collectives: the row counts, then one all-to-all of every table's indices and values packed as
// bytes; a rank's rows of its own block do not travel, and the received rows are summed where they
// arrived (no copy into one tensor first). tables[i] gives the shape, dtype and device.
std::vector<torch::Tensor> ReduceScatterSparseRows(const std::vector<torch::Tensor>& local,
                                                   const std::vector<torch::Tensor>& tables,
                                                   Communicator& comm);

// Sends the rows each rank changed (its own rows, as ReduceScatterSparseRows gave them) to every
// rank, in two halves so that the optimiser writes this rank's new rows straight into the message:
// read back from the tables they would cost a second pass over rows scattered over tens of
// megabytes. Two collectives for all tables: the row counts (constructor), then one all-gather of
// indices and rows, in place (Finish). On one rank there is nothing to send: both are no-ops.
class UpdatedRowsShare {
 public:
  // COLLECTIVE. updated[i]: the indices (int64, 1-D) of the rows of tables[i] this rank changes.
  // tables must outlive the object.
  UpdatedRowsShare(const std::vector<torch::Tensor>& updated,
                   const std::vector<torch::Tensor>& tables, Communicator& comm);
  UpdatedRowsShare(const UpdatedRowsShare&) = delete;
  UpdatedRowsShare& operator=(const UpdatedRowsShare&) = delete;

  // Not collective. Where this rank's new values of table i go before Finish(): a contiguous
  // [updated[i].numel(), cols] tensor of the table's dtype, row k for row updated[i][k]. Undefined
  // on one rank.
  const torch::Tensor& values(size_t i) const { return values_.at(i); }

  // COLLECTIVE. Afterwards every rank's tables hold every rank's changed rows (its own rows are
  // not written: they are the caller's, already in its tables).
  void Finish();

 private:
  std::vector<torch::Tensor> tables_;
  Communicator& comm_;
  std::vector<int64_t> rows_;   // [rank][table]: rows each rank sends
  std::vector<int64_t> bytes_;  // [rank]: its block of the message
  torch::Tensor message_;       // every rank's block, in rank order (uint8)
  std::vector<torch::Tensor> values_;
};

// Copies each rank's owned block (OwnedRows) of every table into rank 0's tables, so that rank 0
// holds the whole of a row-sharded state (to write a checkpoint). One gather per table, received
// in place. Tables must be contiguous.
void GatherOwnedRows(const std::vector<torch::Tensor>& tables, Communicator& comm);

// Differentiable all-gather of rows: returns the concatenation, in rank order, of every rank's
// `local` [counts[rank], ...] tensor. counts (size comm.size()) must be the same on every rank;
// callers know them (e.g. from SliceOf) so no count exchange is needed. Backward all-reduces
// (sums) the gradient of the gathered tensor and returns this rank's rows: the gradient of the
// SUM over ranks of each rank's loss, which is what distributed contrastive losses need when each
// rank's loss scores its own queries against everybody's rows.
torch::Tensor AllGatherRows(const torch::Tensor& local, const std::vector<int64_t>& counts,
                            Communicator& comm);

}  // namespace recsys::dist
