#include "dist/collective_try.h"

#include <gtest/gtest.h>
#include <mpi.h>

#include <string>

#include "core/error.h"
#include "dist/mpi_communicator.h"

namespace recsys::dist {
namespace {

// What every rank sees when `failing` ranks throw "broken on R" (nothing when none do).
std::string Outcome(Communicator& comm, const std::vector<int>& failing) {
  try {
    CollectiveTry(comm, [&] {
      for (int r : failing) {
        if (r == comm.rank()) throw Error("broken on " + std::to_string(r));
      }
    });
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(CollectiveTryTest, EveryRankThrowsTheLowestFailingRanksMessage) {
  MpiCommunicator comm(MPI_COMM_WORLD);
  const int last = comm.size() - 1;
  EXPECT_EQ(Outcome(comm, {}), "");
  const std::string prefix = comm.size() > 1 ? "rank " + std::to_string(last) + ": " : "";
  EXPECT_EQ(Outcome(comm, {last}), prefix + "broken on " + std::to_string(last));
  // Several failures: the lowest rank's message, on every rank.
  const std::string first = comm.size() > 1 ? "rank 0: " : "";
  EXPECT_EQ(Outcome(comm, {last, 0}), first + "broken on 0");
  // The communicator is usable afterwards: nobody was left inside a collective.
  EXPECT_EQ(AllReduceValue(comm, 1), comm.size());
}

}  // namespace
}  // namespace recsys::dist
