// JIT compile latency (jit=true, disk_cache=false), every measurement in a FRESH child process:
//  1. cold setup(): for each builtin model (its default stepper), the wall time of the first
//     dynlib::setup(uri, {.jit = true, .disk_cache = false}) in a new process. That includes loading
//     the JIT component (dlopen libdynlib_jit.so + libLLVM), creating the process-wide LLJIT, parsing
//     the model and compiling every component. The same child then times a second setup() of the same
//     model (LLJIT already created: "warm"), then a third with a new cache_token ("recomp": a full
//     compile without the first-use costs of the process), and reports the JIT's own timing breakdown.
//  2. growth with model size: Lorenz-96 (rk4) with 10, 100 and 1000 states, same method.
// Also, for reference, cold setup() with jit=false in a fresh process.
//  3. (--large only) very large generated models: many events, many lagged states, a 2-D Brusselator.
//
// Usage: jit_compile_latency [runs_per_model=3] [max_states=1000]
//        jit_compile_latency --large [events:1000,events:10000,lagged:1000,lagged:10000,bruss:32]
//   (internal) jit_compile_latency --child jit|interp URI      -> one line "ok cold_ms warm_ms build opt cg"
//   (internal) jit_compile_latency --child-l96 jit|interp N [nowarm]
//   (internal) jit_compile_latency --child-large jit|interp KIND N
//   (profiling) jit_compile_latency --loop URI N   -> N full compiles in one process (new cache_token each)
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <dynlib/dynlib.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench_models.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}
double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return 1e3 * static_cast<double>(ts.tv_sec) + 1e-6 * static_cast<double>(ts.tv_nsec);
}
std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string one_line(std::string s) {
  for (auto& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  if (s.size() > 200) s = s.substr(0, 197) + "...";
  return s;
}

// The JIT's own breakdown, from model_info.txt ("timings_ms: build_ir=.. verify=.. optimize=..
// codegen_link=..").
std::string jit_breakdown(const dynlib::FullModel& fm) {
  char tmpl[] = "/tmp/dynlib-bench-XXXXXX";
  if (!mkdtemp(tmpl)) return "-";
  std::string out = "-";
  try {
    auto files = fm.export_sources(tmpl);
    auto it = files.find("model_info");
    if (it != files.end()) {
      std::ifstream in(it->second);
      std::string line;
      std::string base;
      while (std::getline(in, line)) {
        if (line.rfind("timings_ms:", 0) == 0) out = line.substr(11);
        if (line.rfind("baseline_timings_ms:", 0) == 0) base = line.substr(line.find("total=") + 6);
      }
      if (!base.empty()) out = "baseline total=" + base + " | optimised:" + out;
    }
  } catch (const std::exception&) {
  }
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
  while (!out.empty() && out.front() == ' ') out.erase(out.begin());
  return out;
}

// Child: prints exactly one line: "OK <cold_ms> <cold_cpu_ms> <warm_ms> <recomp_ms> <optimized_ms>
// <breakdown...>" or "ERR <message>". warm, recomp < 0: not measured.
int child(bool jit, const std::string& uri, bool warm_too) {
  try {
    const double c0 = cpu_ms();
    const auto t0 = Clock::now();
    auto sim = dynlib::setup(uri, {.jit = jit, .disk_cache = false});
    const double cold = ms_since(t0), cold_cpu = cpu_ms() - c0;
    sim.model().wait_optimized();  // tiered compilation: the optimised code replaces the baseline
    const double optimized = ms_since(t0);
    double warm = -1, recomp = -1;
    if (warm_too) {
      const auto t1 = Clock::now();
      auto sim2 = dynlib::setup(uri, {.jit = jit, .disk_cache = false});
      warm = ms_since(t1);
      if (jit) {  // a full compile in a process where LLVM has already run once (new cache_token)
        const auto t2 = Clock::now();
        auto sim3 = dynlib::setup(uri, {.jit = true,
                                        .disk_cache = false,
                                        .cache_token = "jit_compile_latency:recompile",
                                        .jit_tiered = false});
        recomp = ms_since(t2);
      }
    }
    std::printf("OK %.3f %.3f %.3f %.3f %.3f %s\n", cold, cold_cpu, warm, recomp, optimized,
                jit ? jit_breakdown(sim.model()).c_str() : "-");
  } catch (const std::exception& e) {
    std::printf("ERR %s\n", one_line(e.what()).c_str());
  }
  return 0;
}

// Child: one setup() with jit_tiered = false (returns with the optimised code), same output line as child().
int child_untiered(const std::string& uri) {
  try {
    const double c0 = cpu_ms();
    const auto t0 = Clock::now();
    auto sim = dynlib::setup(uri, {.jit = true, .disk_cache = false, .jit_tiered = false});
    const double ms = ms_since(t0), cpu = cpu_ms() - c0;
    std::printf("OK %.3f %.3f -1 -1 %.3f %s\n", ms, cpu, ms, jit_breakdown(sim.model()).c_str());
  } catch (const std::exception& e) {
    std::printf("ERR %s\n", one_line(e.what()).c_str());
  }
  return 0;
}

struct Sample {
  bool ok = false;
  double cold = 0, cold_cpu = 0, warm = 0, recomp = 0, optimized = 0;
  std::string breakdown, error;
};

std::string self_exe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("jit_compile_latency") : p.string();
}

