// The throughput figures side by side with their targets, in one run (bench/README.md "throughput_table"):
//   maps          : ns/iteration of the JIT'd logistic, Henon and standard maps (record off) vs the plain
//                   C++ loop of bench/native_kernels.cpp                                   target <= 1.2x
//   warm disk hit : setup() of a model whose compiled code is in the disk cache, in a fresh process with the
//                   JIT component loaded and the LLJIT created (median of `runs`)            target <= 1 ms
//   in-process hit: a second setup(uri) of the same model in that process                  target <= 0.1 ms
//   first setup   : the first jit=true setup of a process: component load + LLJIT + a unit (reported)
//   Lorenz rk4    : interpreter / JIT ns per step                                          target <= 8x
// Every timing is the minimum (maps, Lorenz) or median (setup) over repetitions. DYNLIB_BENCH_CLOCK=cpu
// times the maps and Lorenz with the CPU time of the thread (for a machine shared with other jobs).
//
// Usage: throughput_table [runs=7]
//   (internal) throughput_table --child URI -> "ok first_ms warm_ms origin mem_ms warm_cpu_ms"
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <dynlib/dynlib.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "core/jit_loader.hpp"
#include "native_kernels.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

bool cpu_clock() {
  const char* e = std::getenv("DYNLIB_BENCH_CLOCK");
  return e != nullptr && std::string(e) == "cpu";
}
double now_ns() {
  if (cpu_clock()) {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
  }
  return std::chrono::duration<double, std::nano>(Clock::now().time_since_epoch()).count();
}

// CPU time of the process (every thread; the timed setup() runs with no background compile).
double process_cpu_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? NAN : v[v.size() / 2];
}
double min_of(const std::vector<double>& v) {
  return v.empty() ? NAN : *std::min_element(v.begin(), v.end());
}

// Minimum ns per unit of `f` (which performs `units` units) over `reps` repetitions after one warm-up.
double min_ns(int reps, std::int64_t units, const std::function<void()>& f) {
  f();
  std::vector<double> v;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_ns();
    f();
    v.push_back((now_ns() - t0) / static_cast<double>(units));
  }
  return min_of(v);
}

// In a fresh process: the first jit=true setup (component load, LLJIT, an unrelated unit), then the timed
// setup() of `uri` through the disk cache, then a second setup() of it (in-process hit).
int child(const std::string& uri) {
  auto t = Clock::now();
  if (!dynlib::core::jit_available()) {
    std::printf("nojit\n");
    return 0;
  }
  auto first =
      dynlib::build("builtin://map/logistic", {.jit = true, .disk_cache = false, .dtype = "float32"});
  const double first_ms = ms_since(t);
  first->wait_optimized();        // its background compile would share the CPU with the timed setup()
  (void)dynlib::load_model(uri);  // parsing is not part of a cache hit
  t = Clock::now();
  const double c0 = process_cpu_ms();
  auto sim = dynlib::setup(uri, {.jit = true, .disk_cache = true});
  const double warm_cpu_ms = process_cpu_ms() - c0;
  const double warm_ms = ms_since(t);
  const auto& jm = dynamic_cast<const dynlib::core::JitCompiledModel&>(sim.model().compiled());
  t = Clock::now();
  auto sim2 = dynlib::setup(uri, {.jit = true, .disk_cache = true});
  const double mem_ms = ms_since(t);
  std::printf("ok %.4f %.4f %s %.4f %.4f\n", first_ms, warm_ms, jm.cache_origin().c_str(), mem_ms,
              warm_cpu_ms);
  return 0;
}

struct Sample {
  double first = 0, warm = 0, mem = 0, warm_cpu = 0;
  std::string origin;
};

bool run_child(const std::string& self, const std::string& uri, Sample& s) {
  const std::string cmd = "'" + self + "' --child '" + uri + "'";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return false;
  char line[512] = {0};
  bool ok = false;
  while (std::fgets(line, sizeof line, p)) {
    char origin[32] = {0};
    if (std::sscanf(line, "ok %lf %lf %31s %lf %lf", &s.first, &s.warm, origin, &s.mem, &s.warm_cpu) == 5) {
      s.origin = origin;
      ok = true;
    }
  }
  ::pclose(p);
  return ok;
}

