#include "serve/lexical_router.h"

#include "core/error.h"
#include "shards/top_k.h"

namespace recsys::serve {
namespace {
constexpr int kRoot = 0;
// Message: [valid, k, nq, offsets (nq + 1), terms].
constexpr size_t kHeader = 3;
}  // namespace

LexicalRouter::LexicalRouter(const shards::LexicalShard& shard, dist::Communicator& comm)
    : shard_(shard), comm_(comm) {}

shards::SearchResult LexicalRouter::Search(const std::vector<std::string>& texts, int64_t k) {
  const int ranks = comm_.size();
  const bool root = comm_.rank() == kRoot;
  // 1.
  std::vector<int64_t> message(kHeader, 0);
  std::string invalid;
  if (root) {
    if (k < 1) {
      invalid = "lexical search: need k >= 1, got k=" + std::to_string(k);
    } else {
      const shards::TermQueries q = shard_.QueryTerms(texts);
      message[0] = 1;
      message[1] = k;
      message[2] = q.size();
      message.insert(message.end(), q.offsets.begin(), q.offsets.end());
      message.insert(message.end(), q.terms.begin(), q.terms.end());
    }
  }
  // 2.
  dist::Broadcast(comm_, message, kRoot);
  if (message[0] == 0) {
    if (root) RECSYS_THROW(invalid);
    RECSYS_THROW("lexical search: rank " << kRoot << " rejected the search arguments");
  }
  k = message[1];
  const int64_t nq = message[2];
  shards::TermQueries queries;
  queries.offsets.assign(message.begin() + kHeader, message.begin() + kHeader + nq + 1);
  queries.terms.assign(message.begin() + kHeader + nq + 1, message.end());

  // 3.
  std::vector<int64_t> ids(nq * k);
  std::vector<float> scores(nq * k);
  shard_.Scan(queries, k, ids.data(), scores.data(), &accumulators_);

  // 4.
  std::vector<int64_t> counts;
  std::vector<int64_t> all_ids;
  std::vector<float> all_scores;
  if (root) {
    counts.assign(ranks, nq * k);
    all_ids.resize(ranks * nq * k);
    all_scores.resize(ranks * nq * k);
  }
  comm_.GatherV(ids.data(), ids.size(), all_ids.data(), counts, dist::DataType::kInt64, kRoot);
  comm_.GatherV(scores.data(), scores.size(), all_scores.data(), counts, dist::DataType::kFloat32,
                kRoot);

  // 5.
  shards::SearchResult result;
  if (!root) return result;
  result.nq = nq;
  result.k = k;
  result.ids.resize(nq * k);
  result.scores.resize(nq * k);
  shards::TopK top(k);
  for (int64_t q = 0; q < nq; ++q) {
    for (int r = 0; r < ranks; ++r) {
      const int64_t at = (r * nq + q) * k;
      for (int64_t j = 0; j < k && all_ids[at + j] >= 0; ++j) {
        top.Push(all_scores[at + j], all_ids[at + j]);
      }
    }
    top.Extract(result.ids.data() + q * k, result.scores.data() + q * k);
  }
  return result;
}

}  // namespace recsys::serve
