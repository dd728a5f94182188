// A job whose last rank stops itself (SIGSTOP, as `kill -STOP` would) while the others wait for
// it in an all-reduce. collective_stall_test.sh runs it under mpiexec and checks that the job ends
// with the watchdog's error naming the stopped rank, instead of hanging.
// Usage: mpiexec -n N collective_stall_probe TIMEOUT (the --collective-timeout syntax)

#include <csignal>
#include <cstdio>

#include "dist/communicator.h"
#include "dist/mpi_communicator.h"
#include "launch/main_util.h"

int main(int argc, char** argv) {
  return recsys::launch::RunMain("collective_stall_probe", argc, argv, [&](auto&) {
    if (argc != 2) throw recsys::launch::UsageError("usage: collective_stall_probe TIMEOUT");
    recsys::dist::MpiCommunicator comm(MPI_COMM_WORLD,
                                       recsys::dist::ParseCollectiveTimeouts(argv[1]));
    comm.Barrier();  // every rank is up before one stops
    if (comm.rank() == comm.size() - 1) std::raise(SIGSTOP);
    recsys::dist::AllReduceValue(comm, 1);
    return 0;
  });
}
