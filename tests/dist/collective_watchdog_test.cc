// The --collective-timeout syntax. (The deadline itself is tested with a real stopped process
// under mpiexec: collective_stall_test.sh.)

#include "dist/collective_watchdog.h"

#include <gtest/gtest.h>

#include "tests/dist/dist_test_util.h"

namespace recsys::dist {
namespace {

using testing_util::ExpectErrorContaining;

TEST(CollectiveTimeoutsTest, OneNumberForEveryKindThenOverrides) {
  EXPECT_EQ(CollectiveTimeouts().of(CollectiveKind::kAllReduce),
            CollectiveTimeouts::kDefaultSeconds);
  const CollectiveTimeouts uniform = ParseCollectiveTimeouts("0");
  for (int k = 0; k < kNumCollectiveKinds; ++k) EXPECT_EQ(uniform.seconds[k], 0);
  const CollectiveTimeouts mixed = ParseCollectiveTimeouts("300,alltoall=600,barrier=1.5");
  EXPECT_EQ(mixed.of(CollectiveKind::kAllToAll), 600);
  EXPECT_EQ(mixed.of(CollectiveKind::kBarrier), 1.5);
  EXPECT_EQ(mixed.of(CollectiveKind::kGather), 300);
  EXPECT_STREQ(Name(CollectiveKind::kAllGather), "allgather");
}

TEST(CollectiveTimeoutsTest, BadTextIsRefusedNamingThePart) {
  for (const char* bad : {"", "-1", "abc", "1e999", "nan", "300,", "300,barrier=nan"}) {
    ExpectErrorContaining([&] { ParseCollectiveTimeouts(bad); }, {"collective timeout"});
  }
  ExpectErrorContaining([] { ParseCollectiveTimeouts("300,foo=3"); },
                        {"'foo=3' is not KIND=SECONDS", "allreduce, broadcast"});
  ExpectErrorContaining([] { ParseCollectiveTimeouts("300,barrier"); },
                        {"'barrier' is not KIND=SECONDS"});
  ExpectErrorContaining([] { ParseCollectiveTimeouts("-1"); },
                        {"'-1' is not a number of seconds >= 0"});
}

}  // namespace
}  // namespace recsys::dist
