// The executor of `dynlib sweep`: over the MPI ranks when the process was started by mpirun (or srun)
// with more than one rank, else none (this process's thread pool).
#pragma once
#include <dynlib/executor.hpp>
#include <memory>

namespace dynlib::cli {

// The number of processes the launcher started ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", ...), 1 if none.
int launcher_world_size();
// Null unless started by an MPI launcher with more than one rank; then an executor over the ranks (MPI
// is initialised now and finalised at exit). Throws DynlibError when this build has no MPI support.
std::unique_ptr<BatchExecutor> sweep_executor();

}  // namespace dynlib::cli
