// Writing an index on N ranks and loading it on M; the exact in-cluster scan; refusing missing,
// corrupt and foreign files with a message naming the file, on every rank.

#include "shards/ivf_shard.h"

#include <gtest/gtest.h>
#include <mpi.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/hdf5_file.h"
#include "shards/cluster_balance.h"
#include "tests/shards/shards_test_util.h"
#include "tests/test_util.h"

namespace recsys::shards {
namespace {

using recsys::testing::ErrorOf;
using recsys::testing::Mentions;
using testing_util::FirstRanks;
using testing_util::IntegerIndexData;
using testing_util::IntegerVectors;
using testing_util::SharedTempDir;
using testing_util::WorldSize;

constexpr int64_t kRows = 1500;
constexpr int64_t kDim = 8;
constexpr int64_t kNlist = 14;

TEST(IvfShardTest, WrittenOnAnyNumberOfRanksLoadsOnAnyNumberOfRanks) {
  SharedTempDir tmp;
  const IntegerIndexData f(kRows, kDim, kNlist, 1);
  const std::vector<std::vector<int64_t>> members = f.Members();
  ASSERT_TRUE(members[kNlist - 1].empty());
  const int world = WorldSize();
  for (int writers = 1; writers <= world; ++writers) {
    const std::string dir = tmp.Path("written_on_" + std::to_string(writers));
    if (auto comm = FirstRanks(writers)) {
      const IndexManifest m = f.Write(dir, *comm);
      EXPECT_EQ(m.rows, kRows);
      EXPECT_EQ(m.shards, writers);
    }
    for (int loaders = 1; loaders <= world; ++loaders) {
      auto comm = FirstRanks(loaders);
      if (!comm) continue;
      const IvfShard shard = IvfShard::Load(dir, {"model@1"}, *comm);
      const std::string what =
          "written on " + std::to_string(writers) + ", loaded on " + std::to_string(loaders);
      EXPECT_EQ(shard.manifest().model_version, "model@1");
      EXPECT_EQ(shard.manifest().build_info, "test centroids");
      EXPECT_EQ(shard.owners(), BalanceClusters(shard.manifest().cluster_sizes, loaders)) << what;
      int64_t held = 0;
      for (int64_t c = 0; c < kNlist; ++c) {
        EXPECT_EQ(static_cast<int64_t>(shard.manifest().cluster_sizes[c]),
                  static_cast<int64_t>(members[c].size()));
        ASSERT_EQ(shard.Owns(c), shard.owners()[c] == comm->rank()) << what;
        if (!shard.Owns(c)) continue;
        const IvfShard::ClusterRows rows = shard.Cluster(c);
        ASSERT_EQ(std::vector<int64_t>(rows.ids, rows.ids + rows.size), members[c]) << what;
        for (int64_t i = 0; i < rows.size; ++i) {
          ASSERT_TRUE(std::equal(rows.vectors + i * kDim, rows.vectors + (i + 1) * kDim,
                                 f.rows.begin() + rows.ids[i] * kDim))
              << what;
        }
        held += rows.size;
      }
      EXPECT_EQ(dist::AllReduceValue(*comm, held), kRows) << what;
    }
  }
}

TEST(IvfShardTest, ScanIsExactOverTheProbedClusters) {
  SharedTempDir tmp;
  const IntegerIndexData f(kRows, kDim, kNlist, 1);
  const std::vector<std::vector<int64_t>> members = f.Members();
  f.Write(tmp.Path("index"), tmp.world());
  dist::MpiCommunicator self(MPI_COMM_SELF);
  const IvfShard shard = IvfShard::Load(tmp.Path("index"), {}, self);
  const int64_t nq = 20;
  const std::vector<float> queries = IntegerVectors(nq, kDim, 2, 9);
  // Query q probes clusters q % nlist and (q + 5) % nlist (the last is empty); k of 400 is
  // larger than any cluster.
  std::vector<Probe> probes;
  std::vector<std::vector<bool>> allowed(nq, std::vector<bool>(kRows, false));
  for (int32_t q = 0; q < nq; ++q) {
    for (int32_t c : {q % 14, (q + 5) % 14}) {  // kNlist = 14
      probes.push_back({c, q});
      for (int64_t id : members[c]) allowed[q][id] = true;
    }
  }
  for (int64_t k : {int64_t{1}, int64_t{10}, int64_t{400}}) {
    SearchResult got;
    got.nq = nq;
    got.k = k;
    got.ids.resize(nq * k);
    got.scores.resize(nq * k);
    shard.Scan(queries.data(), nq, probes, k, got.ids.data(), got.scores.data());
    testing_util::ExpectSameResults(got,
                                    testing_util::BruteForce(queries, f.rows, kDim, k, &allowed),
                                    "k=" + std::to_string(k));
  }
}

// Rank 0 changes the files; everyone waits for it.
void OnRankZero(dist::Communicator& world, const std::function<void()>& change) {
  if (world.rank() == 0) change();
  world.Barrier();
}

void CopyIndex(const std::string& from, const std::string& to) {
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
}

TEST(IvfShardTest, BadFilesAreRefusedOnEveryRankNamingTheFile) {
  SharedTempDir tmp;
  dist::MpiCommunicator& world = tmp.world();
  const IntegerIndexData f(kRows, kDim, kNlist, 1);
  const std::string good = tmp.Path("good");
  f.Write(good, world);
  const int shards = world.size();
  const std::string last_shard =
      "shard-" + std::to_string(shards - 1) + "-of-" + std::to_string(shards) + ".h5";
  auto load = [&](const std::string& dir, const std::string& version = "") {
    return ErrorOf([&] { IvfShard::Load(dir, {version}, world); });
  };

  EXPECT_TRUE(Mentions(load(tmp.Path("nowhere")), {"nowhere/manifest.h5: no such file"}));
  EXPECT_TRUE(
      Mentions(load(good, "model@2"), {"good/manifest.h5", "'model@1'", "expected 'model@2'"}));

  const std::string missing = tmp.Path("missing");
  OnRankZero(world, [&] {
    CopyIndex(good, missing);
    std::filesystem::remove(missing + "/" + last_shard);
  });
  EXPECT_TRUE(Mentions(load(missing), {"missing/" + last_shard + ": no such file"}));

  const std::string garbage = tmp.Path("garbage");
  OnRankZero(world, [&] {
    CopyIndex(good, garbage);
    std::ofstream(garbage + "/" + last_shard, std::ios::binary) << "not an index";
  });
  EXPECT_TRUE(Mentions(load(garbage), {"garbage/" + last_shard + ": not an HDF5 file"}));

  const std::string truncated = tmp.Path("truncated");
  OnRankZero(world, [&] {
    CopyIndex(good, truncated);
    const std::string path = truncated + "/" + last_shard;
    std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  });
  EXPECT_TRUE(Mentions(load(truncated), {"truncated/" + last_shard}));

  // Flip one bit of the first stored vector: HDF5's Fletcher-32 checksum of the chunk fails the
  // read (core/hdf5_file.h), before the shard's own per-cluster checksum is computed.
  const std::string flipped = tmp.Path("flipped");
  OnRankZero(world, [&] {
    CopyIndex(good, flipped);
    const std::string path = flipped + "/shard-0-of-" + std::to_string(shards) + ".h5";
    const std::vector<float> first = H5Reader(path).ReadRows<float>("vectors", 0, 1);
    std::string bytes;
    {
      std::ifstream in(path, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    const std::string pattern(reinterpret_cast<const char*>(first.data()), kDim * sizeof(float));
    const size_t at = bytes.find(pattern);
    ASSERT_NE(at, std::string::npos);
    bytes[at + 1] ^= 0x40;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  });
  EXPECT_TRUE(Mentions(load(flipped), {"flipped/shard-0-of-", "Fletcher32 checksum"}));

  // A shard of another build of the same data.
  const std::string other = tmp.Path("other");
  f.Write(other, world);
  OnRankZero(world, [&] {
    std::filesystem::copy_file(good + "/" + last_shard, other + "/" + last_shard,
                               std::filesystem::copy_options::overwrite_existing);
  });
  EXPECT_TRUE(Mentions(load(other), {"other/" + last_shard, "belongs to another build"}));
}

}  // namespace
}  // namespace recsys::shards
