#pragma once
// recsys_train --stage index, after the vector index: dataset.h5 in, the lexical (BM25) index
// beside the vector index out.

#include <string>

#include "dist/communicator.h"
#include "shards/lexical_manifest.h"

namespace recsys::shards {

struct LexicalBuildOptions {
  std::string dataset_path;  // dataset.h5: the product titles
  std::string index_dir;     // RUN/index, holding a complete vector index (manifest.h5)
  Bm25Parameters bm25;
  Stemmer stemmer = Stemmer::kPlural;
};

// COLLECTIVE. Builds the lexical index of options.dataset_path's titles into options.index_dir
// (layout in shards/lexical_manifest.h) on comm's ranks:
//  1. every rank reads manifest.h5 (its rows must equal the dataset's products) and computes the
//     cluster owners for comm.size() ranks (BalanceClusters, as the vector index does); rank r
//     reads the product ids of the clusters it owns from the vector shard files;
//  2. every rank reads the dataset and turns its products' titles into terms (LexicalTerms);
//  3. the global dictionary: each rank's distinct terms gathered to rank 0, sorted, broadcast;
//  4. one all-reduce of the document frequencies, the title lengths and the product count;
//  5. each rank writes lexical-shard-<rank>-of-<size>.h5; the build id is a hash of every
//     rank's contents (gathered) and the dictionary, so it changes when anything does;
//  6. once every shard is written, rank 0 writes lexical.h5 (and so the index is complete).
// Returns the manifest written, on every rank. Errors (no vector index, a dataset of another
// size, bad parameters, an unwritable directory) are thrown on every rank.
LexicalManifest BuildLexicalIndex(const LexicalBuildOptions& options, dist::Communicator& comm);

}  // namespace recsys::shards
