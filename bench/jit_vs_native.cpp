// ns/step, side by side in ONE run, of
//   native  : hand-written C++ of the same algorithm (bench/native_kernels.cpp, g++ -O3 -march=native
//   -ffp-contract=off) JIT     : dynlib::setup(uri, {.stepper = ..., .jit = true}) then Sim::run with record
//   = false interp  : the same with jit = false odeint  : Boost.Odeint (runge_kutta4; controlled
//   runge_kutta_dopri5 against rk45), same flags as native
// on Lorenz rk4, Lorenz-96 (40 states, F = 8) rk4, Hodgkin-Huxley rk4 and Van der Pol rk45, and of the
// logistic, Henon and standard maps against a plain C++ loop.
// Repetitions are interleaved (the variant order rotates each repetition); min and median are printed.
// Also checks whether the final states of JIT and interpreter equal the hand-written one bit for bit, and
// prints the ratio interpreter / JIT of the fixed-step cases.
//
// Usage: jit_vs_native [reps=15] [scale=1.0] [lorenz,l96,hh,vdp,maps]   (scale multiplies every step count /
// horizon; the third argument runs a subset)
#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <dynlib/dynlib.hpp>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench_models.hpp"
#include "native_kernels.hpp"
#include "odeint_kernels.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using Vec = std::vector<double>;

// DYNLIB_BENCH_CLOCK=cpu: the CPU time of this thread instead of wall time (every variant runs on the
// calling thread), so a machine shared with other jobs slows the figures less.
bool use_cpu_clock() {
  static const bool cpu = [] {
    const char* e = std::getenv("DYNLIB_BENCH_CLOCK");
    return e != nullptr && std::string(e) == "cpu";
  }();
  return cpu;
}
double thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}
struct Stamp {
  Clock::time_point wall;
  double cpu;
};
struct StampClock {
  static Stamp now() { return {Clock::now(), use_cpu_clock() ? thread_cpu_ns() : 0.0}; }
};
double since_ns(const Stamp& t0) {
  if (use_cpu_clock()) return thread_cpu_ns() - t0.cpu;
  return std::chrono::duration<double, std::nano>(Clock::now() - t0.wall).count();
}

// One timed variant: run() performs one repetition and returns ns/step (NaN = unavailable).
struct Variant {
  std::string name;
  std::function<double()> run;
  std::string note;  // why it is unavailable, or a remark
  Vec samples;
  bool available = true;
};

double vmin(Vec v) { return v.empty() ? NAN : *std::min_element(v.begin(), v.end()); }
double vmedian(Vec v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void run_interleaved(std::vector<Variant>& vs, int reps) {
  for (auto& v : vs)  // one untimed warm-up each
    if (v.available) (void)v.run();
  const int nv = static_cast<int>(vs.size());
  for (int r = 0; r < reps; ++r)
    for (int j = 0; j < nv; ++j) {
      auto& v = vs[static_cast<std::size_t>((r + j) % nv)];
      if (v.available) v.samples.push_back(v.run());
    }
}

void print_table(const std::vector<Variant>& vs) {
  const double nmin = vmin(vs[0].samples), nmed = vmedian(vs[0].samples);
  std::printf("  %-44s %12s %12s %10s %10s\n", "variant", "min ns/step", "med ns/step", "min/native",
              "med/native");
  for (const auto& v : vs) {
    if (!v.available) {
      std::printf("  %-44s %12s %12s %10s %10s   (%s)\n", v.name.c_str(), "n/a", "n/a", "n/a", "n/a",
                  v.note.c_str());
      continue;
    }
    const double a = vmin(v.samples), m = vmedian(v.samples);
    std::printf("  %-44s %12.2f %12.2f %9.3fx %9.3fx%s%s\n", v.name.c_str(), a, m, a / nmin, m / nmed,
                v.note.empty() ? "" : "   ", v.note.c_str());
  }
}

std::string compare(const Vec& a, const Vec& ref) {
  if (a.size() != ref.size()) return "size differs";
  bool same = true;
  double md = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::bit_cast<std::uint64_t>(a[i]) != std::bit_cast<std::uint64_t>(ref[i])) same = false;
    md = std::max(md, std::fabs(a[i] - ref[i]));
  }
  if (same) return "bit-identical";
  char buf[96];
  std::snprintf(buf, sizeof buf, "DIFFERS (max |diff| = %.3g)", md);
  return buf;
}

