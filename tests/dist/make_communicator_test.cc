#include "dist/make_communicator.h"

#include <gtest/gtest.h>
#include <mpi.h>

#include "recsys/config.h"
#include "tests/dist/dist_test_util.h"

namespace recsys::dist {
namespace {

using testing_util::ExpectErrorContaining;

TEST(ParseBackendTest, KnownNamesAndAClearError) {
  EXPECT_EQ(ParseBackend("mpi"), Backend::kMpi);
  EXPECT_EQ(ParseBackend("nccl"), Backend::kNccl);
  ExpectErrorContaining([] { ParseBackend("gloo"); },
                        {"unknown communicator backend 'gloo'", "\"mpi\" or \"nccl\""});
}

TEST(MakeCommunicatorTest, Mpi) {
  const std::unique_ptr<Communicator> comm = MakeCommunicator(Backend::kMpi, MPI_COMM_WORLD);
  int rank = -1;
  int size = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  EXPECT_EQ(comm->backend(), "mpi");
  EXPECT_EQ(comm->rank(), rank);
  EXPECT_EQ(comm->size(), size);
  EXPECT_EQ(AllReduceValue(*comm, comm->rank() + 1), size * (size + 1) / 2);
}

TEST(MakeCommunicatorTest, NcclRefusedClearlyWhereUnavailable) {
  if (NcclAvailable()) GTEST_SKIP() << "NCCL and a GPU are here: nccl_communicator_test runs";
  // Either no NCCL in the build, or no device: the same on every rank of this one host.
  ExpectErrorContaining([] { MakeCommunicator(Backend::kNccl, MPI_COMM_WORLD); },
                        {RECSYS_WITH_NCCL ? "no usable CUDA device" : "this build has no NCCL"});
}

}  // namespace
}  // namespace recsys::dist
