#pragma once
// Distributed spherical k-means: the coarse quantiser of the index.
//
// Protocol. Every rank calls TrainKMeans with its block of the global training set, which is the
// concatenation of the ranks' blocks in rank order; a point's global position is its place in it.
//  1. Initial centroids: the k global positions whose keys HashCombine(seed, position) are the
//     smallest, in key order. Each rank proposes its k smallest with their vectors; one
//     all-gather; every rank picks the same k.
//  2. Each iteration, every rank assigns its points to the nearest centroid (largest inner
//     product, ties to the smaller centroid) in blocks of kAssignBlockRows, one sgemm per block,
//     and adds each point to its cluster's sum in fixed point (int64, units of 2^-30) and count.
//  3. One all-reduce of sums and counts (int64) and one of the objective (double).
//  4. Every rank computes the same new centroids: each non-empty cluster's mean, L2-normalised.
//  5. Empty clusters, in index order, each take a perturbed copy of the centroid of the currently
//     largest cluster (ties: smaller index) and half its count (FAISS's split, made
//     deterministic).
//
// What is equal for any number of ranks. Integer sums and counts reduce exactly in any order and
// every rank derives the centroids from them with the same arithmetic, so the centroids depend
// only on the assignments. A point's scores come from the one sgemm over its block, so they are a
// function of the block's contents; when every rank's block starts at a multiple of
// kAssignBlockRows (BlockAlignedSlice makes such blocks, and TrainKMeans refuses others) the
// blocks are the same whatever the number of ranks. Hence the initial centroids, assignments,
// counts and centroids are bitwise identical on 1, 2, 4, ... ranks for the same seed. Only the
// objective, a double sum whose order follows the split, is equal to rounding (about 1e-15
// relative). Fixed point costs nothing measurable: a 2^-30 step is under a hundredth of a float
// ulp of a unit vector's typical component.

#include <cstdint>
#include <vector>

#include "dist/communicator.h"
#include "dist/distributed_sampler.h"

namespace recsys::shards {

struct KMeansOptions {
  int64_t k = 0;               // clusters: 1 <= k <= the global number of points
  int iterations = 20;         // >= 0; 0 returns the initial centroids
  uint64_t seed = 1;           // picks the initial centroids
  bool show_progress = false;  // a progress line on rank 0
};

struct KMeansResult {
  std::vector<float> centroids;  // size k * d, L2-normalised
  // objective[t]: sum over the training points of 1 - <x, c(x)> (cosine distance to the assigned
  // centroid; half the squared L2 distance for unit vectors) in iteration t, that is for the
  // centroids before its update (as FAISS reports it); objective[0] is the initial centroids'.
  // Size iterations.
  std::vector<double> objective;
  int64_t splits = 0;  // empty clusters repaired, over all iterations
};

// Rows [begin, end) of part `part` when `rows` rows are split into `parts` ranges that start on
// multiples of kAssignBlockRows (the last ends at rows); some ranges are empty when rows is small.
dist::Slice BlockAlignedSlice(int64_t rows, int parts, int part);

// COLLECTIVE. points: this rank's block (size n * d) of the global training set, L2-normalised
// (norms within 1e-3 of 1). Every rank's block must start at a multiple of kAssignBlockRows
// (BlockAlignedSlice). Returns the same result on every rank. Throws recsys::Error, on every
// rank, for bad options, unaligned blocks or unnormalised points.
KMeansResult TrainKMeans(const float* points, int64_t n, int64_t d, const KMeansOptions& options,
                         dist::Communicator& comm);

}  // namespace recsys::shards
