// Sweep throughput per core with and without SIMD lanes (docs/internals/simd-lanes.md), side by side:
// one thread, the same points through dynlib::run_batch with BatchOptions::lanes = 1 (one trajectory at a
// time) and lanes = 4 (four trajectories in the lanes of one core). Checks that both give the same bits.
// Timed in CPU time of the calling thread (with threads = 1 the batch runs in it): on a shared machine
// the wall time of a run moves by tens of percent with the load, its CPU time much less.
//   usage: sweep_lanes [--points P] [--repeat k] [--scale s]
// --scale multiplies every horizon (steps per point).
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dynlib/dynlib.hpp>
#include <string>
#include <vector>

namespace {

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Case {
  const char* label;
  const char* uri;
  const char* stepper;
  const char* param;
  double lo, hi;
  std::int64_t N;  // maps: iterations
  double T, dt;    // ODEs
};

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

}  // namespace

int main(int argc, char** argv) {
  int points = 2000, repeat = 3;
  double scale = 1.0;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--points") && i + 1 < argc)
      points = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc)
      repeat = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--scale") && i + 1 < argc)
      scale = std::atof(argv[++i]);
  }
  const Case cases[] = {
      {"logistic (map)", "builtin://map/logistic", "map", "r", 3.0, 4.0, 10000, 0, 0},
      {"henon (map)", "builtin://map/henon", "map", "a", 1.0, 1.4, 10000, 0, 0},
      {"lorenz rk4", "builtin://ode/lorenz", "rk4", "rho", 10.0, 60.0, 0, 10.0, 0.01},
      {"duffing rk4 (cos)", "builtin://ode/duffing", "rk4", "gamma", 0.1, 0.5, 0, 10.0, 0.01},
      {"standard (sin, %)", "builtin://map/standard", "map", "K", 0.1, 5.0, 10000, 0, 0},
  };
  std::printf("sweep_lanes: %d points per model, 1 thread, best of %d in CPU time (jit, optimised code)\n",
              points, repeat);
  std::printf("  %-20s %10s %14s %14s %8s  %s\n", "model", "steps/pt", "lanes=1 pt/s", "lanes=4 pt/s",
              "speed-up", "same bits");
  for (const auto& c : cases) {
    dynlib::FullModelPtr fm;
    try {
      fm = dynlib::build(c.uri, {.stepper = c.stepper, .jit = true});
      fm->wait_optimized();
    } catch (const dynlib::DynlibError& e) {
      std::printf("build failed: %s\n", e.what());
      return 1;
    }
    std::vector<dynlib::BatchItem> items;
    for (int i = 0; i < points; ++i)
      items.push_back({.params = {{c.param, c.lo + (c.hi - c.lo) * i / std::max(1, points - 1)}}});
    dynlib::BatchOptions o;
    o.threads = 1;
    std::int64_t steps = 0;
    if (c.N > 0) {
      o.N = static_cast<std::int64_t>(static_cast<double>(c.N) * scale);
      steps = *o.N;
    } else {
      o.T = c.T * scale;
      o.dt = c.dt;
      steps = static_cast<std::int64_t>(*o.T / c.dt + 0.5);
    }
    double best[2] = {1e300, 1e300};
    std::vector<std::vector<double>> finals[2];
    unsigned used[2] = {0, 0};
    for (int lane_mode = 0; lane_mode < 2; ++lane_mode) {
      o.lanes = lane_mode == 0 ? 1u : 4u;
      (void)dynlib::run_batch(fm, {items.front()}, o);  // compiles the lane runner outside the timing
      for (int r = 0; r < repeat; ++r) {
        const double c0 = thread_cpu_seconds();
        auto res = dynlib::run_batch(fm, items, o);
        best[lane_mode] = std::min(best[lane_mode], thread_cpu_seconds() - c0);
        used[lane_mode] = res.lanes;
        finals[lane_mode].clear();
        for (const auto& x : res.runs) {
          finals[lane_mode].push_back(x.final_state);
          finals[lane_mode].back().push_back(x.t_final);
        }
      }
    }
    bool same = finals[0].size() == finals[1].size();
    for (std::size_t q = 0; same && q < finals[0].size(); ++q) same = same_bits(finals[0][q], finals[1][q]);
    std::printf("  %-20s %10lld %14.0f %14.0f %7.2fx  %s%s\n", c.label, static_cast<long long>(steps),
                points / best[0], points / best[1], best[0] / best[1], same ? "yes" : "NO",
                used[1] == 4 ? "" : " (lanes not used)");
  }
  return 0;
}