// A dynlib Sim variant (jit or interpreter). Returns nullopt + reason if setup fails.
struct SimRunner {
  std::optional<dynlib::Sim> sim;
  std::string error;
};

SimRunner make_sim(const std::string& uri, const std::string& stepper, bool jit) {
  SimRunner r;
  try {
    r.sim.emplace(dynlib::setup(uri, {.stepper = stepper, .jit = jit}));
    r.sim->model().wait_optimized();  // time the optimised code, not the baseline of tiered compilation
  } catch (const dynlib::JITUnavailableError& e) {
    r.error = std::string("JIT unavailable: ") + e.what();
  } catch (const std::exception& e) {
    r.error = std::string(jit ? "JIT setup failed: " : "setup failed: ") + e.what();
  }
  for (auto& c : r.error)
    if (c == '\n') c = ' ';
  if (r.error.size() > 160) r.error = r.error.substr(0, 157) + "...";
  return r;
}

// Runs `steps` steps with options `o` (record off) from the initial state. Returns ns/step.
double sim_steps(dynlib::Sim& sim, dynlib::RunOptions o, std::int64_t steps, Vec* final_state = nullptr) {
  sim.reset();
  o.record = false;
  o.max_steps = steps + 10;
  const auto t0 = StampClock::now();
  sim.run(o);
  const double ns = since_ns(t0);
  if (sim.step_count() != steps) {
    std::fprintf(stderr, "unexpected step count %lld != %lld\n", static_cast<long long>(sim.step_count()),
                 static_cast<long long>(steps));
    std::exit(2);
  }
  if (final_state) *final_state = sim.state_vector();
  return ns / static_cast<double>(steps);
}

// Fixed-step run of `steps` steps of dt.
double sim_fixed(dynlib::Sim& sim, double dt, std::int64_t steps, Vec* final_state = nullptr) {
  return sim_steps(sim, {.T = static_cast<double>(steps) * dt, .dt = dt}, steps, final_state);
}

// A variant timing a hand-written kernel that advances y in place by `steps` steps: ns/step.
Variant native_variant(std::string name, const std::function<void(double*, std::int64_t)>& kernel,
                       const Vec& y0, std::int64_t steps) {
  return {std::move(name),
          [kernel, &y0, steps] {
            Vec y = y0;
            const auto t0 = StampClock::now();
            kernel(y.data(), steps);
            return since_ns(t0) / static_cast<double>(steps);
          },
          "",
          {},
          true};
}

// The JIT variant timed by `run`, or, if the JIT could not set the model up, the reason as a note.
Variant jit_variant(const SimRunner& jit, std::function<double()> run) {
  Variant v{"JIT runner (jit=true)", {}, "", {}, static_cast<bool>(jit.sim)};
  if (jit.sim)
    v.run = std::move(run);
  else
    v.note = jit.error;
  return v;
}

double sim_adaptive(dynlib::Sim& sim, double T, const dynlib::Assignments& cfg, std::int64_t* steps_out,
                    Vec* final_state = nullptr) {
  sim.reset();
  const auto t0 = StampClock::now();
  sim.run({.T = T, .record = false, .max_steps = 1000000000, .stepper = cfg});
  const double ns = since_ns(t0);
  if (steps_out) *steps_out = sim.step_count();
  if (final_state) *final_state = sim.state_vector();
  return ns / static_cast<double>(sim.step_count());
}

