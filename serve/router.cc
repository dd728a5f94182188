#include "serve/router.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/numeric_checks.h"
#include "shards/centroid_search.h"
#include "shards/top_k.h"

namespace recsys::serve {
namespace {
constexpr int kRoot = 0;
// Header: [valid, k, then per rank: queries, probes].
constexpr int kHeaderFixed = 2;

size_t RequestBytes(int64_t queries, int64_t probes, int64_t d) {
  return queries * d * sizeof(float) + probes * sizeof(shards::Probe);
}
// ids (int64), then scores (float) padded to 8 bytes, so that every rank's block in the gathered
// buffer starts 8-aligned.
size_t ResultBytes(int64_t queries, int64_t k) {
  return queries * k * sizeof(int64_t) + (queries * k * sizeof(float) + 7) / 8 * 8;
}
}  // namespace

Router::Router(const shards::IvfShard& shard, dist::Communicator& comm)
    : shard_(shard), comm_(comm) {}

shards::SearchResult Router::Search(const float* queries, int64_t nq, int64_t k, int64_t nprobe) {
  const int ranks = comm_.size();
  const bool root = comm_.rank() == kRoot;
  const int64_t d = shard_.dim();
  std::vector<int64_t> header(kHeaderFixed + 2 * ranks, 0);
  std::string invalid;
  // Root only: per rank, the global indices of the queries it gets and its probes.
  std::vector<std::vector<int64_t>> sent(ranks);
  std::vector<std::vector<shards::Probe>> probes(ranks);

  if (root) {
    if (k < 1 || nq < 0 || nprobe < 1 || (nq > 0 && queries == nullptr)) {
      invalid = "router: need k >= 1, nprobe >= 1 and nq >= 0 queries; got k=" + std::to_string(k) +
                ", nprobe=" + std::to_string(nprobe) + ", nq=" + std::to_string(nq);
    }
    if (invalid.empty()) {
      try {  // NaN scores cannot be ranked
        CheckFiniteRows("query vectors", queries, nq, d);
      } catch (const Error& e) {
        invalid = e.what();
      }
    }
    if (invalid.empty()) {
      // 1-2.
      nprobe = std::min(nprobe, shard_.nlist());
      const std::vector<int32_t> probed = shards::ProbeClusters(
          queries, nq, shard_.manifest().centroids.data(), shard_.nlist(), d, nprobe);
      const std::vector<int32_t>& owners = shard_.owners();
      std::vector<int32_t> local_index(ranks, -1);  // the query's index on each rank, or -1
      for (int64_t q = 0; q < nq; ++q) {
        std::fill(local_index.begin(), local_index.end(), -1);
        for (int64_t p = 0; p < nprobe; ++p) {
          const int32_t cluster = probed[q * nprobe + p];
          const int32_t owner = owners[cluster];
          if (local_index[owner] < 0) {
            local_index[owner] = static_cast<int32_t>(sent[owner].size());
            sent[owner].push_back(q);
          }
          probes[owner].push_back({cluster, local_index[owner]});
        }
      }
      header[1] = k;
      for (int r = 0; r < ranks; ++r) {
        header[kHeaderFixed + 2 * r] = static_cast<int64_t>(sent[r].size());
        header[kHeaderFixed + 2 * r + 1] = static_cast<int64_t>(probes[r].size());
      }
    }
    header[0] = invalid.empty() ? 1 : 0;
  }

  // 3.
  comm_.Broadcast(header.data(), header.size(), dist::DataType::kInt64, kRoot);
  if (header[0] == 0) {
    if (root) RECSYS_THROW(invalid);
    RECSYS_THROW("router: rank " << kRoot << " rejected the search arguments");
  }
  k = header[1];
  const int64_t my_queries = header[kHeaderFixed + 2 * comm_.rank()];
  const int64_t my_probes = header[kHeaderFixed + 2 * comm_.rank() + 1];

  // 4.
  std::vector<int64_t> send_counts(ranks, 0);
  std::vector<uint8_t> send;
  if (root) {
    size_t total = 0;
    for (int r = 0; r < ranks; ++r) {
      send_counts[r] = static_cast<int64_t>(RequestBytes(sent[r].size(), probes[r].size(), d));
      total += send_counts[r];
    }
    send.resize(total);
    uint8_t* out = send.data();
    for (int r = 0; r < ranks; ++r) {
      for (int64_t q : sent[r]) {
        std::memcpy(out, queries + q * d, d * sizeof(float));
        out += d * sizeof(float);
      }
      std::memcpy(out, probes[r].data(), probes[r].size() * sizeof(shards::Probe));
      out += probes[r].size() * sizeof(shards::Probe);
    }
  }
  std::vector<int64_t> recv_counts(ranks, 0);
  recv_counts[kRoot] = static_cast<int64_t>(RequestBytes(my_queries, my_probes, d));
  std::vector<uint8_t> request(recv_counts[kRoot]);
  comm_.AllToAllV(send.data(), send_counts, request.data(), recv_counts, dist::DataType::kUInt8);

  // 5.
  std::vector<float> my_query_vectors(my_queries * d);
  std::vector<shards::Probe> my_probe_list(my_probes);
  std::memcpy(my_query_vectors.data(), request.data(), my_queries * d * sizeof(float));
  std::memcpy(my_probe_list.data(), request.data() + my_queries * d * sizeof(float),
              my_probes * sizeof(shards::Probe));
  std::vector<uint8_t> answer(ResultBytes(my_queries, k));
  auto* answer_ids = reinterpret_cast<int64_t*>(answer.data());
  auto* answer_scores = reinterpret_cast<float*>(answer.data() + my_queries * k * sizeof(int64_t));
  shard_.Scan(my_query_vectors.data(), my_queries, std::move(my_probe_list), k, answer_ids,
              answer_scores);

  // 6.
  std::vector<int64_t> gather_counts;
  std::vector<uint8_t> gathered;
  if (root) {
    gather_counts.resize(ranks);
    for (int r = 0; r < ranks; ++r) {
      gather_counts[r] = static_cast<int64_t>(ResultBytes(header[kHeaderFixed + 2 * r], k));
    }
    size_t total = 0;
    for (int64_t c : gather_counts) total += c;
    gathered.resize(total);
  }
  comm_.GatherV(answer.data(), answer.size(), gathered.data(), gather_counts,
                dist::DataType::kUInt8, kRoot);

  // 7.
  shards::SearchResult result;
  if (!root) return result;
  result.nq = nq;
  result.k = k;
  result.ids.resize(nq * k);
  result.scores.resize(nq * k);
  std::vector<shards::TopK> merged(nq, shards::TopK(k));
  const uint8_t* block = gathered.data();
  for (int r = 0; r < ranks; ++r) {
    const int64_t n = static_cast<int64_t>(sent[r].size());
    const auto* ids = reinterpret_cast<const int64_t*>(block);
    const auto* scores = reinterpret_cast<const float*>(block + n * k * sizeof(int64_t));
    for (int64_t i = 0; i < n; ++i) {
      shards::TopK& top = merged[sent[r][i]];
      for (int64_t j = 0; j < k && ids[i * k + j] >= 0; ++j) {
        top.Push(scores[i * k + j], ids[i * k + j]);
      }
    }
    block += ResultBytes(n, k);
  }
  for (int64_t q = 0; q < nq; ++q) {
    merged[q].Extract(result.ids.data() + q * k, result.scores.data() + q * k);
  }
  return result;
}

}  // namespace recsys::serve
