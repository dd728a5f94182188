#pragma once
// Communicator over NCCL on device buffers. Compiled only when RECSYS_WITH_NCCL is 1.

#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "dist/mpi_communicator.h"

// Opaque handles, declared exactly as nccl.h and the CUDA runtime declare them, so that users of
// this header need neither.
typedef struct ncclComm* ncclComm_t;
typedef struct CUstream_st* cudaStream_t;

namespace recsys::dist {

// How many CUDA devices this process sees (cudaGetDeviceCount); 0 when there is none or no usable
// driver. Not collective.
int CudaDeviceCount();

// Implements Communicator with NCCL. Every buffer pointer is a DEVICE pointer on device(); count
// vectors are host memory. Each call enqueues its work on this object's stream and waits for it
// (cudaStreamSynchronize) before returning: the caller may then read or reuse the buffers at once,
// and collectives stay ordered with the host-side MPI code around them, at the cost of overlapping
// nothing. The stream is a blocking stream, so work the caller queued on the legacy default stream
// (LibTorch's default) is finished before a call reads its input; buffers written on other
// streams must be synchronised by the caller first.
//
// Argument checks are those of MpiCommunicator (see there for which can fail on one rank only).
// An NCCL or CUDA failure throws recsys::Error; the communicator is then unusable.
class NcclCommunicator final : public Communicator {
 public:
  // COLLECTIVE over bootstrap. device: the CUDA device this rank uses; ranks on one host need
  // different devices. Rank 0 creates NCCL's unique id and broadcasts it over a duplicate of
  // bootstrap, which is kept for Barrier and for agreeing on errors while setting up. Throws on
  // every rank when any rank's device is not one it can see. timeouts: the bootstrap's
  // collective deadlines (MpiCommunicator).
  NcclCommunicator(MPI_Comm bootstrap, int device,
                   CollectiveTimeouts timeouts = CollectiveTimeouts());
  ~NcclCommunicator() override;

  int rank() const override { return bootstrap_.rank(); }
  int size() const override { return bootstrap_.size(); }
  std::string backend() const override { return "nccl"; }
  int device() const { return device_; }

  // kAverage is ncclAvg: integers sum then divide, truncating toward zero as MpiCommunicator
  // does; floats pre-multiply by 1/size(), which may differ from sum/size() in the last bit.
  void AllReduce(void* buffer, size_t count, DataType type, ReduceOp op) override;
  void Broadcast(void* buffer, size_t count, DataType type, int root) override;
  void GatherV(const void* send, size_t send_count, void* recv,
               const std::vector<int64_t>& recv_counts, DataType type, int root) override;
  void AllGatherV(const void* send, size_t send_count, void* recv,
                  const std::vector<int64_t>& recv_counts, DataType type) override;
  void AllGatherVInPlace(void* recv, const std::vector<int64_t>& recv_counts,
                         DataType type) override;
  void AllToAllV(const void* send, const std::vector<int64_t>& send_counts, void* recv,
                 const std::vector<int64_t>& recv_counts, DataType type) override;
  // An MPI barrier on the bootstrap communicator: each earlier call has already waited for its
  // device work, so passing it means every rank's collectives are complete.
  void Barrier() override;

 private:
  void Synchronize();

  MpiCommunicator bootstrap_;
  int device_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
};

}  // namespace recsys::dist
