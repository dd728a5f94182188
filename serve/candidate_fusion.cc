#include "serve/candidate_fusion.h"

#include <algorithm>
#include <unordered_map>

#include "core/error.h"

namespace recsys::serve {

RecallMode ParseRecallMode(const std::string& name) {
  if (name == "dense") return RecallMode::kDense;
  if (name == "lexical") return RecallMode::kLexical;
  if (name == "hybrid") return RecallMode::kHybrid;
  RECSYS_THROW("unknown recall mode '" << name << "' (choose dense, lexical or hybrid)");
}

const char* RecallModeName(RecallMode mode) {
  switch (mode) {
    case RecallMode::kDense:
      return "dense";
    case RecallMode::kLexical:
      return "lexical";
    case RecallMode::kHybrid:
      return "hybrid";
  }
  return "?";
}

Fusion ParseFusion(const std::string& name) {
  if (name == "rrf") return Fusion::kReciprocalRank;
  if (name == "score") return Fusion::kScore;
  RECSYS_THROW("unknown fusion '" << name << "' (choose rrf or score)");
}

const char* FusionName(Fusion fusion) {
  return fusion == Fusion::kReciprocalRank ? "rrf" : "score";
}

std::vector<Candidate> FuseCandidates(const shards::SearchResult* dense,
                                      const shards::SearchResult* lexical, int64_t q,
                                      const FusionOptions& options) {
  RECSYS_CHECK(options.rrf_k > 0, "fusion: rrf_k must be positive, is " << options.rrf_k);
  RECSYS_CHECK(options.lexical_weight >= 0,
               "fusion: the lexical weight must not be negative, is " << options.lexical_weight);
  for (const shards::SearchResult* list : {dense, lexical}) {
    RECSYS_CHECK(
        list == nullptr || (q >= 0 && q < list->nq),
        "fusion: query " << q << " outside the " << (list ? list->nq : 0) << " queries searched");
  }
  const bool both = dense != nullptr && lexical != nullptr;
  std::vector<Candidate> out;
  std::unordered_map<int64_t, size_t> slot;  // product -> its place in out
  auto add = [&](const shards::SearchResult& list, bool is_dense) {
    const int64_t n = list.Count(q);
    if (n == 0) return;
    const float* scores = &list.scores[q * list.k];
    const int64_t* ids = &list.ids[q * list.k];
    // Lists are sorted best first, so the extremes are the ends.
    const float best = scores[0], worst = scores[n - 1];
    const double weight = is_dense ? 1.0 : options.lexical_weight;
    for (int64_t i = 0; i < n; ++i) {
      auto [it, inserted] = slot.try_emplace(ids[i], out.size());
      if (inserted) out.push_back(Candidate{ids[i]});
      Candidate& c = out[it->second];
      const auto rank = static_cast<int32_t>(i + 1);
      (is_dense ? c.dense_score : c.lexical_score) = scores[i];
      (is_dense ? c.dense_rank : c.lexical_rank) = rank;
      if (!both) {
        c.score = scores[i];
      } else if (options.fusion == Fusion::kReciprocalRank) {
        c.score += weight / (options.rrf_k + rank);
      } else {
        c.score += weight *
                   (best > worst ? (static_cast<double>(scores[i]) - worst) / (best - worst) : 1.0);
      }
    }
  };
  if (dense) add(*dense, true);
  if (lexical) add(*lexical, false);
  std::sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) {
    return a.score != b.score ? a.score > b.score : a.product < b.product;
  });
  return out;
}

}  // namespace recsys::serve
