#pragma once
// The four recall losses as pure functions of score matrices, each returning one loss per row
// (per query), so that a data-parallel caller can sum its rows and divide by the GLOBAL batch
// size. Which scores and negatives feed them is decided in models/recall_objective.cc.

#include <torch/torch.h>

namespace recsys::models {

// Contrastive softmax (InfoNCE). logits [b, c]; target [b] int64: the positive's column;
// excluded [b, c] bool: candidates left out of the softmax (a duplicate of the positive). Row i:
// -log(exp(l[i, t_i]) / sum over columns j not excluded of exp(l[i, j])). The target column must
// not be excluded.
torch::Tensor SoftmaxLoss(const torch::Tensor& logits, const torch::Tensor& target,
                          const torch::Tensor& excluded);

// Binary cross-entropy with soft targets, element-wise: logits and targets of one shape,
// targets in [0, 1]. -(t log sigmoid(l) + (1 - t) log(1 - sigmoid(l))).
torch::Tensor BinaryCrossEntropy(const torch::Tensor& logits, const torch::Tensor& targets);

// Pair-wise hinge. positive [b], negatives [b, c], excluded [b, c] bool. Row i: the mean over
// columns j not excluded of max(0, margin - positive[i] + negatives[i, j]); 0 when every column
// is excluded.
torch::Tensor HingeLoss(const torch::Tensor& positive, const torch::Tensor& negatives,
                        const torch::Tensor& excluded, double margin);

// ListNet (top-one). logits [b, c]; gains [b, c] >= 0 with a positive sum over the columns not
// excluded; excluded [b, c] bool (padding). Row i: cross-entropy between the target
// distribution gains[i] / sum(gains[i]) and softmax(logits[i]), over the columns not excluded.
torch::Tensor ListNetLoss(const torch::Tensor& logits, const torch::Tensor& gains,
                          const torch::Tensor& excluded);

}  // namespace recsys::models
