#pragma once
// MPI's lifetime, owned by main().

namespace recsys::dist {

// Initialises MPI on construction and finalises it on destruction. Create exactly one, first
// thing in main(), and keep it alive until every Communicator is destroyed.
//
// Threads: MPI is initialised with MPI_THREAD_FUNNELED. The program may run other threads (the
// HTTP server, OpenMP), but every MPI call is made from the main thread; funnelling is simpler to
// reason about than MPI_THREAD_MULTIPLE and all that the design needs.
//
// An error that only one rank sees (a check on its own arguments, a file it cannot read) can
// leave the other ranks waiting in a collective. MPI_Finalize may then wait for them too, so a
// main() that catches such an error should end the job with MPI_Abort rather than return.
class MpiRuntime {
 public:
  // Calls MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED); argc and argv may be null. Throws
  // recsys::Error if MPI is already initialised, if initialisation fails, or if the library
  // cannot provide MPI_THREAD_FUNNELED.
  MpiRuntime(int* argc, char*** argv);
  // MPI_Finalize, unless MPI is already finalised. COLLECTIVE: every rank destroys its runtime.
  ~MpiRuntime();

  MpiRuntime(const MpiRuntime&) = delete;
  MpiRuntime& operator=(const MpiRuntime&) = delete;

  // This process's rank in MPI_COMM_WORLD, and the number of processes in it.
  int world_rank() const { return world_rank_; }
  int world_size() const { return world_size_; }

 private:
  int world_rank_ = 0;
  int world_size_ = 1;
};

}  // namespace recsys::dist
