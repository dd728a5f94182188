#pragma once
// The recall stage's candidate set: the union of the vector index's top M and the lexical index's
// top M for a query, ordered by a fused score. Pure functions, not collective.

#include <cstdint>
#include <string>
#include <vector>

#include "shards/search_result.h"

namespace recsys::serve {

// Which lists a query's candidates come from.
enum class RecallMode { kDense, kLexical, kHybrid };
RecallMode ParseRecallMode(const std::string& name);  // "dense" | "lexical" | "hybrid"; throws
const char* RecallModeName(RecallMode mode);

// How a hybrid union is ordered.
//  kReciprocalRank  score = sum over the lists holding the product of w / (rrf_k + rank), rank
//                   1-based (Cormack et al. 2009; rrf_k = 60 there): needs no score scale.
//  kScore           each list's scores min-max normalised to [0, 1] within the list (a list whose
//                   scores are all equal maps them to 1), times w, summed over the lists.
// w is 1 for the dense list and lexical_weight for the lexical one.
enum class Fusion { kReciprocalRank, kScore };
Fusion ParseFusion(const std::string& name);  // "rrf" | "score"; throws listing the choices
const char* FusionName(Fusion fusion);

// Defaults measured on both datasets (README, "Recall: measurements"): score fusion with the
// lexical list at half weight gave the best Recall@10 and NDCG@10 of the hybrid rows.
struct FusionOptions {
  Fusion fusion = Fusion::kScore;
  double rrf_k = 60;            // > 0
  double lexical_weight = 0.5;  // >= 0: the lexical list's weight against the dense list's 1
};

// One candidate product of a query, with what each recall source said about it.
struct Candidate {
  int64_t product = -1;      // dataset product row
  double score = 0;          // what candidates are ordered by (fused, or the one list's score)
  float dense_score = 0;     // cosine from the vector index; valid when dense_rank > 0
  float lexical_score = 0;   // BM25 from the lexical index; valid when lexical_rank > 0
  int32_t dense_rank = 0;    // 1-based rank in the dense list; 0 = not in it
  int32_t lexical_rank = 0;  // 1-based rank in the lexical list; 0 = not in it
};

// Query q's candidates from row q of dense and of lexical (either may be nullptr: that source is
// not used; padding entries, id -1, are skipped). With both lists: their union, each product once,
// scored by options.fusion. With one list: that list, scored by its own scores. Ordered by score
// descending, ties by smaller product row, so the order never depends on which list came first.
std::vector<Candidate> FuseCandidates(const shards::SearchResult* dense,
                                      const shards::SearchResult* lexical, int64_t q,
                                      const FusionOptions& options);

}  // namespace recsys::serve
