#pragma once
// The mean of each text's rows of an embedding table (EmbeddingBag, mode mean), with a gradient
// that is already a coalesced row-sparse tensor.
//
// torch::nn::EmbeddingBag's sparse gradient holds one row per id OCCURRENCE: a batch of 512
// titles of ~60 n-gram ids gives 30K rows of 64 floats, 8 MB written in backward and read again
// to merge the equal rows. This backward sums each distinct id's share of the output gradient
// directly from the [bags, width] output gradient (a few hundred kilobytes, which stay in cache)
// and returns one row per distinct id, in id order, which is what the trainer's sparse exchange
// sends: nothing is left to merge.

#include <torch/torch.h>

namespace recsys::models {

// weight [rows, width]; ids (int64) the concatenated texts' ids; offsets (int64, one per text)
// where each text starts in ids, as torch::embedding_bag takes them. Returns [texts, width]: each
// text's mean row (zeros for an empty text). The gradient of weight is a sparse tensor with one row
// per distinct id, in id order.
torch::Tensor EmbeddingBagMean(const torch::Tensor& weight, const torch::Tensor& ids,
                               const torch::Tensor& offsets);

}  // namespace recsys::models
