// The executor of `dynlib sweep`: over the MPI ranks when the process was started by mpirun (or srun)
// with more than one rank, else none (this process's thread pool).
#pragma once
#include <dynlib/executor.hpp>
#include <exception>
#include <memory>

namespace dynlib::cli {

// The number of processes the launcher started ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", ...), 1 if none.
int launcher_world_size();
// Null unless started by an MPI launcher with more than one rank; then an executor over the ranks (MPI
// is initialised now and finalised at exit). Throws DynlibError when this build has no MPI support.
std::unique_ptr<BatchExecutor> sweep_executor();
// After `e` on this rank: if other ranks may still wait for it (the executor's run did not settle), prints
// it and ends the whole job (MPI_Abort), so no rank hangs. Otherwise returns (the caller reports `e`).
void end_job_if_stranded(const std::exception& e, BatchExecutor* executor);

}  // namespace dynlib::cli
