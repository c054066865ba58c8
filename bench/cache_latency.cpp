// Latency of the compiled-code cache for the builtin models (their default steppers), each
// measurement of setup() (from the call to ready) in a FRESH child process, on a private cache root:
//   cold compile   : empty cache root, jit=true, disk_cache=true (compile + store)
//   warm disk hit  : the entry exists: load the object files (no IR, no O3)
//   in-process hit : a second setup() of the same model in that process (registry hit), and the same
//                    with an already loaded ModelPtr (build() only: no model parsing)
// The one-time cost of loading the JIT component (dlopen libdynlib_jit.so + libLLVM) and of creating
// the LLJIT is measured separately and is NOT part of the setup() times.
//
// Usage: cache_latency [runs=5]
//   (internal) cache_latency --child URI -> "ok load_ms engine_ms setup_ms origin mem_setup_ms mem_build_ms"
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <dynlib/dynlib.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/jit_loader.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

int child(const std::string& uri) {
  auto t = Clock::now();
  if (!dynlib::core::jit_available()) {
    std::printf("nojit\n");
    return 0;
  }
  const double load_ms = ms_since(t);
  // Create the LLJIT with an unrelated tiny unit (float32: another key), memory only (so engine creation is
  // not in setup()). Its optimising compile runs in the background (tiered compilation): wait for it, or
  // the timed setup() below shares the CPU with it (on 2 cores: a warm hit of 1 ms took 3-10 ms).
  t = Clock::now();
  auto warm = dynlib::build("builtin://map/logistic", {.jit = true, .disk_cache = false, .dtype = "float32"});
  const double engine_ms = ms_since(t);
  warm->wait_optimized();
  auto model = dynlib::load_model(uri);
  t = Clock::now();
  auto sim = dynlib::setup(uri, {.jit = true, .disk_cache = true});
  const double setup_ms = ms_since(t);
  const auto& jm = dynamic_cast<const dynlib::core::JitCompiledModel&>(sim.model().compiled());
  t = Clock::now();
  auto sim2 = dynlib::setup(uri, {.jit = true, .disk_cache = true});
  const double mem_setup_ms = ms_since(t);
  t = Clock::now();
  auto fm = dynlib::build(model, {.jit = true, .disk_cache = true});
  const double mem_build_ms = ms_since(t);
  std::printf("ok %.4f %.4f %.4f %s %.4f %.4f\n", load_ms, engine_ms, setup_ms, jm.cache_origin().c_str(),
              mem_setup_ms, mem_build_ms);
  return 0;
}

struct Sample {
  double load = 0, engine = 0, setup = 0, mem_setup = 0, mem_build = 0;
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
    if (std::sscanf(line, "ok %lf %lf %lf %31s %lf %lf", &s.load, &s.engine, &s.setup, origin, &s.mem_setup,
                    &s.mem_build) == 6) {
      s.origin = origin;
      ok = true;
    }
  }
  ::pclose(p);
  return ok;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}
double maxv(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "--child") return child(argv[2]);
  const int runs = argc >= 2 ? std::max(1, std::atoi(argv[1])) : 5;
  const std::string self = std::filesystem::canonical("/proc/self/exe").string();
  char tmpl[] = "/tmp/dynlib-cache-bench-XXXXXX";
  const std::filesystem::path dir = ::mkdtemp(tmpl);
  const auto cfg = dir / "config.toml";
  std::ofstream(cfg) << "[cache]\nroot = \"" << (dir / "root").string() << "\"\n";
  ::setenv("DYNLIB_CONFIG", cfg.c_str(), 1);

  const std::vector<std::string> models = {"builtin://map/logistic", "builtin://map/henon",
                                           "builtin://ode/lorenz", "builtin://ode/vanderpol",
                                           "builtin://ode/izhikevich"};
  std::printf(
      "cache latency, %d fresh processes per figure (median / max, ms); targets: warm disk hit <= 1 ms "
      "median, in-process hit <= 0.1 ms\n",
      runs);
  std::printf("%-26s %16s %16s %16s %16s\n", "model", "cold compile", "warm disk hit", "in-proc setup()",
              "in-proc build()");
  std::vector<double> all_load, all_engine;
  for (const auto& uri : models) {
    std::vector<double> cold, warm, mem_setup, mem_build;
    for (int r = 0; r < runs; ++r) {
      std::filesystem::remove_all(dir / "root");
      Sample s;
      if (!run_child(self, uri, s)) {
        std::printf("%s: child failed\n", uri.c_str());
        return 1;
      }
      if (s.origin != "built") std::printf("  (unexpected origin %s for a cold run)\n", s.origin.c_str());
      cold.push_back(s.setup);
      all_load.push_back(s.load);
      all_engine.push_back(s.engine);
    }
    for (int r = 0; r < runs; ++r) {
      Sample s;
      if (!run_child(self, uri, s)) return 1;
      if (s.origin != "disk") std::printf("  (unexpected origin %s for a warm run)\n", s.origin.c_str());
      warm.push_back(s.setup);
      mem_setup.push_back(s.mem_setup);
      mem_build.push_back(s.mem_build);
    }
    std::printf("%-26s %7.2f / %6.2f %7.2f / %6.2f %7.3f / %6.3f %7.4f / %6.4f\n", uri.c_str(), median(cold),
                maxv(cold), median(warm), maxv(warm), median(mem_setup), maxv(mem_setup), median(mem_build),
                maxv(mem_build));
  }
  std::printf(
      "one-time per process (not in the figures above): JIT component load (dlopen + libLLVM) %.1f ms "
      "median, first unit incl. LLJIT creation %.1f ms median\n",
      median(all_load), median(all_engine));
  std::printf(
      "targets: warm disk hit <= 1 ms median; in-process hit <= 0.1 ms (setup() includes parsing the "
      "model; build() of a loaded ModelPtr does not)\n");
  std::filesystem::remove_all(dir);
  return 0;
}