// ---------------------------------------------------------------------------------------------
// Fixed-step rk4 case: native(y, steps) advances y in place; odeint likewise.
struct FixedCase {
  std::string title, uri;
  double dt;
  std::int64_t steps, interp_steps;
  std::function<void(double*, std::int64_t)> native;
  std::string native_name = "native C++ (g++ -O3 -march=native)";
  std::function<void(double*, std::int64_t)> native2;  // optional extra native variant
  std::string native2_name;
  std::function<void(double*, std::int64_t)> odeint;
  std::string extra_note;
};

void run_fixed(const FixedCase& c, int reps) {
  std::printf("\n== %s ==\n", c.title.c_str());
  std::printf(
      "  rk4, dt = %g, %lld steps per repetition (interpreter: %lld), record off, %d interleaved "
      "repetitions\n",
      c.dt, static_cast<long long>(c.steps), static_cast<long long>(c.interp_steps), reps);
  auto interp = make_sim(c.uri, "rk4", false);
  if (!interp.sim) {
    std::printf("  cannot set up the model: %s\n", interp.error.c_str());
    return;
  }
  auto jit = make_sim(c.uri, "rk4", true);
  const Vec y0 = interp.sim->state_vector();

  std::vector<Variant> vs;
  vs.push_back(native_variant(c.native_name, c.native, y0, c.steps));
  vs.push_back(jit_variant(jit, [&] { return sim_fixed(*jit.sim, c.dt, c.steps); }));
  vs.push_back({"interpreter (jit=false)",
                [&] { return sim_fixed(*interp.sim, c.dt, c.interp_steps); },
                "",
                {},
                true});
  vs.push_back(native_variant("Boost.Odeint runge_kutta4", c.odeint, y0, c.steps));
  if (c.native2) vs.push_back(native_variant(c.native2_name, c.native2, y0, c.steps));
  run_interleaved(vs, reps);
  print_table(vs);
  if (vs[1].available)  // the interpreter's speed target is stated against the JIT
    std::printf("  interpreter / JIT: %.2fx (min to min), %.2fx (median to median)\n",
                vmin(vs[2].samples) / vmin(vs[1].samples), vmedian(vs[2].samples) / vmedian(vs[1].samples));
  if (!c.extra_note.empty()) std::printf("  note: %s\n", c.extra_note.c_str());

  // Bit checks over interp_steps steps (same count for every variant).
  Vec yn = y0, yo = y0, yi, yj;
  c.native(yn.data(), c.interp_steps);
  c.odeint(yo.data(), c.interp_steps);
  sim_fixed(*interp.sim, c.dt, c.interp_steps, &yi);
  std::string jr = "n/a (no JIT)";
  if (jit.sim) {
    sim_fixed(*jit.sim, c.dt, c.interp_steps, &yj);
    jr = compare(yj, yn);
  }
  std::printf("  final state after %lld steps vs hand-written C++: JIT %s; interpreter %s; odeint %s\n",
              static_cast<long long>(c.interp_steps), jr.c_str(), compare(yi, yn).c_str(),
              compare(yo, yn).c_str());
}

// ---------------------------------------------------------------------------------------------
// Maps: `steps` iterations, record off, against the plain C++ loop (state in locals).
double sim_map(dynlib::Sim& sim, std::int64_t steps, Vec* final_state = nullptr) {
  return sim_steps(sim, {.N = steps}, steps, final_state);
}

struct MapCase {
  std::string title, uri;
  std::int64_t steps, interp_steps;
  std::function<void(double*, std::int64_t)> native;
};

