// launcher_world_size (sweep_executor.hpp): how many processes an MPI launcher started, from its environment.
#include <cstdlib>
#include <initializer_list>

#include "cli/sweep_executor.hpp"

namespace dynlib::cli {

namespace {

// The first of `vars` that holds a number in [lo, 2^24), else `fallback`.
int from_environment(std::initializer_list<const char*> vars, long lo, int fallback) {
  for (const char* v : vars) {
    const char* s = std::getenv(v);
    if (!s) continue;
    char* end = nullptr;
    const long n = std::strtol(s, &end, 10);
    if (end != s && *end == '\0' && n >= lo && n < (1L << 24)) return static_cast<int>(n);
  }
  return fallback;
}

}  // namespace

// Open MPI's mpirun, then the PMI/PMIx variables of MPICH's launcher and of Slurm's srun.
int launcher_world_size() {
  return from_environment({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"}, 1, 1);
}

}  // namespace dynlib::cli