Sample spawn(const std::string& args) {
  Sample s;
  std::string cmd = "'";
  cmd += self_exe();
  cmd += "' ";
  cmd += args;
  cmd += " 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) {
    s.error = "popen failed";
    return s;
  }
  std::string out;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), f)) out += buf.data();
  const int rc = pclose(f);
  std::istringstream is(out);
  std::string line;
  while (std::getline(is, line)) {
    if (line.rfind("OK ", 0) == 0) {
      std::istringstream ls(line.substr(3));
      ls >> s.cold >> s.cold_cpu >> s.warm >> s.recomp >> s.optimized;
      std::getline(ls, s.breakdown);
      while (!s.breakdown.empty() && s.breakdown.front() == ' ') s.breakdown.erase(s.breakdown.begin());
      s.ok = true;
      return s;
    }
    if (line.rfind("ERR ", 0) == 0) {
      s.error = line.substr(4);
      return s;
    }
  }
  s.error = "child exited with status " + std::to_string(rc) + ": " + one_line(out);
  return s;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Agg {
  std::vector<double> cold, cold_cpu, warm, recomp, optimized;
  std::string breakdown, error;
};

Agg measure(const std::string& args, int runs) {
  Agg a;
  for (int r = 0; r < runs; ++r) {
    auto s = spawn(args);
    if (!s.ok) {
      a.error = s.error;
      return a;
    }
    a.cold.push_back(s.cold);
    a.cold_cpu.push_back(s.cold_cpu);
    a.warm.push_back(s.warm);
    a.recomp.push_back(s.recomp);
    a.optimized.push_back(s.optimized);
    a.breakdown = s.breakdown;  // of the last run
  }
  return a;
}

}  // namespace

// For profiling (perf record): n full compiles of one model in one process, each with a new cache_token.
int child_loop(const std::string& uri, int n) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    auto sim =
        dynlib::setup(uri, {.jit = true, .disk_cache = false, .cache_token = "loop" + std::to_string(i)});
    ms.push_back(ms_since(t0));
    if (i + 1 == n) std::printf("last breakdown: %s\n", jit_breakdown(sim.model()).c_str());
  }
  std::printf("first %.2f ms, median of the rest %.2f ms\n", ms[0],
              median(std::vector<double>(ms.begin() + (n > 1 ? 1 : 0), ms.end())));
  return 0;
}

std::string large_model(const std::string& kind, int n) {
  if (kind == "events") return bench::many_events_toml(n);
  if (kind == "lagged") return bench::lagged_states_toml(n);
  if (kind == "bruss") return bench::brusselator2d_toml(n, 0.002);
  return {};
}

