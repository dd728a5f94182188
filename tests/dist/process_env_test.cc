// ParseProcessEnv on hand-written environments, then CurrentProcessEnv() under the real mpiexec.

#include "dist/process_env.h"

#include <gtest/gtest.h>
#include <mpi.h>

#include <map>
#include <string>

#include "tests/dist/dist_test_util.h"

namespace recsys::dist {
namespace {

using Env = std::map<std::string, std::string>;
using testing_util::ExpectErrorContaining;

void ExpectEnv(const ProcessEnv& env, const std::string& launcher, int rank, int world_size,
               int local_rank, int local_size) {
  EXPECT_EQ(env.launcher, launcher);
  EXPECT_EQ(env.rank, rank);
  EXPECT_EQ(env.world_size, world_size);
  EXPECT_EQ(env.local_rank, local_rank);
  EXPECT_EQ(env.local_size, local_size);
}

const Env kMpirun = {{"OMPI_COMM_WORLD_RANK", "5"},
                     {"OMPI_COMM_WORLD_SIZE", "8"},
                     {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                     {"OMPI_COMM_WORLD_LOCAL_SIZE", "4"},
                     {"PMIX_RANK", "5"}};

TEST(ParseProcessEnvTest, Mpirun) {
  const ProcessEnv env = ParseProcessEnv(kMpirun, "node3");
  ExpectEnv(env, "mpirun", 5, 8, 1, 4);
  EXPECT_EQ(env.host, "node3");
}

TEST(ParseProcessEnvTest, MpirunInsideASlurmAllocationIgnoresTheBatchStep) {
  Env env = kMpirun;
  env.insert({{"SLURM_PROCID", "0"},
              {"SLURM_NTASKS", "8"},
              {"SLURM_LOCALID", "0"},
              {"SLURM_TASKS_PER_NODE", "4(x2)"}});
  ExpectEnv(ParseProcessEnv(env, "h"), "mpirun", 5, 8, 1, 4);
}

TEST(ParseProcessEnvTest, PmixRankStandsInForAMissingOmpiRank) {
  Env env = kMpirun;
  env.erase("OMPI_COMM_WORLD_RANK");
  env["PMIX_RANK"] = "6";
  ExpectEnv(ParseProcessEnv(env, "h"), "mpirun", 6, 8, 1, 4);
}

TEST(ParseProcessEnvTest, PmixRankAloneGivesNoSizesSoIsIgnored) {
  ExpectEnv(ParseProcessEnv({{"PMIX_RANK", "3"}}, "h"), "none", 0, 1, 0, 1);
}

TEST(ParseProcessEnvTest, NothingSetIsOneProcess) {
  const ProcessEnv env = ParseProcessEnv({{"HOME", "/root"}}, "laptop");
  ExpectEnv(env, "none", 0, 1, 0, 1);
  EXPECT_EQ(env.host, "laptop");
}

Env Srun(const std::string& node_id, const std::string& tasks_per_node) {
  return {{"SLURM_PROCID", "6"},
          {"SLURM_NTASKS", "7"},
          {"SLURM_LOCALID", "0"},
          {"SLURM_NODEID", node_id},
          {"SLURM_STEP_TASKS_PER_NODE", tasks_per_node}};
}

TEST(ParseProcessEnvTest, SrunRepeatedTaskCounts) {
  // "2(x3),1": nodes 0, 1, 2 run 2 tasks each, node 3 runs 1.
  ExpectEnv(ParseProcessEnv(Srun("3", "2(x3),1"), "h"), "srun", 6, 7, 0, 1);
  Env env = Srun("1", "2(x3),1");
  env["SLURM_PROCID"] = "3";
  env["SLURM_LOCALID"] = "1";
  ExpectEnv(ParseProcessEnv(env, "h"), "srun", 3, 7, 1, 2);
  // "1,3(x2)": node 2 runs 3.
  env = Srun("2", "1,3(x2)");
  env["SLURM_LOCALID"] = "2";
  ExpectEnv(ParseProcessEnv(env, "h"), "srun", 6, 7, 2, 3);
}

TEST(ParseProcessEnvTest, SrunLocalSizeSources) {
  // The step's layout wins over the job's.
  Env env = Srun("0", "3");
  env["SLURM_NTASKS"] = "9";
  env["SLURM_TASKS_PER_NODE"] = "5,4";
  ExpectEnv(ParseProcessEnv(env, "h"), "srun", 6, 9, 0, 3);
  // Then the job's, indexed by node.
  env.erase("SLURM_STEP_TASKS_PER_NODE");
  env["SLURM_NODEID"] = "1";
  ExpectEnv(ParseProcessEnv(env, "h"), "srun", 6, 9, 0, 4);
  // Then --ntasks-per-node, one number for every node; SLURM_NODEID may be missing.
  env.erase("SLURM_TASKS_PER_NODE");
  env.erase("SLURM_NODEID");
  env["SLURM_NTASKS_PER_NODE"] = "3";
  ExpectEnv(ParseProcessEnv(env, "h"), "srun", 6, 9, 0, 3);
}

TEST(ParseProcessEnvTest, MalformedValuesNameTheVariable) {
  Env env = kMpirun;
  env["OMPI_COMM_WORLD_RANK"] = "5x";
  ExpectErrorContaining([&] { ParseProcessEnv(env, "h"); },
                        {"OMPI_COMM_WORLD_RANK='5x' is not a non-negative integer"});
  env["OMPI_COMM_WORLD_RANK"] = "-1";
  ExpectErrorContaining([&] { ParseProcessEnv(env, "h"); }, {"OMPI_COMM_WORLD_RANK='-1'"});
  env["OMPI_COMM_WORLD_RANK"] = "99999999999";
  ExpectErrorContaining([&] { ParseProcessEnv(env, "h"); }, {"OMPI_COMM_WORLD_RANK='99999999999'"});
  env["OMPI_COMM_WORLD_RANK"] = "8";
  ExpectErrorContaining([&] { ParseProcessEnv(env, "h"); },
                        {"OMPI_COMM_WORLD_RANK=8 is not below OMPI_COMM_WORLD_SIZE=8"});
  env = kMpirun;
  env.erase("OMPI_COMM_WORLD_LOCAL_SIZE");
  ExpectErrorContaining([&] { ParseProcessEnv(env, "h"); }, {"OMPI_COMM_WORLD_LOCAL_SIZE is not"});

  for (const std::string bad : {"2(x", "2(3)", "(x2)", "2,,1", "", "2(x0)", "a"}) {
    ExpectErrorContaining([&] { ParseProcessEnv(Srun("0", bad), "h"); },
                          {"SLURM_STEP_TASKS_PER_NODE='" + bad + "'"});
  }
  ExpectErrorContaining([&] { ParseProcessEnv(Srun("4", "2(x3),1"), "h"); },
                        {"SLURM_NODEID=4", "lists 4 nodes"});
  Env no_layout = Srun("0", "1");
  no_layout.erase("SLURM_STEP_TASKS_PER_NODE");
  ExpectErrorContaining([&] { ParseProcessEnv(no_layout, "h"); }, {"SLURM_TASKS_PER_NODE"});
}

TEST(CurrentProcessEnvTest, AgreesWithMpi) {
  int rank = -1;
  int size = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm node = MPI_COMM_NULL;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int node_size = -1;
  MPI_Comm_size(node, &node_size);
  MPI_Comm_free(&node);
  const int local_rank = LocalRankFromMpi(MPI_COMM_WORLD);

  const ProcessEnv env = CurrentProcessEnv();
  // ctest runs these under mpiexec; a binary started by hand is a singleton ("none").
  if (env.launcher != "none") {
    EXPECT_EQ(env.launcher, "mpirun");
  }
  EXPECT_EQ(env.rank, rank);
  EXPECT_EQ(env.world_size, size);
  EXPECT_EQ(env.local_rank, local_rank);
  EXPECT_EQ(env.local_size, node_size);
  EXPECT_EQ(env.host, HostName());
  EXPECT_FALSE(env.host.empty());
}

}  // namespace
}  // namespace recsys::dist
