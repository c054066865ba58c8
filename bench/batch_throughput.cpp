// Batch throughput: 1000 Lorenz runs (rk4, dt 0.01, T 10: 1000 steps each) through dynlib::run_batch
// on 1 and 2 threads, with the speed-up; optionally the same with a Lyapunov MLE observer per run.
//   usage: batch_throughput [--runs R] [--T x] [--jit] [--repeat k]
// Prints runs/s and steps/s per thread count (best of `repeat`) and checks that the results of the
// two thread counts are bit-identical.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dynlib/dynlib.hpp>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  int runs = 1000, repeat = 3;
  double T = 10.0;
  bool jit = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--runs") && i + 1 < argc)
      runs = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--T") && i + 1 < argc)
      T = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc)
      repeat = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--jit"))
      jit = true;
  }
  dynlib::FullModelPtr fm;
  try {
    fm = dynlib::build("builtin://ode/lorenz", {.stepper = "rk4", .jit = jit});
    fm->wait_optimized();  // time the optimised code (tiered compilation)
  } catch (const dynlib::DynlibError& e) {
    std::printf("build failed: %s\n", e.what());
    return 1;
  }
  std::vector<dynlib::BatchItem> items;
  for (int i = 0; i < runs; ++i)
    items.push_back(
        {.ic = {{"x", 1.0 + 1e-3 * i}, {"y", 1.0}, {"z", 1.0}}, .params = {{"rho", 24.0 + 8.0 * i / runs}}});
  std::printf("batch_throughput: %d Lorenz runs, rk4, dt=0.01, T=%g (%s), hardware threads %u\n", runs, T,
              jit ? "jit" : "interpreter", std::thread::hardware_concurrency());
  for (bool with_obs : {false, true}) {
    double best[3] = {0, 0, 0};
    std::vector<std::vector<double>> finals[3];
    for (unsigned th : {1u, 2u}) {
      double b = 1e300;
      for (int r = 0; r < repeat; ++r) {
        dynlib::BatchOptions o{.T = T, .dt = 0.01, .threads = th};
        if (with_obs) o.observers = {dynlib::lyapunov_mle({.trace_stride = 0})};
        auto res = dynlib::run_batch(fm, items, o);
        b = std::min(b, res.seconds);
        finals[th].clear();
        for (const auto& x : res.runs) finals[th].push_back(x.final_state);
      }
      best[th] = b;
      const double steps = static_cast<double>(runs) * (T / 0.01);
      std::printf("  %-22s threads=%u  %8.3f s  %9.1f runs/s  %.3g steps/s\n",
                  with_obs ? "state + lyapunov_mle" : "state only", th, b, runs / b, steps / b);
    }
    std::printf("  %-22s speed-up 2 vs 1 threads: %.2fx  (results identical: %s)\n",
                with_obs ? "state + lyapunov_mle" : "state only", best[1] / best[2],
                finals[1] == finals[2] ? "yes" : "NO");
  }
  return 0;
}
