// sweep_executor() of a build without MPI (sweep_executor.hpp): refuses to run as many copies.
#include "cli/sweep_executor.hpp"

#include <dynlib/errors.hpp>
#include <string>

namespace dynlib::cli {

std::unique_ptr<BatchExecutor> sweep_executor() {
  const int n = launcher_world_size();
  if (n > 1)  // every copy would compute every point and write the same file
    throw DynlibError("dynlib sweep: started as " + std::to_string(n) +
                      " processes by an MPI launcher, but this dynlib was built without MPI (configure with "
                      "-DDYNLIB_WITH_MPI=ON); run it as one process, or use --shard K/N");
  return nullptr;
}

void end_job_if_stranded(const std::exception&, BatchExecutor*) {}

}  // namespace dynlib::cli