void row(const char* measure, const std::string& now, const char* target, bool met) {
  std::printf("| %-52s | %-30s | %-10s | %-4s |\n", measure, now.c_str(), target, met ? "yes" : "NO");
}
std::string fmt(const char* f, double a, double b = NAN, double c = NAN) {
  char buf[128];
  std::snprintf(buf, sizeof buf, f, a, b, c);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "--child") return child(argv[2]);
  const int runs = argc >= 2 ? std::max(1, std::atoi(argv[1])) : 7;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  {
    std::ifstream la("/proc/loadavg");
    std::string l1, l5, l15;
    la >> l1 >> l5 >> l15;
    std::printf("throughput_table: load average %s %s %s; clock: %s\n", l1.c_str(), l5.c_str(), l15.c_str(),
                cpu_clock() ? "thread CPU time" : "wall time");
  }
  if (!dynlib::jit_available()) {
    std::printf("JIT unavailable: build the dynlib_jit target\n");
    return 1;
  }
  std::printf("| %-52s | %-30s | %-10s | %-4s |\n", "measure", "now", "target", "met");
  std::printf("|%s|%s|%s|%s|\n", std::string(54, '-').c_str(), std::string(32, '-').c_str(),
              std::string(12, '-').c_str(), std::string(6, '-').c_str());

  // Maps: JIT (optimised code) vs the plain loop, record off.
  struct MapCase {
    const char* label;
    const char* uri;
    std::int64_t n;
    std::function<void(double*, std::int64_t)> native;
  };
  auto logistic = dynlib::setup("builtin://map/logistic");
  auto henon = dynlib::setup("builtin://map/henon");
  auto standard = dynlib::setup("builtin://map/standard");
  const double r = logistic.param("r"), a = henon.param("a"), b = henon.param("b"), K = standard.param("K");
  const std::vector<MapCase> maps = {
      {"logistic map, JIT vs plain loop, ns/iteration", "builtin://map/logistic", 20000000,
       [r](double* y, std::int64_t n) { nk::logistic(y, r, n); }},
      {"Henon map, JIT vs plain loop, ns/iteration", "builtin://map/henon", 20000000,
       [a, b](double* y, std::int64_t n) { nk::henon(y, a, b, n); }},
      {"standard map, JIT vs plain loop, ns/iteration", "builtin://map/standard", 5000000,
       [K](double* y, std::int64_t n) { nk::standard(y, K, n); }}};
  for (const auto& m : maps) {
    auto sim = dynlib::setup(m.uri, {.jit = true});
    sim.model().wait_optimized();
    const auto y0 = sim.state_vector();
    const double jit = min_ns(runs, m.n, [&] {
      sim.reset();
      sim.run({.N = m.n, .record = false, .max_steps = m.n + 10});
    });
    const double native = min_ns(runs, m.n, [&] {
      auto y = y0;
      m.native(y.data(), m.n);
    });
    row(m.label, fmt("%.2f vs %.2f (%.2fx)", jit, native, jit / native), "<= 1.2x", jit / native <= 1.2);
  }

  // Setup latencies, each in fresh processes on a private cache root.
  const std::string self = std::filesystem::canonical("/proc/self/exe").string();
  char tmpl[] = "/tmp/dynlib-throughput-XXXXXX";
  const std::filesystem::path dir = ::mkdtemp(tmpl);
  std::ofstream(dir / "config.toml") << "[cache]\nroot = \"" << (dir / "root").string() << "\"\n";
  ::setenv("DYNLIB_CONFIG", (dir / "config.toml").c_str(), 1);
  std::vector<double> first, warm, mem, warm_cpu;
  for (const char* uri : {"builtin://map/logistic", "builtin://ode/lorenz"}) {
    Sample s;
    if (!run_child(self, uri, s)) {  // fills the cache (a cold compile)
      std::printf("child failed for %s\n", uri);
      return 1;
    }
    for (int k = 0; k < runs; ++k) {
      if (!run_child(self, uri, s)) return 1;
      if (s.origin != "disk") std::printf("  (unexpected origin %s for a warm run)\n", s.origin.c_str());
      first.push_back(s.first);
      warm.push_back(s.warm);
      mem.push_back(s.mem);
      warm_cpu.push_back(s.warm_cpu);
    }
  }
  std::filesystem::remove_all(dir);
  row("warm disk-cache hit, median ms (logistic, Lorenz)",
      fmt("%.3f (max %.3f)", median(warm), *std::max_element(warm.begin(), warm.end())), "<= 1 ms",
      median(warm) <= 1.0);
  row("  the same, CPU time of the process, median ms", fmt("%.3f", median(warm_cpu)), "<= 1 ms",
      median(warm_cpu) <= 1.0);
  row("in-process setup(uri) hit, median ms", fmt("%.4f", median(mem)), "<= 0.1 ms", median(mem) <= 0.1);
  row("first jit=true setup of a process, median ms", fmt("%.1f", median(first)), "(report)", true);

  // Lorenz rk4: interpreter / JIT.
  {
    auto jit = dynlib::setup("builtin://ode/lorenz", {.stepper = "rk4", .jit = true});
    jit.model().wait_optimized();
    auto in = dynlib::setup("builtin://ode/lorenz", {.stepper = "rk4"});
    const double dt = 1e-3;
    auto run = [&](dynlib::Sim& s, std::int64_t n) {
      s.reset();
      s.run({.T = static_cast<double>(n) * dt, .dt = dt, .record = false, .max_steps = n + 10});
    };
    const double j = min_ns(runs, 1000000, [&] { run(jit, 1000000); });
    const double i = min_ns(runs, 100000, [&] { run(in, 100000); });
    row("Lorenz rk4, interpreter / JIT, ns/step", fmt("%.1f / %.1f (%.1fx)", i, j, i / j), "<= 8x",
        i / j <= 8.0);
  }
  return 0;
}
