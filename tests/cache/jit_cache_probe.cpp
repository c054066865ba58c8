// Helper process for the JIT cache tests (test_jit_cache.cpp): runs setup(jit = true) of one model and
// prints how each unit was obtained and the bits of its results, one `key=value` line each:
//   origin1=built|disk|memory digest1=<32 hex> setup1_ms=<ms>
//   origin2=memory ...          (a second setup() of the same model in this process)
//   state1=<hex of the final state's bytes> state2=... interp=... match=1
//   warning: <text>             (every warning, through the sink)
//   ok
// Options: --model URI (builtin://ode/lorenz) --stepper S (rk4) --T x (5) --start-at EPOCH_MS
//          --no-disk (disk_cache = false) --no-wait (setup, run and exit: no wait for the optimised
//          unit, prints "ran") --analysis mle|spectrum (Henon-style observer run; prints the
//          observer outputs, the ANALYSIS digests and origins instead of states) --lanes (a batch
//          of 5 Lorenz points in SIMD lanes: the cache records and whether the runs match those without)
// DYNLIB_CONFIG in the environment names the cache root. DYNLIB_JIT_CACHE_TEST_HOLD_MS (plugin hook)
// makes the builder print "building" and sleep while it holds the entry lock.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <dynlib/dynlib.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/jit_loader.hpp"
#include "core/warnings.hpp"

namespace {

std::string hex_bytes(const std::vector<double>& v) {
  std::string out;
  char buf[17];
  for (double d : v) {
    std::uint64_t u;
    std::memcpy(&u, &d, sizeof u);
    std::snprintf(buf, sizeof buf, "%016" PRIx64, u);
    out += buf;
  }
  return out;
}

const dynlib::core::JitCompiledModel& jitted(const dynlib::Sim& sim) {
  return dynamic_cast<const dynlib::core::JitCompiledModel&>(sim.model().compiled());
}

}  // namespace

int main(int argc, char** argv) {
  std::string model = "builtin://ode/lorenz", stepper = "rk4", analysis;
  double T = 5.0;
  bool disk = true, no_wait = false, lanes = false;
  long long start_at = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--model")
      model = next();
    else if (a == "--stepper")
      stepper = next();
    else if (a == "--T")
      T = std::stod(next());
    else if (a == "--start-at")
      start_at = std::stoll(next());
    else if (a == "--no-disk")
      disk = false;
    else if (a == "--no-wait")
      no_wait = true;
    else if (a == "--analysis")
      analysis = next();
    else if (a == "--lanes")
      lanes = true;
  }
  dynlib::set_warning_handler([](std::string_view w) {
    std::printf("warning: %.*s\n", static_cast<int>(w.size()), w.data());
    std::fflush(stdout);
  });
  try {
    // Load the JIT component first (not part of the setup time), then wait for the common start.
    auto warm = dynlib::load_model(model);
    if (!dynlib::core::jit_available()) {
      std::printf("no-jit\n");
      return 3;
    }
    if (start_at > 0) {
      const auto at = std::chrono::system_clock::time_point(std::chrono::milliseconds(start_at));
      std::this_thread::sleep_until(at);
    }
    dynlib::BuildOptions bo;
    bo.stepper = stepper;
    bo.jit = true;
    bo.disk_cache = disk;
    if (lanes) {  // a batch in SIMD lanes: the lane runner's cache record, and the same runs without lanes
      auto fm = dynlib::build(model, bo);
      fm->wait_optimized();
      std::vector<dynlib::BatchItem> items;
      for (int q = 0; q < 5; ++q) items.push_back({.params = {{"rho", 20.0 + q}}});
      dynlib::BatchOptions o{.T = T, .dt = 0.01, .threads = 1};
      o.lanes = 4;
      const auto with = dynlib::run_batch(fm, items, o);
      o.lanes = 1;
      const auto without = dynlib::run_batch(fm, items, o);
      bool same = with.lanes == 4 && without.lanes == 1;
      for (std::size_t q = 0; q < items.size(); ++q)
        same = same && with.runs[q].final_state == without.runs[q].final_state;
      for (const auto& r :
           dynamic_cast<const dynlib::core::JitCompiledModel&>(fm->compiled()).cache_records())
        std::printf("record variant=%s digest=%s origin=%s\n", r.variant.c_str(), r.digest.c_str(),
                    r.origin.c_str());
      std::printf("match=%d\nok\n", same ? 1 : 0);
      return 0;
    }
    if (!analysis.empty()) {
      dynlib::RunOptions ro;
      ro.N = 20000;
      ro.transient = 100;
      ro.record = false;
      ro.observers = {analysis == "mle" ? dynlib::lyapunov_mle({.trace_stride = 0})
                                        : dynlib::lyapunov_spectrum({.trace_stride = 0})};
      auto sim = dynlib::setup(model, bo);
      sim.run(ro);
      sim.model().wait_optimized();
      const auto& out = sim.results().observer(analysis == "mle" ? "lyapunov_mle" : "lyapunov_spectrum");
      for (std::size_t k = 0; k < out.output_names.size(); ++k)
        std::printf("out.%s=%.17g\n", out.output_names[k].c_str(), out.outputs[k]);
      for (const auto& r : jitted(sim).cache_records())
        std::printf("record variant=%s digest=%s origin=%s sig=%s\n", r.variant.c_str(), r.digest.c_str(),
                    r.origin.c_str(), r.analysis_sig.c_str());
      auto ref = dynlib::setup(model, {.stepper = stepper, .jit = false});
      ref.run(ro);
      const auto& rout = ref.results().observer(analysis == "mle" ? "lyapunov_mle" : "lyapunov_spectrum");
      std::printf("match=%d\n", rout.outputs == out.outputs ? 1 : 0);
      std::printf("ok\n");
      return 0;
    }
    dynlib::RunOptions ro;
    ro.T = T;
    ro.record = false;
    if (no_wait) {  // run on whatever code is ready and exit (a tiered compile may still be going)
      auto sim = dynlib::setup(model, bo);
      sim.run(ro);
      std::printf("ran\nok\n");
      return 0;
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto sim1 = dynlib::setup(model, bo);
    const double ms1 =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    sim1.model().wait_optimized();  // tiered compilation: the origin of the optimised unit
    std::printf("origin1=%s digest1=%s setup1_ms=%.3f\n", jitted(sim1).cache_origin().c_str(),
                jitted(sim1).cache_records().front().digest.c_str(), ms1);
    std::fflush(stdout);
    const auto t1 = std::chrono::steady_clock::now();
    auto sim2 = dynlib::setup(model, bo);
    const double ms2 =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count();
    std::printf("origin2=%s digest2=%s setup2_ms=%.3f\n", jitted(sim2).cache_origin().c_str(),
                jitted(sim2).cache_records().front().digest.c_str(), ms2);
    sim1.run(ro);
    sim2.run(ro);
    // The standalone entry points (cold module) must work too.
    jitted(sim1).materialize_all();
    auto ref = dynlib::setup(model, {.stepper = stepper, .jit = false});
    ref.run(ro);
    const std::string s1 = hex_bytes(sim1.state_vector()), s2 = hex_bytes(sim2.state_vector()),
                      si = hex_bytes(ref.state_vector());
    std::printf("state1=%s\nstate2=%s\ninterp=%s\nmatch=%d\n", s1.c_str(), s2.c_str(), si.c_str(),
                (s1 == si && s2 == si) ? 1 : 0);
    std::printf("source_rhs_bytes=%zu\n", sim1.model().source("rhs").size());
    std::printf("ok\n");
    return 0;
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
}
