#pragma once
// Embedding tables and their Adam moments on transparent huge pages.
//
// A batch touches some thousands of rows scattered over tables of tens of megabytes, so with
// 4 KiB pages nearly every row read or written (the lookup, the row-wise update, the rows shared
// after it) is a TLB miss as well as a cache miss. On 2 MiB pages the row-wise Adam update of a
// batch took half the time on this machine (5.1 -> 2.5 ms a step, recsys_bench_train --inputs
// dataset), and a whole training step 0.7 of it.

#include <torch/torch.h>

namespace recsys::models {

// A zero tensor shaped like `like`, in memory that Linux is asked (madvise) to back with huge
// pages, when `like` is a CPU tensor of at least kHugePageMinBytes; torch::zeros_like(like)
// otherwise. Where transparent huge pages are disabled it is ordinary memory, so this is never
// an error.
constexpr int64_t kHugePageMinBytes = int64_t{4} << 20;
torch::Tensor ZerosOnHugePages(const torch::Tensor& like);

// A copy of t on huge pages under the same condition; t itself otherwise.
torch::Tensor CopyToHugePages(const torch::Tensor& t);

}  // namespace recsys::models
