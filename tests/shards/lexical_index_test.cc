// The lexical index on disk and in memory: built and loaded on any number of ranks, every rank's
// products scored from global statistics (the union of the ranks' Scan results equals the BM25
// formula over the whole catalogue), the same owners as the vector index, a build on other ranks
// than the vector index's, and every missing, corrupt or mismatched file refused with its name,
// on every rank.

#include <gtest/gtest.h>
#include <mpi.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/hdf5_file.h"
#include "shards/ivf_shard.h"
#include "shards/lexical_builder.h"
#include "shards/lexical_shard.h"
#include "shards/top_k.h"
#include "tests/shards/lexical_test_util.h"
#include "tests/test_util.h"

namespace recsys::shards {
namespace {

using recsys::testing::ErrorOf;
using recsys::testing::Mentions;
using testing_util::DirectBm25;
using testing_util::ExpectNearResults;
using testing_util::RandomTitles;
using testing_util::SharedTempDir;
using testing_util::Words;
using testing_util::WriteLexicalFixture;

// COLLECTIVE: every rank scans the products it holds; the lists are all-gathered and merged with
// TopK on every rank (what the router does, without its protocol).
SearchResult ScanEverywhere(const LexicalShard& shard, const std::vector<std::string>& texts,
                            int64_t k, dist::Communicator& comm) {
  const TermQueries queries = shard.QueryTerms(texts);
  const int64_t nq = queries.size();
  std::vector<int64_t> ids(nq * k);
  std::vector<float> scores(nq * k);
  std::vector<double> acc;
  shard.Scan(queries, k, ids.data(), scores.data(), &acc);
  const std::vector<int64_t> all_ids = dist::AllGatherV(comm, ids);
  const std::vector<float> all_scores = dist::AllGatherV(comm, scores);
  SearchResult r;
  r.nq = nq;
  r.k = k;
  r.ids.resize(nq * k);
  r.scores.resize(nq * k);
  TopK top(k);
  for (int64_t q = 0; q < nq; ++q) {
    for (int rank = 0; rank < comm.size(); ++rank) {
      for (int64_t j = 0; j < k; ++j) {
        const int64_t at = (rank * nq + q) * k + j;
        if (all_ids[at] >= 0) top.Push(all_scores[at], all_ids[at]);
      }
    }
    top.Extract(r.ids.data() + q * k, r.scores.data() + q * k);
  }
  return r;
}

// Lucene's parameters, which the hand-computed value below uses.
constexpr Bm25Parameters kLucene{1.2, 0.75};

TEST(LexicalIndexTest, ScoresEqualTheFormulaOverTheWholeCatalogue) {
  SharedTempDir tmp;
  // Five titles worked through by hand: 7 terms, 5 with stemming ("boxes" -> "box", "cables" ->
  // "cable"); "BOXES, red!" tokenises to "boxes red".
  const std::vector<std::string> titles = {"red box", "Red BOXES, red!", "usb cable",
                                           "blue cables box", "red usb box box box"};
  const std::vector<std::string> queries = {"red box", "cables", "boxes usb",
                                            "red red", "kiwi",   ""};
  const std::vector<std::vector<std::string>> plain = {Words("red box"), Words("red boxes red"),
                                                       Words("usb cable"), Words("blue cables box"),
                                                       Words("red usb box box box")};
  const std::vector<std::vector<std::string>> stemmed = {
      Words("red box"), Words("red box red"), Words("usb cable"), Words("blue cable box"),
      Words("red usb box box box")};
  const std::vector<std::vector<std::string>> plain_queries = {
      Words("red box"), Words("cables"), Words("boxes usb"), Words("red red"), Words("kiwi"), {}};
  const std::vector<std::vector<std::string>> stemmed_queries = {
      Words("red box"), Words("cable"), Words("box usb"), Words("red red"), Words("kiwi"), {}};
  for (Stemmer stemmer : {Stemmer::kNone, Stemmer::kPlural}) {
    const std::string name = StemmerName(stemmer);
    const std::string dir =
        WriteLexicalFixture(tmp.Path(name), titles, stemmer, tmp.world(), 3, kLucene);
    const LexicalShard shard = LexicalShard::Load(dir, tmp.world());
    const bool stem = stemmer == Stemmer::kPlural;
    EXPECT_EQ(shard.manifest().terms.size(), stem ? 5u : 7u);
    EXPECT_EQ(shard.manifest().total_length, 15);
    const SearchResult got = ScanEverywhere(shard, queries, 4, tmp.world());
    const SearchResult want =
        DirectBm25(stem ? stemmed : plain, stem ? stemmed_queries : plain_queries, 4, kLucene);
    ExpectNearResults(got, want, name);
  }
  // One value by hand, plural stemmer, query "cables" -> "cable": N = 5, df = 2, avgdl = 3;
  // title 2 ("usb cable", length 2) has tf 1: idf ln(1 + 3.5 / 2.5) times 2.2 / (1 + 1.2 *
  // (0.25 + 0.75 * 2 / 3)).
  const LexicalShard shard = LexicalShard::Load(tmp.Path("plural/index"), tmp.world());
  const SearchResult got = ScanEverywhere(shard, {"cables"}, 2, tmp.world());
  EXPECT_EQ(got.ids[0], 2);
  EXPECT_FLOAT_EQ(got.scores[0],
                  static_cast<float>(std::log(1 + 3.5 / 2.5) * 2.2 / (1 + 1.2 * 0.75)));
  EXPECT_EQ(got.ids[1], 3);
}

TEST(LexicalIndexTest, RandomCatalogueEqualsTheFormulaWithTheVectorIndexOwners) {
  SharedTempDir tmp;
  const std::vector<std::string> titles = RandomTitles(700, 11);
  std::vector<std::vector<std::string>> terms;
  for (const std::string& t : titles) terms.push_back(LexicalTerms(t, Stemmer::kPlural));
  const std::vector<std::string> queries = RandomTitles(40, 12);
  std::vector<std::vector<std::string>> query_terms;
  for (const std::string& q : queries) query_terms.push_back(LexicalTerms(q, Stemmer::kPlural));
  const Bm25Parameters bm25{0.9, 0.4};
  const std::string dir =
      WriteLexicalFixture(tmp.Path("r"), titles, Stemmer::kPlural, tmp.world(), 9, bm25);
  const LexicalShard shard = LexicalShard::Load(dir, tmp.world());
  // The same owners as the vector index, and every product held by exactly one rank.
  const IvfShard vectors = IvfShard::Load(dir, {}, tmp.world());
  EXPECT_EQ(shard.owners(), vectors.owners());
  int64_t vector_rows = 0;
  for (int64_t c = 0; c < vectors.nlist(); ++c) {
    if (vectors.Owns(c)) vector_rows += vectors.Cluster(c).size;
  }
  EXPECT_EQ(dist::AllReduceValue(tmp.world(), shard.num_docs()), 700);
  EXPECT_EQ(shard.num_docs(), vector_rows);
  for (int64_t k : {int64_t{1}, int64_t{10}, int64_t{800}}) {
    ExpectNearResults(ScanEverywhere(shard, queries, k, tmp.world()),
                      DirectBm25(terms, query_terms, k, bm25), "k=" + std::to_string(k));
  }
}

TEST(LexicalIndexTest, BuiltOnOtherRanksThanTheVectorIndex) {
  SharedTempDir tmp;
  const std::vector<std::string> titles = RandomTitles(900, 17);
  std::vector<std::vector<std::string>> terms;
  for (const std::string& t : titles) terms.push_back(LexicalTerms(t, Stemmer::kPlural));
  const std::vector<std::string> queries = RandomTitles(30, 18);
  std::vector<std::vector<std::string>> query_terms;
  for (const std::string& q : queries) query_terms.push_back(LexicalTerms(q, Stemmer::kPlural));
  // Vector index (and a first lexical index) on rank 0 alone, then the lexical index again on
  // every rank: its ranks read their clusters' ids from the one vector shard file.
  if (auto one = testing_util::FirstRanks(1)) {
    WriteLexicalFixture(tmp.Path("mixed"), titles, Stemmer::kPlural, *one, 8);
  }
  tmp.world().Barrier();
  const std::string dir = tmp.Path("mixed/index");
  const LexicalManifest built =
      BuildLexicalIndex({tmp.Path("mixed/dataset.h5"), dir, {}, Stemmer::kPlural}, tmp.world());
  EXPECT_EQ(built.shards, tmp.world().size());
  const LexicalShard shard = LexicalShard::Load(dir, tmp.world());
  ExpectNearResults(ScanEverywhere(shard, queries, 20, tmp.world()),
                    DirectBm25(terms, query_terms, 20, {}), "vector index on 1 rank");
}

// Rewrites the lexical shard file at path with one term count changed and its checksums kept.
void CorruptOneCount(const std::string& path) {
  H5Reader r(path);
  std::vector<int32_t> tfs = r.Read<int32_t>("tfs");
  tfs[0] += 1;
  H5Writer w(path);
  for (const char* name : {"clusters", "offsets", "checksums", "ids", "term_offsets"}) {
    w.Write(name, r.Read<int64_t>(name));
  }
  w.Write("terms", r.Read<int32_t>("terms"));
  w.Write("tfs", tfs);
  w.SetFormat("recsys-lexical-shard", 1);
  for (const char* key : {"build_id", "shard", "shards"}) {
    w.SetAttribute("/", key, r.Int64Attribute("/", key));
  }
  w.Commit();
}

TEST(LexicalIndexTest, MissingCorruptOrMismatchedFilesAreRefusedNamingTheFile) {
  SharedTempDir tmp;
  dist::Communicator& world = tmp.world();
  const bool root = world.rank() == 0;
  const std::vector<std::string> titles = RandomTitles(300, 5);
  const std::string shard0 = "lexical-shard-0-of-" + std::to_string(world.size()) + ".h5";
  const auto fresh = [&](const std::string& name) {
    return WriteLexicalFixture(tmp.Path(name), titles, Stemmer::kPlural, world, 5);
  };
  const auto load_error = [&](const std::string& dir) {
    return ErrorOf([&] { LexicalShard::Load(dir, world); });
  };

  std::string dir = fresh("no_manifest");
  if (root) std::filesystem::remove(dir + "/lexical.h5");
  world.Barrier();
  EXPECT_TRUE(Mentions(load_error(dir), {dir + "/lexical.h5"}));

  dir = fresh("garbage_manifest");
  if (root) std::ofstream(dir + "/lexical.h5") << "not hdf5";
  world.Barrier();
  EXPECT_TRUE(Mentions(load_error(dir), {dir + "/lexical.h5"}));

  dir = fresh("no_shard");
  if (root) std::filesystem::remove(dir + "/" + shard0);
  world.Barrier();
  EXPECT_TRUE(Mentions(load_error(dir), {dir + "/" + shard0}));

  dir = fresh("corrupt_shard");
  if (root) CorruptOneCount(dir + "/" + shard0);
  world.Barrier();
  EXPECT_TRUE(Mentions(load_error(dir), {dir + "/" + shard0, "checksum mismatch"}));

  // A vector index rebuilt after the lexical one: its owners may differ, so the lexical index
  // must be rebuilt too.
  dir = fresh("rebuilt_vectors");
  testing_util::IntegerIndexData(300, 4, 5, 3).Write(dir, world);
  EXPECT_TRUE(Mentions(load_error(dir), {dir + "/lexical.h5", "another vector index"}));

  // A shard file of another build of the lexical index (a different stemmer).
  dir = fresh("other_build");
  if (root) std::filesystem::copy_file(dir + "/lexical.h5", dir + "/stemmed.h5");
  world.Barrier();
  BuildLexicalIndex({tmp.Path("other_build/dataset.h5"), dir, {}, Stemmer::kNone}, world);
  if (root) std::filesystem::rename(dir + "/stemmed.h5", dir + "/lexical.h5");
  world.Barrier();
  EXPECT_TRUE(Mentions(load_error(dir), {dir + "/" + shard0, "another build"}));

  // The builder refuses a dataset of another size and a missing vector index.
  dir = fresh("sizes");
  const std::string message = ErrorOf([&] {
    BuildLexicalIndex(
        {tmp.Path("no_shard/dataset.h5"), tmp.Path("nothing_here"), {}, Stemmer::kNone}, world);
  });
  EXPECT_TRUE(Mentions(message, {tmp.Path("nothing_here") + "/manifest.h5"}));
  testing_util::IntegerIndexData(301, 4, 5, 3).Write(tmp.Path("bigger"), world);
  EXPECT_TRUE(Mentions(ErrorOf([&] {
                         BuildLexicalIndex(
                             {tmp.Path("sizes/dataset.h5"), tmp.Path("bigger"), {}, Stemmer::kNone},
                             world);
                       }),
                       {"holds 300 products", "indexes 301"}));
  EXPECT_TRUE(Mentions(
      ErrorOf([&] {
        BuildLexicalIndex({tmp.Path("sizes/dataset.h5"), dir, {1.2, 2.0}, Stemmer::kNone}, world);
      }),
      {"0 <= b <= 1"}));
  // Still loadable after the refused builds.
  EXPECT_EQ(dist::AllReduceValue(world, LexicalShard::Load(dir, world).num_docs()), 300);
}

}  // namespace
}  // namespace recsys::shards