void run_map(const MapCase& c, int reps) {
  std::printf("\n== %s ==\n", c.title.c_str());
  std::printf(
      "  %lld iterations per repetition (interpreter: %lld), record off, %d interleaved repetitions\n",
      static_cast<long long>(c.steps), static_cast<long long>(c.interp_steps), reps);
  auto interp = make_sim(c.uri, "map", false);
  if (!interp.sim) {
    std::printf("  cannot set up the model: %s\n", interp.error.c_str());
    return;
  }
  auto jit = make_sim(c.uri, "map", true);
  const Vec y0 = interp.sim->state_vector();
  std::vector<Variant> vs;
  vs.push_back(native_variant("plain C++ loop (g++ -O3 -march=native)", c.native, y0, c.steps));
  vs.push_back(jit_variant(jit, [&] { return sim_map(*jit.sim, c.steps); }));
  vs.push_back(
      {"interpreter (jit=false)", [&] { return sim_map(*interp.sim, c.interp_steps); }, "", {}, true});
  run_interleaved(vs, reps);
  print_table(vs);
  Vec yn = y0, yi, yj;
  c.native(yn.data(), c.interp_steps);
  sim_map(*interp.sim, c.interp_steps, &yi);
  std::string jr = "n/a (no JIT)";
  if (jit.sim) {
    sim_map(*jit.sim, c.interp_steps, &yj);
    jr = compare(yj, yn);
  }
  std::printf("  final state after %lld iterations vs the plain loop: JIT %s; interpreter %s\n",
              static_cast<long long>(c.interp_steps), jr.c_str(), compare(yi, yn).c_str());
}

