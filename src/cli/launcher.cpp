// launcher_world_size (sweep_executor.hpp): how many processes an MPI launcher started, from its environment.
#include <cstdlib>

#include "cli/sweep_executor.hpp"

namespace dynlib::cli {

int launcher_world_size() {
  // Open MPI's mpirun, then the PMI/PMIx variables of MPICH's launcher and of Slurm's srun.
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"}) {
    const char* s = std::getenv(v);
    if (!s) continue;
    char* end = nullptr;
    const long n = std::strtol(s, &end, 10);
    if (end != s && *end == '\0' && n >= 1 && n < (1L << 24)) return static_cast<int>(n);
  }
  return 1;
}

}  // namespace dynlib::cli
