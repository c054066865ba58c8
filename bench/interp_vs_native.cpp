// Interpreter (jit=false) against the JIT (jit=true, optimised code) in one run: ns/step and the ratio
// interpreter / JIT on Lorenz (3 states), Lorenz-96 (40 states, F = 8) and Hodgkin-Huxley (4 states),
// all with rk4 and record off. Repetitions alternate between the two; the min and median of each are
// printed, as thread CPU time (steadier on a shared machine: time spent waiting for a core does not
// count) and as wall time. The final states of both are compared bit for bit.
// Usage: interp_vs_native [reps=7] [scale=1.0] [lorenz,l96,hh]
#include <time.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <dynlib/dynlib.hpp>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "bench_models.hpp"

namespace {

using Vec = std::vector<double>;

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}
double wall_ns() {
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double vmin(const Vec& v) { return *std::min_element(v.begin(), v.end()); }
double vmedian(Vec v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Timing {
  Vec cpu, wall;  // ns/step per repetition
};

// One fixed-step run of `steps` steps from the initial state; appends ns/step.
void timed_run(dynlib::Sim& sim, double dt, std::int64_t steps, Timing& t, Vec* final_state = nullptr) {
  sim.reset();
  const double c0 = thread_cpu_ns(), w0 = wall_ns();
  sim.run({.T = static_cast<double>(steps) * dt, .dt = dt, .record = false, .max_steps = steps + 10});
  const double c1 = thread_cpu_ns(), w1 = wall_ns();
  if (sim.step_count() != steps) {
    std::fprintf(stderr, "unexpected step count %lld != %lld\n", static_cast<long long>(sim.step_count()),
                 static_cast<long long>(steps));
    std::exit(2);
  }
  t.cpu.push_back((c1 - c0) / static_cast<double>(steps));
  t.wall.push_back((w1 - w0) / static_cast<double>(steps));
  if (final_state) *final_state = sim.state_vector();
}

bool same_bits(const Vec& a, const Vec& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::bit_cast<std::uint64_t>(a[i]) != std::bit_cast<std::uint64_t>(b[i])) return false;
  return true;
}

void run_case(const char* title, const std::string& uri, double dt, std::int64_t jit_steps,
              std::int64_t interp_steps, int reps) {
  std::printf("\n== %s ==\n  rk4, dt = %g, %lld steps per repetition (interpreter: %lld), %d repetitions\n",
              title, dt, static_cast<long long>(jit_steps), static_cast<long long>(interp_steps), reps);
  auto interp = dynlib::setup(uri, {.stepper = "rk4", .jit = false});
  std::optional<dynlib::Sim> jit;
  try {
    jit.emplace(dynlib::setup(uri, {.stepper = "rk4", .jit = true}));
    jit->model().wait_optimized();  // the optimised code, not the baseline tier
  } catch (const std::exception& e) {
    std::printf("  JIT unavailable: %s\n", e.what());
  }
  Timing ti, tj;
  timed_run(interp, dt, interp_steps / 10 + 1, ti);  // warm-up
  if (jit) timed_run(*jit, dt, jit_steps / 10 + 1, tj);
  ti = {};
  tj = {};
  for (int r = 0; r < reps; ++r) {
    if (r % 2 == 0 && jit) timed_run(*jit, dt, jit_steps, tj);
    timed_run(interp, dt, interp_steps, ti);
    if (r % 2 == 1 && jit) timed_run(*jit, dt, jit_steps, tj);
  }
  std::printf("  %-24s %13s %13s %13s %13s\n", "", "cpu min", "cpu median", "wall min", "wall median");
  auto row = [](const char* name, const Timing& t) {
    std::printf("  %-24s %10.1f ns %10.1f ns %10.1f ns %10.1f ns\n", name, vmin(t.cpu), vmedian(t.cpu),
                vmin(t.wall), vmedian(t.wall));
  };
  row("interpreter (jit=false)", ti);
  if (!jit) return;
  row("JIT (jit=true)", tj);
  std::printf("  %-24s %12.2fx %12.2fx %12.2fx %12.2fx\n", "interpreter / JIT", vmin(ti.cpu) / vmin(tj.cpu),
              vmedian(ti.cpu) / vmedian(tj.cpu), vmin(ti.wall) / vmin(tj.wall),
              vmedian(ti.wall) / vmedian(tj.wall));
  Vec yi, yj;
  Timing scratch;
  timed_run(interp, dt, interp_steps, scratch, &yi);
  timed_run(*jit, dt, interp_steps, scratch, &yj);
  std::printf("  final state after %lld steps: interpreter and JIT %s\n",
              static_cast<long long>(interp_steps), same_bits(yi, yj) ? "bit-identical" : "DIFFER");
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
  const double scale = argc > 2 ? std::max(1e-3, std::atof(argv[2])) : 1.0;
  const std::string only = argc > 3 ? std::string(",") + argv[3] + "," : std::string();
  auto want = [&](const char* key) {
    return only.empty() || only.find(std::string(",") + key + ",") != std::string::npos;
  };
  auto S = [&](double n) { return std::max<std::int64_t>(10, static_cast<std::int64_t>(n * scale)); };
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  {
    std::ifstream la("/proc/loadavg");
    std::string l1, l5, l15;
    la >> l1 >> l5 >> l15;
    std::printf("interp_vs_native: interpreter vs JIT, ns/step (lower is better). Load average: %s %s %s\n",
                l1.c_str(), l5.c_str(), l15.c_str());
  }
  if (want("lorenz")) run_case("Lorenz (3 states)", "builtin://ode/lorenz", 1e-3, S(1e6), S(2e5), reps);
  if (want("l96"))
    run_case("Lorenz-96 (40 states, F = 8)", bench::lorenz96_toml(40, 8.0), 1e-3, S(2e5), S(2e4), reps);
  if (want("hh"))
    run_case("Hodgkin-Huxley (4 states, 6 aux)", "builtin://ode/hodgkin-huxley", 1e-2, S(2e5), S(5e4), reps);
  return 0;
}
