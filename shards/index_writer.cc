#include "shards/index_writer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <numeric>

#include "core/error.h"
#include "core/log.h"
#include "core/stable_hash.h"
#include "dist/collective_try.h"
#include "shards/centroid_search.h"
#include "shards/cluster_balance.h"
#include "shards/shard_file.h"

namespace recsys::shards {
namespace {

// One vector on its way to its owner: id, cluster, then d floats, packed as bytes.
constexpr size_t kRecordHeader = sizeof(int64_t) + sizeof(int32_t);

// A value no other build of any index shares, in practice: time, host process and seed.
int64_t NewBuildId(int64_t rows) {
  const auto now = std::chrono::system_clock::now().time_since_epoch().count();
  return static_cast<int64_t>(
      HashCombine(HashCombine(static_cast<uint64_t>(now), static_cast<uint64_t>(getpid())),
                  static_cast<uint64_t>(rows)));
}

}  // namespace

IndexManifest WriteIndex(const std::string& dir, const std::vector<float>& centroids,
                         const float* vectors, const int64_t* ids, int64_t n, int64_t d,
                         const IndexProvenance& provenance, dist::Communicator& comm) {
  const int ranks = comm.size();
  const int64_t nlist = d > 0 ? static_cast<int64_t>(centroids.size()) / d : 0;
  const int64_t rows = dist::AllReduceValue(comm, n);
  dist::CollectiveTry(comm, [&] {
    RECSYS_CHECK(d > 0 && nlist >= 1 && static_cast<int64_t>(centroids.size()) == nlist * d,
                 "index: " << centroids.size() << " centroid values do not make rows of " << d);
    for (int64_t i = 0; i < n; ++i) {
      RECSYS_CHECK(ids[i] >= 0 && ids[i] < rows,
                   "index: id " << ids[i] << " is outside [0, " << rows << ")");
    }
    if (comm.rank() == 0) std::filesystem::create_directories(dir);
  });

  // 1-2. Assignment, sizes, owners.
  std::vector<int32_t> assign(n);
  std::vector<float> score(n);
  NearestCentroids(vectors, n, centroids.data(), nlist, d, assign.data(), score.data());
  std::vector<int64_t> sizes(nlist, 0);
  for (int64_t i = 0; i < n; ++i) ++sizes[assign[i]];
  dist::AllReduce(comm, sizes);
  const std::vector<int32_t> owners = BalanceClusters(sizes, ranks);
  const std::vector<int64_t> loads = RankLoads(sizes, owners, ranks);
  if (comm.rank() == 0) {
    const int64_t empty = std::count(sizes.begin(), sizes.end(), 0);
    RECSYS_INFO("index: " << rows << " vectors in " << nlist << " clusters (" << empty
                          << " empty) over " << ranks << " rank(s); imbalance " << std::fixed
                          << std::setprecision(3) << Imbalance(loads) << " (largest rank "
                          << *std::max_element(loads.begin(), loads.end()) << " vectors)");
  }

  // 3. One all-to-all of the records, grouped by destination.
  const size_t record = kRecordHeader + d * sizeof(float);
  std::vector<int64_t> send_counts(ranks, 0);
  for (int64_t i = 0; i < n; ++i) send_counts[owners[assign[i]]] += record;
  std::vector<int64_t> cursor(ranks, 0);
  std::partial_sum(send_counts.begin(), send_counts.end() - 1, cursor.begin() + 1);
  std::vector<uint8_t> send(n * record);
  for (int64_t i = 0; i < n; ++i) {
    uint8_t* out = send.data() + cursor[owners[assign[i]]];
    cursor[owners[assign[i]]] += record;
    std::memcpy(out, ids + i, sizeof(int64_t));
    std::memcpy(out + sizeof(int64_t), &assign[i], sizeof(int32_t));
    std::memcpy(out + kRecordHeader, vectors + i * d, d * sizeof(float));
  }
  const std::vector<int64_t> recv_counts = dist::ExchangeCounts(comm, send_counts);
  std::vector<uint8_t> recv(std::accumulate(recv_counts.begin(), recv_counts.end(), int64_t{0}));
  comm.AllToAllV(send.data(), send_counts, recv.data(), recv_counts, dist::DataType::kUInt8);
  std::vector<uint8_t>().swap(send);

  // 4. This rank's shard, ordered by (cluster, id).
  const int64_t received = static_cast<int64_t>(recv.size() / record);
  std::vector<int64_t> recv_ids(received);
  std::vector<int32_t> recv_clusters(received);
  for (int64_t i = 0; i < received; ++i) {
    std::memcpy(&recv_ids[i], recv.data() + i * record, sizeof(int64_t));
    std::memcpy(&recv_clusters[i], recv.data() + i * record + sizeof(int64_t), sizeof(int32_t));
  }
  std::vector<int64_t> order(received);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return recv_clusters[a] != recv_clusters[b] ? recv_clusters[a] < recv_clusters[b]
                                                : recv_ids[a] < recv_ids[b];
  });
  ShardContents contents;
  contents.ids.resize(received);
  contents.vectors.resize(received * d);
  contents.offsets.push_back(0);
  for (int64_t c = 0; c < nlist; ++c) {
    if (owners[c] != comm.rank()) continue;
    contents.clusters.push_back(c);
    contents.offsets.push_back(contents.offsets.back() + sizes[c]);
  }
  for (int64_t i = 0; i < received; ++i) {
    contents.ids[i] = recv_ids[order[i]];
    std::memcpy(contents.vectors.data() + i * d, recv.data() + order[i] * record + kRecordHeader,
                d * sizeof(float));
  }

  IndexManifest manifest;
  manifest.rows = rows;
  manifest.dim = d;
  manifest.nlist = nlist;
  manifest.shards = ranks;
  manifest.build_id = NewBuildId(rows);
  comm.Broadcast(&manifest.build_id, 1, dist::DataType::kInt64, 0);
  manifest.model_version = provenance.model_version;
  manifest.build_info = provenance.build_info;
  manifest.centroids = centroids;
  manifest.cluster_sizes = sizes;
  manifest.cluster_shard = owners;
  dist::CollectiveTry(comm, [&] {
    RECSYS_CHECK(contents.offsets.back() == received,
                 "index: rank " << comm.rank() << " received " << received
                                << " vectors, its clusters hold " << contents.offsets.back());
    WriteShardFile(dir, contents, d, comm.rank(), ranks, manifest.build_id);
  });
  // 5. The manifest last.
  dist::CollectiveTry(comm, [&] {
    if (comm.rank() == 0) WriteManifest(dir, manifest);
  });
  return manifest;
}

}  // namespace recsys::shards
