// sweep_executor() of a build with MPI (sweep_executor.hpp): the ranks of mpirun share the sweep.
#include <cstdio>
#include <dynlib/mpi.hpp>

#include "cli/sweep_executor.hpp"

namespace dynlib::cli {
namespace {

// MPI lives until the process exits (finalised by the destructor, after the command returned).
std::unique_ptr<mpi::Session>& session() {
  static std::unique_ptr<mpi::Session> s;
  return s;
}

}  // namespace

std::unique_ptr<BatchExecutor> sweep_executor() {
  // A plain start (no launcher) does not initialise MPI at all: it would be slow and can print noise.
  if (launcher_world_size() <= 1) return nullptr;
  if (!session()) session() = std::make_unique<mpi::Session>();
  return std::make_unique<mpi::Executor>();
}

void end_job_if_stranded(const std::exception& e, BatchExecutor* executor) {
  auto* ex = dynamic_cast<mpi::Executor*>(executor);
  if (!ex || ex->processes() < 2 || ex->settled()) return;
  std::fprintf(stderr, "dynlib sweep: rank %d of %d: %s\n(ending every rank of the job)\n", ex->rank(),
               ex->processes(), e.what());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
}

}  // namespace dynlib::cli
