#pragma once
// Checks shared by the communicators: the MPI call-checking macro and argument checks whose
// messages name the operation, the rank and the host (STYLE.md, habit 5).

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"

namespace recsys::dist::detail {

// "rank 3 of 4 on host node7": the process's rank in MPI_COMM_WORLD (the number mpirun and srun
// print), or "rank ? (MPI not running)" outside MPI_Init/MPI_Finalize. Not collective.
std::string Where();

// The function name at the start of a call's source text: "MPI_Allreduce(x, ...)" ->
// "MPI_Allreduce". For the checking macros' messages.
std::string CallName(const char* call_text);

// Throws recsys::Error "<op> failed: <MPI error string> (<Where()>) [file:line]", where op is the
// function name at the start of call_text ("MPI_Allreduce(...)" -> "MPI_Allreduce").
[[noreturn]] void ThrowMpiError(const char* call_text, int code, const char* file, int line);

// Argument checks. Each throws recsys::Error "<op>: <what is wrong> (<Where()>)".
// root in [0, size).
void CheckRoot(const char* op, int root, int size);
// counts has size entries, none negative. name is the argument's name, for the message.
void CheckCounts(const char* op, const char* name, const std::vector<int64_t>& counts, int size);

}  // namespace recsys::dist::detail

// RECSYS_MPI_CHECK(MPI_Barrier(comm)): throws recsys::Error naming the MPI function, the MPI
// error string, rank, host, file and line when the call does not return MPI_SUCCESS. Only calls
// on a communicator with MPI_ERRORS_RETURN come back with an error; under the default
// MPI_ERRORS_ARE_FATAL, MPI aborts the job first.
#define RECSYS_MPI_CHECK(call)                                                          \
  do {                                                                                  \
    const int recsys_mpi_rc_ = (call);                                                  \
    if (recsys_mpi_rc_ != MPI_SUCCESS)                                                  \
      ::recsys::dist::detail::ThrowMpiError(#call, recsys_mpi_rc_, __FILE__, __LINE__); \
  } while (0)

// RECSYS_DIST_CHECK(cond, "MpiCommunicator::Broadcast", "root " << root << " ..."): throws
// recsys::Error "<op>: <message> (<Where()>) [file:line]" when cond is false.
#define RECSYS_DIST_CHECK(cond, op, stream_expr)                                                   \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      RECSYS_THROW((op) << ": " << stream_expr << " (" << ::recsys::dist::detail::Where() << ")"); \
  } while (0)
