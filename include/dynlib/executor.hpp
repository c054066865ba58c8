// Where the points of a sweep or batch are computed (docs/distributed.md). The default (no executor) is
// this process's thread pool; an executor spreads blocks of points over several processes, e.g.
// dynlib::mpi::Executor (include/dynlib/mpi.hpp, the optional dynlib_mpi library) over MPI ranks:
//   dynlib::mpi::Session mpi(argc, argv);
//   dynlib::mpi::Executor ex;
//   auto sw = dynlib::sweep(fm, axes, {.T = 100, .dt = 0.01, .executor = &ex});   // on every rank
//   if (ex.is_root()) sw.write_csv("map.csv");                                       // results on rank 0
// Every process calls the same function with the same arguments; the root (rank 0) decides which
// blocks are computed and receives their results, the others compute what they are given.
#pragma once
#include <cstddef>
#include <dynlib/export.hpp>
#include <functional>
#include <string>
#include <vector>

namespace dynlib {

// Points [first, last) of a sweep or batch, in item order.
struct PointBlock {
  std::size_t first = 0, last = 0;
};

class DYNLIB_API BatchExecutor {
 public:
  // Computes a block on the calling process and returns its result as bytes (any encoding: the executor
  // only moves them). May throw: the executor then ends the whole run with that error.
  using Compute = std::function<std::string(PointBlock)>;
  // Receives a block's bytes on the root, on the thread that called run(), in any block order.
  using Deliver = std::function<void(PointBlock, std::string&& bytes)>;

  virtual ~BatchExecutor();
  // Whether this process receives the results (rank 0). Only the root writes files.
  [[nodiscard]] virtual bool is_root() const = 0;
  // Processes taking part (1 for this process alone).
  [[nodiscard]] virtual int processes() const = 0;
  // On the root: computes every block of `blocks` once, somewhere, and delivers each; returns when all
  // are delivered. Elsewhere `blocks` is ignored: computes what the root hands out until it says stop.
  // Throws DynlibError on every process when a block failed (naming the block, the process and why),
  // after the other processes have stopped, so no process is left waiting.
  virtual void run(const std::vector<PointBlock>& blocks, const Compute& compute, const Deliver& deliver) = 0;
};

// This process alone: computes the blocks in order and delivers each one as it is done.
class DYNLIB_API LocalExecutor final : public BatchExecutor {
 public:
  [[nodiscard]] bool is_root() const override { return true; }
  [[nodiscard]] int processes() const override { return 1; }
  void run(const std::vector<PointBlock>& blocks, const Compute& compute, const Deliver& deliver) override;
};

}  // namespace dynlib
