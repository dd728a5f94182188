// The lexical router's exactness: BM25 on 1, 2 and 4 ranks equals the formula over the whole
// catalogue and equals a 1-rank search exactly (ids and scores), whichever number of ranks built
// the index and loaded it; queries with no known term, empty queries, empty batches, k above the
// matches; bad arguments thrown on every rank.

#include "serve/lexical_router.h"

#include <gtest/gtest.h>
#include <mpi.h>

#include <limits>
#include <string>
#include <vector>

#include "tests/shards/lexical_test_util.h"
#include "tests/test_util.h"

namespace recsys::serve {
namespace {

using recsys::testing::ErrorOf;
using recsys::testing::Mentions;
using shards::LexicalShard;
using shards::LexicalTerms;
using shards::SearchResult;
using shards::Stemmer;
using shards::testing_util::DirectBm25;
using shards::testing_util::ExpectNearResults;
using shards::testing_util::ExpectSameResults;
using shards::testing_util::FirstRanks;
using shards::testing_util::RandomTitles;
using shards::testing_util::SharedTempDir;
using shards::testing_util::WorldSize;
using shards::testing_util::WriteLexicalFixture;

// Queries from the titles' words, with words no title holds, an empty text and punctuation.
std::vector<std::string> TestQueries() {
  std::vector<std::string> q = RandomTitles(60, 21);
  q.push_back("kiwi mango");
  q.push_back("");
  q.push_back(" ,;! ");
  q.push_back("BOXES box kiwi");
  return q;
}

TEST(LexicalRouterTest, EqualsTheFormulaWithAndWithoutStemming) {
  SharedTempDir tmp;
  const std::vector<std::string> titles = RandomTitles(1500, 4);
  const std::vector<std::string> queries = TestQueries();
  const bool root = tmp.world().rank() == 0;
  for (Stemmer stemmer : {Stemmer::kNone, Stemmer::kPlural}) {
    const std::string name = shards::StemmerName(stemmer);
    const std::string dir = WriteLexicalFixture(tmp.Path(name), titles, stemmer, tmp.world(), 12);
    const LexicalShard shard = LexicalShard::Load(dir, tmp.world());
    LexicalRouter router(shard, tmp.world());
    std::vector<std::vector<std::string>> terms, query_terms;
    for (const std::string& t : titles) terms.push_back(LexicalTerms(t, stemmer));
    for (const std::string& q : queries) query_terms.push_back(LexicalTerms(q, stemmer));
    for (int64_t k : {int64_t{1}, int64_t{50}, int64_t{2000}}) {
      const SearchResult got = router.Search(queries, k);
      if (!root) {
        EXPECT_EQ(got.nq, 0);
        continue;
      }
      ExpectNearResults(got, DirectBm25(terms, query_terms, k, {}),
                        name + " k=" + std::to_string(k));
    }
  }
}

TEST(LexicalRouterTest, SameIdsAndScoresWhicheverRanksBuiltAndLoadedTheIndex) {
  SharedTempDir tmp;
  const std::vector<std::string> titles = RandomTitles(2500, 8);
  const std::vector<std::string> queries = TestQueries();
  const int64_t k = 25;
  const int world = WorldSize();
  SearchResult want;
  for (int builders = 1; builders <= world; ++builders) {
    const std::string dir = tmp.Path("on_" + std::to_string(builders));
    if (auto comm = FirstRanks(builders)) {
      WriteLexicalFixture(dir, titles, Stemmer::kPlural, *comm, 16);
    }
    for (int loaders = 1; loaders <= world; ++loaders) {
      auto comm = FirstRanks(loaders);
      if (!comm) continue;
      const LexicalShard shard = LexicalShard::Load(dir + "/index", *comm);
      LexicalRouter router(shard, *comm);
      const SearchResult got = router.Search(queries, k);
      if (comm->rank() != 0) continue;
      if (builders == 1 && loaders == 1) {
        want = got;
      } else {
        ExpectSameResults(
            got, want,
            std::to_string(builders) + " builders, " + std::to_string(loaders) + " loaders");
      }
    }
  }
}

TEST(LexicalRouterTest, PaddingSingleQueriesAndEmptyBatches) {
  SharedTempDir tmp;
  const std::vector<std::string> titles = {"red box", "blue box", "red shoe", "usb cable"};
  const std::string dir =
      WriteLexicalFixture(tmp.Path("small"), titles, Stemmer::kPlural, tmp.world(), 2);
  const LexicalShard shard = LexicalShard::Load(dir, tmp.world());
  LexicalRouter router(shard, tmp.world());
  const bool root = tmp.world().rank() == 0;
  const float inf = std::numeric_limits<float>::infinity();

  // k above the matches: "boxes" matches two products, the rest is padding; no known term and
  // the empty text give padding only.
  const SearchResult got = router.Search({"boxes", "kiwi", ""}, 5);
  if (root) {
    ASSERT_EQ(got.nq, 3);
    EXPECT_EQ(got.Count(0), 2);
    EXPECT_EQ(got.ids[0], 0);  // tied with product 1 (same length, same term): smaller row first
    EXPECT_EQ(got.ids[1], 1);
    EXPECT_EQ(got.scores[0], got.scores[1]);
    for (int64_t j = 2; j < 5; ++j) {
      EXPECT_EQ(got.ids[j], -1);
      EXPECT_EQ(got.scores[j], -inf);
    }
    for (int64_t j = 5; j < 15; ++j) {
      EXPECT_EQ(got.ids[j], -1);
      EXPECT_EQ(got.scores[j], -inf);
    }
  }
  // A single query equals its row of a batch.
  const std::vector<std::string> batch = {"red box", "usb", "red shoe box"};
  const SearchResult all = router.Search(batch, 3);
  for (int64_t q = 0; q < 3; ++q) {
    const SearchResult one = router.Search({batch[q]}, 3);
    if (!root) continue;
    for (int64_t j = 0; j < 3; ++j) {
      EXPECT_EQ(one.ids[j], all.ids[q * 3 + j]);
      EXPECT_EQ(one.scores[j], all.scores[q * 3 + j]);
    }
  }
  const SearchResult none = router.Search({}, 4);
  EXPECT_EQ(none.nq, 0);
  EXPECT_TRUE(none.ids.empty());
}

TEST(LexicalRouterTest, InvalidArgumentsThrowOnEveryRank) {
  SharedTempDir tmp;
  const std::string dir =
      WriteLexicalFixture(tmp.Path("x"), RandomTitles(200, 2), Stemmer::kPlural, tmp.world(), 3);
  const LexicalShard shard = LexicalShard::Load(dir, tmp.world());
  LexicalRouter router(shard, tmp.world());
  const bool root = tmp.world().rank() == 0;
  // Only rank 0's k counts: the others pass a valid one.
  const std::string message = ErrorOf([&] { router.Search({"red"}, root ? 0 : 5); });
  if (root) {
    EXPECT_TRUE(Mentions(message, {"need k >= 1", "k=0"}));
  } else {
    EXPECT_TRUE(Mentions(message, {"rank 0 rejected the search arguments"}));
  }
  // Still usable afterwards.
  const SearchResult got = router.Search({"red box"}, 3);
  if (root) {
    EXPECT_GT(got.Count(0), 0);
  }
}

}  // namespace
}  // namespace recsys::serve
