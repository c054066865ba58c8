// A downstream MPI program built against an installed dynlib (find_package(dynlib COMPONENTS mpi)):
// a sweep over the ranks gives rank 0 the runs of a one-process sweep.
#include <cstdio>
#include <dynlib/dynlib.hpp>
#include <dynlib/mpi.hpp>

int main(int argc, char** argv) {
  dynlib::mpi::Session mpi(&argc, &argv);
  dynlib::mpi::Executor ex;
  auto fm = dynlib::build("builtin://map/logistic");
  const std::vector<dynlib::SweepAxis> axes = {dynlib::SweepAxis::linspace("r", 2.5, 4.0, 40)};
  dynlib::BatchOptions local{.N = 200, .threads = 1};
  dynlib::BatchOptions spread = local;
  spread.executor = &ex;
  const auto sw = dynlib::sweep(fm, axes, spread);
  if (!ex.is_root()) return 0;
  const auto ref = dynlib::sweep(fm, axes, local);
  bool same = sw.batch.runs.size() == ref.batch.runs.size();
  for (std::size_t i = 0; same && i < ref.batch.runs.size(); ++i)
    same = sw.batch.runs[i].final_state == ref.batch.runs[i].final_state;
  std::printf("downstream mpi: %zu points on %d processes, same as one process: %s\n", sw.batch.runs.size(),
              ex.processes(), same ? "yes" : "no");
  return same ? 0 : 1;
}