// ---------------------------------------------------------------------------------------------
void run_vdp(int reps, double scale) {
  const std::string uri = "builtin://ode/vanderpol";
  const double atol = 1e-9, rtol = 1e-9, T = 2000.0 * scale;
  std::printf("\n== Van der Pol (mu = 1), rk45 ==\n");
  std::printf(
      "  rk45 atol = rtol = %g, t = 0..%g (interpreter: 0..%g), record off, %d interleaved repetitions\n",
      atol, T, T / 10, reps);
  std::printf(
      "  odeint: make_controlled(atol, rtol, runge_kutta_dopri5) + integrate_adaptive (FSAL, max-norm error\n"
      "  with its own scaling, so it takes a different number of steps; ns/step is per accepted step)\n");
  const dynlib::Assignments cfg = {{"atol", atol}, {"rtol", rtol}};
  auto interp = make_sim(uri, "rk45", false);
  if (!interp.sim) {
    std::printf("  cannot set up the model: %s\n", interp.error.c_str());
    return;
  }
  auto jit = make_sim(uri, "rk45", true);
  const Vec y0 = interp.sim->state_vector();
  const double mu = interp.sim->param("mu");
  // Stepper config in kernel order: atol, rtol, safety, min_factor, max_factor, max_tries, min_step, dt_max.
  Vec kcfg;
  {
    auto probe = make_sim(uri, "rk45", false);
    probe.sim->run({.T = 1e-3, .record = false, .stepper = cfg});
    for (const auto& [name, v] : probe.sim->stepper_config()) kcfg.push_back(v);
  }
  std::int64_t n_native = 0, n_odeint = 0, n_jit = 0, n_interp = 0;
  std::vector<Variant> vs;
  vs.push_back({"native C++ rk45 (g++ -O3 -march=native)",
                [&] {
                  Vec y = y0;
                  const auto t0 = StampClock::now();
                  n_native = nk::vdp_rk45(y.data(), mu, 0.0, T, kcfg.data());
                  return since_ns(t0) / static_cast<double>(n_native);
                },
                "",
                {},
                true});
  vs.push_back(jit_variant(jit, [&] { return sim_adaptive(*jit.sim, T, cfg, &n_jit); }));
  vs.push_back({"interpreter (jit=false)",
                [&] { return sim_adaptive(*interp.sim, T / 10, cfg, &n_interp); },
                "",
                {},
                true});
  vs.push_back({"Boost.Odeint controlled runge_kutta_dopri5",
                [&] {
                  Vec y = y0;
                  const auto t0 = StampClock::now();
                  n_odeint = ok::vdp_dopri5(y.data(), mu, 0.0, T, 1e-3, atol, rtol);
                  return since_ns(t0) / static_cast<double>(n_odeint);
                },
                "",
                {},
                true});
  run_interleaved(vs, reps);
  print_table(vs);
  std::printf("  accepted steps: native %lld, JIT %lld, interpreter %lld (to t=%g), odeint %lld\n",
              static_cast<long long>(n_native), static_cast<long long>(n_jit),
              static_cast<long long>(n_interp), T / 10, static_cast<long long>(n_odeint));

  Vec yn = y0, yo = y0, yi, yj;
  const std::int64_t sn = nk::vdp_rk45(yn.data(), mu, 0.0, T / 10, kcfg.data());
  (void)ok::vdp_dopri5(yo.data(), mu, 0.0, T / 10, 1e-3, atol, rtol);
  std::int64_t si = 0, sj = 0;
  sim_adaptive(*interp.sim, T / 10, cfg, &si, &yi);
  std::string jr = "n/a (no JIT)";
  if (jit.sim) {
    sim_adaptive(*jit.sim, T / 10, cfg, &sj, &yj);
    jr = compare(yj, yn) + (sj == sn ? "" : " (step count differs: " + std::to_string(sj) + ")");
  }
  const std::string ir =
      compare(yi, yn) + (si == sn ? "" : " (step count differs: " + std::to_string(si) + ")");
  std::printf("  final state at t=%g vs hand-written C++ (%lld steps): JIT %s; interpreter %s; odeint %s\n",
              T / 10, static_cast<long long>(sn), jr.c_str(), ir.c_str(), compare(yo, yn).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 15;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress is visible when redirected to a file
  const double scale = argc > 2 ? std::max(1e-3, std::atof(argv[2])) : 1.0;
  auto S = [&](double n) { return std::max<std::int64_t>(10, static_cast<std::int64_t>(n * scale)); };
  // Optional third argument: a comma-separated subset of lorenz,l96,hh,vdp,maps (default: all).
  const std::string only = argc > 3 ? std::string(",") + argv[3] + "," : std::string();
  auto want = [&](const char* key) {
    return only.empty() || only.find(std::string(",") + key + ",") != std::string::npos;
  };

  std::printf(
      "jit_vs_native: ns per step (lower is better); ratios are variant / native (min to min, median to "
      "median).\n");
  std::printf(
      "native and odeint: separate TUs built with -O3 -march=native -ffp-contract=off; parameters are "
      "runtime\n"
      "values in every variant. JIT/interpreter: Sim::run with record=false (timing includes Sim::run's\n"
      "per-call setup, negligible at these step counts).\n");
  {
    std::ifstream la("/proc/loadavg");
    std::string l1, l5, l15;
    la >> l1 >> l5 >> l15;
    std::printf(
        "Load average at start: %s %s %s (shared machine: compare min columns; medians absorb noise).\n",
        l1.c_str(), l5.c_str(), l15.c_str());
    std::printf("Clock: %s\n", use_cpu_clock() ? "CPU time of the calling thread (DYNLIB_BENCH_CLOCK=cpu)"
                                               : "wall time (DYNLIB_BENCH_CLOCK=cpu: thread CPU time)");
    auto probe = make_sim("builtin://ode/lorenz", "rk4", true);
    std::printf("JIT component: %s\n", probe.sim ? "available" : probe.error.c_str());
  }

  if (want("lorenz")) {
    FixedCase c;
    c.title = "Lorenz (3 states) rk4, builtin://ode/lorenz";
    c.uri = "builtin://ode/lorenz";
    c.dt = 1e-3;
    c.steps = S(1e6);
    c.interp_steps = S(1e5);
    auto sim = dynlib::setup(c.uri, {.stepper = "rk4"});
    const Vec p = {sim.param("sigma"), sim.param("rho"), sim.param("beta")};
    c.native = [p, dt = c.dt](double* y, std::int64_t n) { nk::lorenz_rk4(y, p.data(), dt, n); };
    c.odeint = [p, dt = c.dt](double* y, std::int64_t n) { ok::lorenz_rk4(y, p.data(), dt, n); };
    run_fixed(c, reps);
  }
  if (want("l96")) {
    FixedCase c;
    c.title = "Lorenz-96 (40 states, F = 8) rk4, inline model with 40 explicit equations";
    c.uri = bench::lorenz96_toml(40, 8.0);
    c.dt = 1e-3;
    c.steps = S(1e5);
    c.interp_steps = S(1e4);
    c.native = [dt = c.dt](double* y, std::int64_t n) { nk::l96_40_rk4(y, 8.0, dt, n); };
    c.odeint = [dt = c.dt](double* y, std::int64_t n) { ok::l96_40_rk4(y, 8.0, dt, n); };
    run_fixed(c, reps);
  }
  if (want("hh")) {
    FixedCase c;
    c.title = "Hodgkin-Huxley (4 states, 6 aux) rk4, builtin://ode/hodgkin-huxley";
    c.uri = "builtin://ode/hodgkin-huxley";
    c.dt = 1e-2;
    c.steps = S(2e5);
    c.interp_steps = S(2e4);
    auto sim = dynlib::setup(c.uri, {.stepper = "rk4"});
    static const char* names[] = {"C",      "EK",     "ENa",     "EL",      "gK",      "gNa",     "gL",
                                  "I",      "Vmid_m", "k_m",     "Vmax_m",  "sigma_m", "Camp_m",  "Cbase_m",
                                  "Vmid_h", "k_h",    "Vmax_h",  "sigma_h", "Camp_h",  "Cbase_h", "Vmid_n",
                                  "k_n",    "Vmax_n", "sigma_n", "Camp_n",  "Cbase_n"};
    Vec p;
    for (const char* nm : names) p.push_back(sim.param(nm));
    c.native = [p, dt = c.dt](double* y, std::int64_t n) { nk::hh_rk4(y, p.data(), dt, n, nullptr); };
    c.native_name = "native C++ rk4 (g++ -O3 -march=native)";
    c.native2 = [p, dt = c.dt](double* y, std::int64_t n) {
      double aux[6];
      nk::hh_rk4(y, p.data(), dt, n, aux);
    };
    c.native2_name = "native C++ rk4 + aux update/step (as runner)";
    c.odeint = [p, dt = c.dt](double* y, std::int64_t n) { ok::hh_rk4(y, p.data(), dt, n); };
    c.extra_note =
        "the last row also evaluates the 6 aux variables (6 exp) after every step, as dynlib's runner did up "
        "to\n"
        "  46877ff; it now evaluates them only when read, so compare the JIT with the plain rk4 row.";
    run_fixed(c, reps);
  }
  if (want("vdp")) run_vdp(reps, scale);
  if (want("maps")) {
    auto sim = dynlib::setup("builtin://map/logistic");
    const double r = sim.param("r");
    run_map({"logistic map, builtin://map/logistic", "builtin://map/logistic", S(2e7), S(2e6),
             [r](double* y, std::int64_t n) { nk::logistic(y, r, n); }},
            reps);
    auto henon = dynlib::setup("builtin://map/henon");
    const double a = henon.param("a"), b = henon.param("b");
    run_map({"Henon map, builtin://map/henon", "builtin://map/henon", S(2e7), S(2e6),
             [a, b](double* y, std::int64_t n) { nk::henon(y, a, b, n); }},
            reps);
    auto std_map = dynlib::setup("builtin://map/standard");
    const double K = std_map.param("K");
    run_map({"standard map, builtin://map/standard", "builtin://map/standard", S(5e6), S(5e5),
             [K](double* y, std::int64_t n) { nk::standard(y, K, n); }},
            reps);
  }
  return 0;
}
