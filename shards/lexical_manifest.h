#pragma once
// The lexical (BM25) index on disk, beside the vector index in RUN/index/ and sharded by the
// same cluster ownership (shards/index_manifest.h):
//
//   lexical.h5                         written last, by rank 0: the index is complete once it
//   exists
//     @format "recsys-lexical-index", @format_version 1
//     @build_id         a 64-bit hash of the whole index's contents, shared with its shard files
//     @vector_build_id  manifest.h5's build_id: the vector index whose cluster ownership it uses
//     @tokenizer "featurizer-words"   data::TextFeaturizer::Tokenize (shards/lexical_terms.h)
//     @stemmer "none" | "plural"      @k1, @b (BM25 parameters)
//     @products N  @total_length (sum of title lengths, in terms)  @nlist L  @shards S
//     terms          strings [V]  distinct, ascending bytewise: term t's id is t
//     df             int64 [V]    titles holding the term, in [1, N]
//     cluster_sizes  int64 [L]    products per cluster (manifest.h5's cluster_sizes)
//     cluster_shard  int32 [L]    the lexical shard file that holds each cluster
//
//   lexical-shard-<s>-of-<S>.h5        s = 0 .. S-1, written by rank s of the S ranks that built it
//     @format "recsys-lexical-shard", @format_version 1, @build_id, @shard s, @shards S
//     clusters      int64 [C]      the clusters this file holds, ascending
//     offsets       int64 [C + 1]  cluster clusters[i] is products [offsets[i], offsets[i + 1])
//     checksums     int64 [C]      per cluster, a stable hash of its products' rows
//     ids           int64 [n]      product rows (of dataset.h5), ascending within a cluster
//     term_offsets  int64 [n + 1]  product i's terms are [term_offsets[i], term_offsets[i + 1])
//     terms         int32 [P]      term ids, ascending within a product
//     tfs           int32 [P]      each term's count in the title (>= 1); their sum is |d|
//
// A forward index (per product, its terms) rather than posting lists: a rank of any later load
// reads only the clusters it owns, in contiguous runs, and inverts them in memory
// (shards/lexical_shard.h). Every file is written atomically (core/hdf5_file.h).

#include <cstdint>
#include <string>
#include <vector>

#include "shards/lexical_terms.h"

namespace recsys::shards {

struct LexicalManifest {
  int64_t build_id = 0;
  int64_t vector_build_id = 0;
  Stemmer stemmer = Stemmer::kPlural;
  Bm25Parameters bm25;
  int64_t products = 0;                // N
  int64_t total_length = 0;            // sum over the products of their title's term count
  int64_t shards = 0;                  // S
  std::vector<std::string> terms;      // size V, ascending
  std::vector<int64_t> df;             // size V
  std::vector<int64_t> cluster_sizes;  // size nlist
  std::vector<int32_t> cluster_shard;  // size nlist, values in [0, shards)

  int64_t nlist() const { return static_cast<int64_t>(cluster_sizes.size()); }
  // avgdl: total_length / products, or 1 for a catalogue without a single term.
  double MeanLength() const;
};

// "DIR/lexical.h5" and "DIR/lexical-shard-S-of-N.h5".
std::string LexicalManifestPath(const std::string& dir);
std::string LexicalShardPath(const std::string& dir, int64_t shard, int64_t shards);

// Writes DIR/lexical.h5 atomically. Not collective (rank 0 writes it).
void WriteLexicalManifest(const std::string& dir, const LexicalManifest& manifest);

// Reads and validates DIR/lexical.h5 (format, tokenizer, stemmer, BM25 parameters, sizes, terms
// ascending and distinct, df in [1, N], cluster sizes summing to N, shard numbers); throws
// recsys::Error naming the file. Not collective.
LexicalManifest ReadLexicalManifest(const std::string& dir);

}  // namespace recsys::shards
