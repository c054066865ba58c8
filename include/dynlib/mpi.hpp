// The MPI component (libdynlib_mpi, built with -DDYNLIB_WITH_MPI=ON; docs/distributed.md): sweeps and
// batches over the ranks of an MPI job, same results, same order as one process.
//   int main(int argc, char** argv) {
//     dynlib::mpi::Session mpi(&argc, &argv);   // MPI_Init_thread ... MPI_Finalize
//     dynlib::mpi::Executor ex;                  // all ranks of MPI_COMM_WORLD
//     auto fm = dynlib::build("builtin://ode/lorenz", {.stepper = "rk4"});
//     dynlib::BatchOptions o{.T = 100, .dt = 0.01, .executor = &ex};
//     auto sum = dynlib::sweep_to_csv(fm, axes, o, {}, "map.csv");  // every rank; rank 0 writes the file
//   }
// Rank 0 hands out blocks of points to the ranks that ask for work (dynamic load balancing: a rank with
// cheap points asks more often) and computes blocks itself in a thread of its own; every rank runs its
// blocks on its thread pool (BatchOptions::threads). Only point-to-point messages are used, so a rank that
// fails makes rank 0 stop the others and report it instead of leaving anyone waiting in a collective.
// The ranks must run the same build on the same kind of machine (results travel as raw bytes).
#pragma once
#include <mpi.h>

#include <dynlib/executor.hpp>
#include <dynlib/export.hpp>

namespace dynlib::mpi {

// Initialises MPI (thread level MPI_THREAD_FUNNELED: only the thread that made the Session calls MPI) and
// finalises it when destroyed. Does neither if the application already initialised MPI.
class DYNLIB_API Session {
 public:
  Session(int* argc = nullptr, char*** argv = nullptr);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();
  [[nodiscard]] int rank() const;
  [[nodiscard]] int size() const;

 private:
  bool owns_ = false;
};

class DYNLIB_API Executor final : public BatchExecutor {
 public:
  explicit Executor(MPI_Comm comm = MPI_COMM_WORLD);
  [[nodiscard]] bool is_root() const override { return rank_ == 0; }
  [[nodiscard]] int processes() const override { return size_; }
  [[nodiscard]] int rank() const { return rank_; }
  // On rank 0: returns when every block is delivered; throws DynlibError naming the rank, the points and
  // the reason when a block failed anywhere (after the other ranks were told to stop). On the other ranks:
  // returns when rank 0 says stop (a failure there is reported by rank 0).
  void run(const std::vector<PointBlock>& blocks, const Compute& compute, const Deliver& deliver) override;
  // Whether a run() ended with every rank told to stop (so an error after it strands no one). False
  // before the first run(): the other ranks may be waiting in theirs.
  [[nodiscard]] bool settled() const { return settled_; }

 private:
  void run_root(const std::vector<PointBlock>& blocks, const Compute& compute, const Deliver& deliver);
  void run_worker(const Compute& compute);

  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  int runs_ = 0;          // run() calls so far, the same on every rank (they make the same calls)
  bool settled_ = false;  // until a run() has told every rank to stop
};

}  // namespace dynlib::mpi
