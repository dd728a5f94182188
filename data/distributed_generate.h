#pragma once
// The synthetic dataset generated with the work split over MPI ranks.

#include "data/catalog_generator.h"
#include "data/dataset.h"
#include "dist/communicator.h"

namespace recsys::data {

// COLLECTIVE over comm. Rank r generates the r-th contiguous slice of the products and of the
// queries (with their judged pairs); the slices are gathered to root in rank order. Because
// every row is a pure function of (options, row), the dataset on root is identical for any
// number of ranks. Returns the whole dataset on root and an empty one elsewhere. Shows progress
// on root when show_progress is set.
Dataset GenerateDistributed(const GeneratorOptions& options, dist::Communicator& comm, int root,
                            bool show_progress);

}  // namespace recsys::data
