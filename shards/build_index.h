#pragma once
// recsys_train --stage index: vectors.h5 in, a sharded index directory out.

#include <cstdint>
#include <string>

#include "dist/communicator.h"
#include "shards/index_manifest.h"

namespace recsys::shards {

struct IndexBuildOptions {
  std::string vectors_path;  // vectors.h5 (data/vector_file.h): N x d, L2-normalised rows
  std::string index_dir;     // output directory, e.g. RUN/index (created if needed)
  int64_t nlist = 0;         // clusters, 1 .. N; 0 picks round(sqrt(N))
  int iterations = 20;       // k-means iterations
  uint64_t seed = 1;         // picks the training sample and the initial centroids
  // Rows k-means trains on, approximately: whole blocks of kAssignBlockRows rows, each kept with
  // probability sample_rows / N by a hash of the seed and the block (so the sample does not
  // depend on the number of ranks). 0 picks min(N, 256 * nlist), FAISS's default cap. All rows
  // are used when the sample would hold fewer than nlist rows.
  int64_t sample_rows = 0;
  bool show_progress = true;  // k-means progress line on rank 0
};

// COLLECTIVE. Builds the index of options.vectors_path into options.index_dir (layout in
// shards/index_manifest.h) on comm's ranks:
//  1. rank r reads its block-aligned slice of the rows (BlockAlignedSlice) and checks that they
//     are L2-normalised;
//  2. distributed spherical k-means (shards/kmeans.h) on the sampled blocks of every slice;
//  3. WriteIndex (shards/index_writer.h): nearest-centroid assignment of every row, clusters
//     balanced over the ranks, one all-to-all, one shard file per rank, then the manifest, which
//     records vectors.h5's model version.
// The same file, options and seed give the same centroids and the same cluster of every row on
// any number of ranks (see kmeans.h); the shard files differ with the number of ranks. Returns
// the manifest written, on every rank. Errors (unreadable or unnormalised vectors, bad options,
// unwritable directory) are thrown on every rank.
IndexManifest BuildIndex(const IndexBuildOptions& options, dist::Communicator& comm);

}  // namespace recsys::shards
