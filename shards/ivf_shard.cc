#include "shards/ivf_shard.h"

#include <algorithm>
#include <iomanip>
#include <memory>

#include "core/error.h"
#include "core/log.h"
#include "dist/collective_try.h"
#include "shards/cluster_balance.h"
#include "shards/cluster_table.h"
#include "shards/inner_products.h"
#include "shards/shard_file.h"
#include "shards/top_k.h"

namespace recsys::shards {
namespace {
// One read from a shard file moves at most this many rows (bounds the temporary copy).
constexpr int64_t kMaxRowsPerRead = 1 << 18;
// Scan blocks: cluster rows scored at a time (256 KiB of 64-dim vectors, which stay in cache
// while every query probing the cluster scores them).
constexpr int64_t kRowBlock = 1024;
}  // namespace

IvfShard IvfShard::Load(const std::string& dir, const IndexLoadOptions& options,
                        dist::Communicator& comm) {
  IvfShard shard;
  IndexManifest& m = shard.manifest_;
  dist::CollectiveTry(comm, [&] {
    m = ReadManifest(dir);
    RECSYS_CHECK(
        options.expected_model_version.empty() || m.model_version == options.expected_model_version,
        ManifestPath(dir) << ": index built from embedding model '" << m.model_version
                          << "', expected '" << options.expected_model_version
                          << "'; rebuild the index for this model");
    RECSYS_CHECK(options.expected_dim <= 0 || m.dim == options.expected_dim,
                 ManifestPath(dir) << ": the index holds " << m.dim << "-dimensional vectors, the "
                                   << "queries are " << options.expected_dim << "-dimensional");
  });
  const int rank = comm.rank();
  shard.owners_ = BalanceClusters(m.cluster_sizes, comm.size());

  // Slots in (shard file, cluster) order, so that a file's consecutive clusters land next to
  // each other and are read in one go.
  std::vector<int64_t> mine;
  for (int64_t c = 0; c < m.nlist; ++c) {
    if (shard.owners_[c] == rank) mine.push_back(c);
  }
  std::stable_sort(mine.begin(), mine.end(),
                   [&](int64_t a, int64_t b) { return m.cluster_shard[a] < m.cluster_shard[b]; });
  shard.slot_of_.assign(m.nlist, -1);
  shard.offsets_.assign(1, 0);
  for (size_t s = 0; s < mine.size(); ++s) {
    shard.slot_of_[mine[s]] = static_cast<int64_t>(s);
    shard.offsets_.push_back(shard.offsets_.back() + m.cluster_sizes[mine[s]]);
  }
  shard.ids_.resize(shard.offsets_.back());
  shard.added_ids_.resize(mine.size());
  shard.added_vectors_.resize(mine.size());
  shard.vectors_.resize(shard.offsets_.back() * m.dim);

  dist::CollectiveTry(comm, [&] {
    for (int64_t f :
         ShardFilesToRead(m.shards, m.cluster_shard, shard.owners_, rank, comm.size())) {
      const ShardFileReader reader(dir, m, f);
      // Runs of consecutive table entries owned here; their slots are consecutive too.
      for (const TableRun& run : OwnedRuns(reader.table(), shard.owners_, rank, kMaxRowsPerRead)) {
        const int64_t at = shard.offsets_[shard.slot_of_[reader.table().clusters[run.first]]];
        reader.ReadClusters(run.first, run.count, shard.ids_.data() + at,
                            shard.vectors_.data() + at * m.dim);
      }
    }
  });
  if (rank == 0) {
    const std::vector<int64_t> loads = RankLoads(m.cluster_sizes, shard.owners_, comm.size());
    RECSYS_INFO("index " << dir << ": " << m.rows << " vectors, " << m.nlist << " clusters from "
                         << m.shards << " shard file(s) on " << comm.size()
                         << " rank(s); imbalance " << std::fixed << std::setprecision(3)
                         << Imbalance(loads));
  }
  return shard;
}

int64_t IvfShard::OwnedSlot(int64_t cluster) const {
  RECSYS_CHECK(cluster >= 0 && cluster < nlist() && slot_of_[cluster] >= 0,
               "cluster " << cluster << " is not owned by this rank");
  return slot_of_[cluster];
}

IvfShard::ClusterRows IvfShard::Cluster(int64_t cluster) const {
  const int64_t slot = OwnedSlot(cluster);
  const int64_t begin = offsets_[slot];
  return {ids_.data() + begin, vectors_.data() + begin * dim(), offsets_[slot + 1] - begin};
}

IvfShard::ClusterRows IvfShard::Added(int64_t cluster) const {
  const int64_t slot = OwnedSlot(cluster);
  const std::vector<int64_t>& ids = added_ids_[slot];
  return {ids.data(), added_vectors_[slot].data(), static_cast<int64_t>(ids.size())};
}

void IvfShard::Add(int64_t cluster, int64_t id, const float* vector) {
  const int64_t slot = OwnedSlot(cluster);
  RECSYS_CHECK(id >= manifest_.rows, "cannot add product row " << id << ": the index was built "
                                                               << "with rows 0.."
                                                               << manifest_.rows - 1);
  added_ids_[slot].push_back(id);
  added_vectors_[slot].insert(added_vectors_[slot].end(), vector, vector + dim());
  ++added_rows_;
}

void IvfShard::Scan(const float* queries, int64_t nq, std::vector<Probe> probes, int64_t k,
                    int64_t* ids, float* scores) const {
  const int64_t d = dim();
  std::sort(probes.begin(), probes.end(), [](const Probe& a, const Probe& b) {
    return a.cluster != b.cluster ? a.cluster < b.cluster : a.query < b.query;
  });
  std::vector<TopK> tops(nq, TopK(k));
  std::vector<float> block_scores(kRowBlock);
  for (size_t run = 0; run < probes.size();) {
    size_t run_end = run;
    while (run_end < probes.size() && probes[run_end].cluster == probes[run].cluster) ++run_end;
    for (size_t i = run; i < run_end; ++i) {
      const int32_t q = probes[i].query;
      RECSYS_CHECK(q >= 0 && q < nq, "probe of query " << q << " in a batch of " << nq);
    }
    // A block of the cluster's rows stays in cache while every query probing it scores it, one
    // matrix-vector product per query: a (query, vector) score is the same arithmetic whatever
    // else the batch holds, so a query's results never depend on the other queries.
    for (const ClusterRows& rows : {Cluster(probes[run].cluster), Added(probes[run].cluster)}) {
      for (int64_t begin = 0; begin < rows.size; begin += kRowBlock) {
        const int64_t count = std::min(kRowBlock, rows.size - begin);
        for (size_t i = run; i < run_end; ++i) {
          const int32_t q = probes[i].query;
          InnerProducts(queries + q * d, 1, rows.vectors + begin * d, count, d,
                        block_scores.data());
          tops[q].PushBlock(block_scores.data(), rows.ids + begin, count);
        }
      }
    }
    run = run_end;
  }
  for (int64_t q = 0; q < nq; ++q) tops[q].Extract(ids + q * k, scores + q * k);
}

int64_t IvfShard::MemoryBytes() const {
  return static_cast<int64_t>(vectors_.size() * sizeof(float) + ids_.size() * sizeof(int64_t) +
                              offsets_.size() * sizeof(int64_t) +
                              manifest_.centroids.size() * sizeof(float) +
                              added_rows_ * (dim() * sizeof(float) + sizeof(int64_t)));
}

}  // namespace recsys::shards