// --large: cold setup() (baseline code), optimised code in use, and setup() with jit_tiered = false
// (--child-large-untiered), each in a fresh process.
int large_main(const std::string& list) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("jit_compile_latency --large: fresh child process per figure, disk_cache = false.\n");
  std::printf("Load average at start: %s\n", loadavg().c_str());
  std::printf("  %-14s %10s %10s %10s %12s %12s   %s\n", "model", "interp", "cold", "optim", "untiered",
              "untiered cpu", "JIT breakdown of the untiered run (ms)");
  std::istringstream items(list);
  std::string item;
  while (std::getline(items, item, ',')) {
    const auto colon = item.find(':');
    if (colon == std::string::npos) continue;
    const std::string kind = item.substr(0, colon), n = item.substr(colon + 1);
    if (large_model(kind, std::atoi(n.c_str())).empty()) {
      std::printf("  %-14s unknown kind (events, lagged, bruss)\n", item.c_str());
      continue;
    }
    Agg in = measure("--child-large interp " + kind + " " + n, 1);
    Agg a = measure("--child-large jit " + kind + " " + n, 1);
    Agg u = measure("--child-large untiered " + kind + " " + n, 1);
    auto first = [](const std::vector<double>& v) { return v.empty() ? -1.0 : v[0]; };
    std::printf("  %-14s %10.1f %10.1f %10.1f %12.1f %12.1f   %s%s%s\n", item.c_str(), first(in.cold),
                first(a.cold), first(a.optimized), first(u.cold), first(u.cold_cpu), u.breakdown.c_str(),
                a.error.empty() ? "" : (" JIT FAILED: " + a.error).c_str(),
                u.error.empty() ? "" : (" UNTIERED FAILED: " + u.error).c_str());
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "--large")
    return large_main(argc >= 3 ? argv[2] : "events:1000,events:10000,lagged:1000,lagged:10000,bruss:32");
  if (argc >= 5 && std::string(argv[1]) == "--child-large") {
    const std::string mode = argv[2];
    const std::string uri = large_model(argv[3], std::atoi(argv[4]));
    if (mode == "untiered") return child_untiered(uri);
    return child(mode == "jit", uri, false);
  }
  if (argc >= 4 && std::string(argv[1]) == "--loop") return child_loop(argv[2], std::atoi(argv[3]));
  if (argc >= 4 && std::string(argv[1]) == "--child")
    return child(std::string(argv[2]) == "jit", argv[3], true);
  if (argc >= 4 && std::string(argv[1]) == "--child-l96")
    return child(std::string(argv[2]) == "jit", bench::lorenz96_toml(std::atoi(argv[3]), 8.0),
                 argc < 5 || std::string(argv[4]) != "nowarm");
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress is visible when redirected to a file
  const int max_states = argc > 2 ? std::atoi(argv[2]) : 1000;

  std::printf(
      "jit_compile_latency: wall time of dynlib::setup(uri, {.jit = ..., .disk_cache = false}), default "
      "stepper.\n");
  std::printf(
      "Load average at start: %s (2 shared cores: wall times inflate under load; cpu = process CPU time).\n",
      loadavg().c_str());
  std::printf("Every run is a FRESH child process (this binary re-executed), %d run(s) per model:\n", runs);
  std::printf(
      "  cold = first setup() in the process: dlopen of the JIT component, LLJIT creation, model\n"
      "         load/parse/lower, IR generation and the BASELINE compile (tiered compilation: O0, fast "
      "isel;\n"
      "         setup() returns with native baseline code, docs/jit.md);\n"
      "  optim = from the start of setup() until the optimised code replaced the baseline\n"
      "         (Sim::model().wait_optimized(); the optimising compile runs on a background thread);\n"
      "  warm = a second setup() of the same model in that process (LLJIT exists; no disk cache).\n"
      "  recomp = then a third setup() with a new cache_token and jit_tiered = false: a full optimising "
      "compile\n"
      "         in a process where LLVM has already run (no dlopen, no first-touch page faults of LLVM's "
      "code).\n"
      "  cpu  = process CPU time at the return of the cold setup() (both threads).\n"
      "  breakdown = the JIT's own timings (ms), from model_info.txt: baseline total, then the optimising "
      "compile.\n");

  // Is the JIT there at all?
  const auto probe = spawn("--child jit builtin://ode/lorenz");
  const bool have_jit = probe.ok;
  if (!have_jit)
    std::printf("\nJIT UNAVAILABLE or failing: %s\n  -> only the interpreter numbers are printed.\n",
                probe.error.c_str());

  std::printf("\n== 1. cold setup() per builtin model ==\n");
  std::printf("  %-20s %-6s %9s %9s %9s %9s %9s %9s %9s   %s\n", "model", "mode", "cold med", "cold max",
              "optim med", "cpu med", "warm med", "recomp", "interp",
              "JIT breakdown of the last cold run (ms)");
  std::vector<double> per_model_med, all_cold, per_model_cpu, per_model_recomp, per_model_opt;
  for (const auto& name : dynlib::builtin_model_names()) {
    const std::string uri = "builtin://" + name;
    Agg in = measure("--child interp " + uri, 1);
    const double interp = in.cold.empty() ? -1 : in.cold[0];
    if (!have_jit) {
      std::printf("  %-20s %-6s %9s %9s %9s %9s %9s %9s %9.2f\n", name.c_str(), "interp", "-", "-", "-", "-",
                  "-", "-", interp);
      continue;
    }
    Agg a = measure("--child jit " + uri, runs);
    if (!a.error.empty()) {
      std::printf("  %-20s SKIPPED: %s\n", name.c_str(), a.error.c_str());
      continue;
    }
    const double med = median(a.cold), mx = *std::max_element(a.cold.begin(), a.cold.end());
    per_model_med.push_back(med);
    per_model_cpu.push_back(median(a.cold_cpu));
    per_model_recomp.push_back(median(a.recomp));
    per_model_opt.push_back(median(a.optimized));
    all_cold.insert(all_cold.end(), a.cold.begin(), a.cold.end());
    std::printf("  %-20s %-6s %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9.2f   %s\n", name.c_str(), "jit", med, mx,
                median(a.optimized), median(a.cold_cpu), median(a.warm), median(a.recomp), interp,
                a.breakdown.c_str());
  }
  if (have_jit && !per_model_med.empty()) {
    const double med = median(per_model_med), mx = *std::max_element(all_cold.begin(), all_cold.end());
    std::printf(
        "  => cold setup over %zu models: median of per-model medians %.2f ms, max of all %zu runs %.2f ms"
        "   [target: median <= 40 ms: %s]\n",
        per_model_med.size(), med, all_cold.size(), mx, med <= 40.0 ? "MET" : "MISSED");
    std::printf(
        "  => median of per-model medians: optimised code in use after %.2f ms; cold CPU %.2f ms; "
        "optimising recompile in the same process %.2f ms; cold wall min/max over models %.1f / %.1f ms\n",
        median(per_model_opt), median(per_model_cpu), median(per_model_recomp),
        *std::min_element(per_model_med.begin(), per_model_med.end()),
        *std::max_element(per_model_med.begin(), per_model_med.end()));
  }

  std::printf("\n== 2. compile time vs model size: Lorenz-96 (explicit equations), rk4 ==\n");
  std::printf(
      "  (n <= 100: %d run(s), cold and warm; n = 1000: 1 run, cold only, since it can take minutes)\n",
      runs);
  std::printf("  %-7s %-6s %10s %10s %10s %10s %10s %13s %11s   %s\n", "states", "mode", "cold med",
              "optim med", "cpu med", "warm med", "recomp", "optim ms/st", "interp cold",
              "JIT breakdown of the last cold run (ms)");
  double opt1000 = -1;
  for (int n : {10, 100, 1000}) {
    if (n > max_states) {
      std::printf("  %-7d skipped (max_states = %d)\n", n, max_states);
      continue;
    }
    Agg in = measure("--child-l96 interp " + std::to_string(n), 1);
    const double interp = in.cold.empty() ? -1 : in.cold[0];
    if (!have_jit) {
      std::printf("  %-7d %-6s %10s %10s %10s %10s %10s %13s %11.2f\n", n, "interp", "-", "-", "-", "-", "-",
                  "-", interp);
      continue;
    }
    const bool big = n > 100;
    Agg a = measure("--child-l96 jit " + std::to_string(n) + (big ? " nowarm" : ""), big ? 1 : runs);
    if (!a.error.empty()) {
      std::printf("  %-7d FAILED: %s\n", n, a.error.c_str());
      continue;
    }
    const double cm = median(a.cold), om = median(a.optimized);
    if (n == 1000) opt1000 = om;
    char warm[32] = "-", recomp[32] = "-";
    if (!big) {
      std::snprintf(warm, sizeof warm, "%.1f", median(a.warm));
      std::snprintf(recomp, sizeof recomp, "%.1f", median(a.recomp));
    }
    std::printf("  %-7d %-6s %10.1f %10.1f %10.1f %10s %10s %13.2f %11.2f   %s\n", n, "jit", cm, om,
                median(a.cold_cpu), warm, recomp, om / n, interp, a.breakdown.c_str());
  }
  if (opt1000 >= 0)
    std::printf(
        "  => 1000 states: optimised code after %.0f ms   [target: <= 2000 ms and about linear growth: %s]\n",
        opt1000, opt1000 <= 2000.0 ? "MET" : "MISSED");
  return 0;
}
