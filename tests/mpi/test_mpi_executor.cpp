// Run under mpirun with 3 ranks: dynlib::mpi::Executor gives the results of one process (run_batch,
// sweep, sweep_to_csv), and a block that fails on any rank ends run() with an error on rank 0 naming the
// points, the other ranks returning (no hang). Prints "mpi executor: ok" on rank 0.
#include <algorithm>
#include <cstdio>
#include <dynlib/dynlib.hpp>
#include <dynlib/mpi.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

int failures = 0;
void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "FAILED: %s\n", what);
  ++failures;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
  dynlib::mpi::Session mpi(&argc, &argv);
  dynlib::mpi::Executor ex;
  const std::filesystem::path work = argc > 1 ? argv[1] : "mpi_executor_work";
  if (ex.is_root()) std::filesystem::create_directories(work);
  try {
    auto fm = dynlib::build("builtin://ode/lorenz", {.stepper = "rk4"});
    const std::vector<dynlib::SweepAxis> axes = {dynlib::SweepAxis::linspace("rho", 10, 40, 7),
                                                 dynlib::SweepAxis::linspace("sigma", 8, 12, 5)};
    dynlib::LyapunovOptions lo;
    lo.trace_stride = 0;
    dynlib::BatchOptions local{.T = 2.0, .dt = 0.01, .observers = {dynlib::lyapunov_mle(lo)}, .threads = 2};
    dynlib::BatchOptions spread = local;
    spread.executor = &ex;

    // In memory: sweep() over the ranks, results on rank 0 only.
    const auto sw = dynlib::sweep(fm, axes, spread);
    if (ex.is_root()) {
      const auto ref = dynlib::sweep(fm, axes, local);
      check(sw.batch.runs.size() == ref.batch.runs.size(), "sweep: number of runs");
      for (std::size_t i = 0; i < ref.batch.runs.size() && i < sw.batch.runs.size(); ++i) {
        const auto &a = sw.batch.runs[i], &b = ref.batch.runs[i];
        check(a.status == b.status && a.final_state == b.final_state && a.params == b.params &&
                  a.observers.size() == 1 && a.observers[0].outputs == b.observers[0].outputs,
              "sweep: a run differs from the one-process run");
      }
      sw.write_csv(work / "mem-3.csv");
      ref.write_csv(work / "mem-1.csv");
      check(slurp(work / "mem-3.csv") == slurp(work / "mem-1.csv"), "sweep: CSV bytes");
    } else {
      check(sw.batch.runs.empty(), "sweep: results only on rank 0");
    }

    // Streamed to a file by rank 0, small blocks so that every rank gets some.
    const auto sum = dynlib::sweep_to_csv(fm, axes, spread, {}, work / "file-3.csv", {.block = 3});
    if (ex.is_root()) {
      const auto one = dynlib::sweep_to_csv(fm, axes, local, {}, work / "file-1.csv", {.block = 3});
      check(sum.root && sum.processes == 3 && sum.points == 35, "sweep_to_csv: summary");
      check(slurp(work / "file-3.csv") == slurp(work / "file-1.csv"), "sweep_to_csv: file bytes");
      check(slurp(work / "file-3.csv") == slurp(work / "mem-1.csv"), "sweep_to_csv: same as write_csv");
    }

    // A terminal root event's name travels with the runs (BatchRun::stopped_by, the stopped_by column).
    auto ball = dynlib::build(
        "inline: [model]\ntype='ode'\n[states]\nh=1.0\nv=0.0\n[params]\ng=9.81\n"
        "[equations.rhs]\nh='v'\nv='-g'\n[events.ground]\nroot='h'\ndirection='down'\nterminal=true\n",
        {.stepper = "rk45"});
    const std::vector<dynlib::SweepAxis> gs = {dynlib::SweepAxis::linspace("g", 1, 4, 12)};
    const auto fall = dynlib::sweep(ball, gs, {.T = 1.0, .executor = &ex});
    if (ex.is_root()) {
      const auto ref = dynlib::sweep(ball, gs, {.T = 1.0});
      std::size_t stopped = 0;
      for (std::size_t i = 0; i < ref.batch.runs.size() && i < fall.batch.runs.size(); ++i) {
        check(fall.batch.runs[i].stopped_by == ref.batch.runs[i].stopped_by, "sweep: stopped_by over ranks");
        stopped += ref.batch.runs[i].stopped_by == "ground";
      }
      check(stopped > 0 && stopped < gs[0].values.size(), "sweep: some points end on the ground event");
      fall.write_csv(work / "ball-3.csv");
      ref.write_csv(work / "ball-1.csv");
      check(slurp(work / "ball-3.csv") == slurp(work / "ball-1.csv"), "sweep: CSV bytes with stopped_by");
    }

    // Many small blocks (each worker holds one in reserve): every block is delivered exactly once, with
    // its own bytes, including the last ones handed out.
    {
      std::vector<dynlib::PointBlock> many;
      for (std::size_t a = 0; a < 300; ++a) many.push_back({a, a + 1});
      std::vector<int> seen(many.size(), 0);
      bool right_bytes = true;
      ex.run(
          many, [](dynlib::PointBlock b) { return std::to_string(b.first); },
          [&](dynlib::PointBlock b, std::string&& bytes) {
            ++seen.at(b.first);
            right_bytes = right_bytes && bytes == std::to_string(b.first);
          });
      if (ex.is_root()) {
        check(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }),
              "every block delivered once");
        check(right_bytes, "every block delivered with its bytes");
      }
    }

    // One rank (MPI_COMM_SELF, as with mpirun -np 1): no dispatcher, no second thread; each block is
    // computed on the calling thread and delivered before the next one is computed.
    {
      dynlib::mpi::Executor alone(MPI_COMM_SELF);
      check(alone.is_root() && alone.processes() == 1, "one rank: root of 1");
      std::vector<dynlib::PointBlock> few = {{0, 2}, {2, 4}, {4, 5}};
      std::string trace;
      bool same_thread = true;
      const auto caller = std::this_thread::get_id();
      alone.run(
          few,
          [&](dynlib::PointBlock b) {
            same_thread = same_thread && std::this_thread::get_id() == caller;
            trace += 'c';
            trace += std::to_string(b.first);
            return std::string(b.last - b.first, 'x');
          },
          [&](dynlib::PointBlock b, std::string&& bytes) {
            same_thread = same_thread && std::this_thread::get_id() == caller;
            trace += 'd';
            trace += std::to_string(b.first);
            trace += ':';
            trace += bytes;
          });
      check(same_thread, "one rank: blocks computed and delivered on the calling thread");
      check(trace == "c0d0:xxc2d2:xxc4d4:x", "one rank: each block delivered in order before the next");
      check(alone.settled(), "one rank: settled");
      if (ex.is_root()) {
        dynlib::BatchOptions self = local;
        self.executor = &alone;
        const auto one = dynlib::sweep_to_csv(fm, axes, self, {}, work / "file-self.csv", {.block = 3});
        check(one.root && one.processes == 1 && one.points == 35, "one rank: summary");
        check(slurp(work / "file-self.csv") == slurp(work / "file-1.csv"), "one rank: file bytes");
      }
    }

    // A block that throws wherever it runs: rank 0 reports it, every rank gets out of run().
    std::vector<dynlib::PointBlock> blocks;
    for (std::size_t a = 0; a < 40; a += 2) blocks.push_back({a, a + 2});
    std::size_t delivered = 0;
    std::string error;
    try {
      ex.run(
          blocks,
          [](dynlib::PointBlock b) -> std::string {
            if (b.first == 6) throw dynlib::DynlibError("bad parameter at point 6");
            return std::string(b.last - b.first, 'x');
          },
          [&](dynlib::PointBlock, std::string&&) { ++delivered; });
    } catch (const dynlib::DynlibError& e) {
      error = e.what();
    }
    if (ex.is_root()) {
      check(error.find("failed on points 6-7: bad parameter at point 6") != std::string::npos,
            "failure message");
      check(error.find("MPI run stopped: rank ") == 0, "failure names the rank");
      check(delivered < blocks.size(), "the run stopped early");
    } else {
      check(error.empty(), "only rank 0 reports the failure");
    }
    check(ex.settled(), "settled after a failure");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d: unexpected error: %s\n", ex.rank(), e.what());
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  if (failures) MPI_Abort(MPI_COMM_WORLD, 1);
  if (ex.is_root()) std::printf("mpi executor: ok\n");
  return 0;
}
