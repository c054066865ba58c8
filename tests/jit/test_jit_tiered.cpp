// Tiered compilation (docs/jit.md): a cold jit=true setup() returns with baseline native code, the
// optimised code replaces it when the background compile ends, also in the middle of a run, and the
// numbers never change. Each TEST_CASE runs in its own process (catch_discover_tests), so the test
// hooks set with setenv() here apply to that case only.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "dynlib/dynlib.hpp"

namespace {

// A key no other test or process uses, so the unit is compiled here (no memory or disk hit).
std::string fresh_token(const char* what) {
  return std::string("tiered-") + what + "-" + std::to_string(::getpid());
}

bool same(std::span<const double> a, std::span<const double> b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

dynlib::BuildOptions jit_options(const char* stepper, const char* token, bool tiered = true) {
  dynlib::BuildOptions o;
  o.stepper = stepper;
  o.jit = true;
  o.cache_token = fresh_token(token);
  o.jit_tiered = tiered;
  return o;
}

std::string model_info(const dynlib::FullModel& fm) {
  const auto dir = std::filesystem::temp_directory_path() / fresh_token("info");
  fm.export_sources(dir);
  std::ifstream in(dir / "model_info.txt");
  std::stringstream ss;
  ss << in.rdbuf();
  std::filesystem::remove_all(dir);
  return ss.str();
}

// rk4 for `steps` steps of dt, recording every 1000th step.
dynlib::RunOptions long_run(std::int64_t steps, double dt) {
  dynlib::RunOptions r;
  r.dt = dt;
  r.T = dt * static_cast<double>(steps);
  r.max_steps = steps + 10;
  r.record_interval = 1000;
  return r;
}

}  // namespace

TEST_CASE("a cold jit setup returns baseline code first, then the optimised code, same bits",
          "[jit][tiered]") {
  ::setenv("DYNLIB_JIT_TEST_TIER_DELAY_MS", "300", 1);  // keeps the optimised compile pending for a while
  auto sim = dynlib::setup("builtin://ode/vanderpol", jit_options("rk4", "first"));
  CHECK(sim.model().jit_tier() == "baseline");
  CHECK(sim.model().is_jitted("runner"));  // baseline code is native code too
  auto interp = dynlib::setup("builtin://ode/vanderpol", {.stepper = "rk4"});
  sim.run({.T = 20.0});
  interp.run({.T = 20.0});
  CHECK(same(sim.results().t(), interp.results().t()));
  CHECK(same(sim.results()["x"], interp.results()["x"]));

  sim.model().wait_optimized();
  CHECK(sim.model().jit_tier() == "optimized");
  CHECK(model_info(sim.model()).find("tier: optimized (tiered: baseline replaced after") !=
        std::string::npos);
  sim.run({.T = 40.0});
  interp.run({.T = 40.0});
  CHECK(same(sim.results()["x"], interp.results()["x"]));
  CHECK(same(sim.results()["y"], interp.results()["y"]));
  ::unsetenv("DYNLIB_JIT_TEST_TIER_DELAY_MS");
}

TEST_CASE("jit_tiered=false returns only with the optimised code", "[jit][tiered]") {
  ::setenv("DYNLIB_JIT_TEST_TIER_DELAY_MS", "300", 1);  // would leave a tiered build at baseline
  auto fm = dynlib::build("builtin://ode/lorenz", jit_options("rk4", "untiered", false));
  CHECK(fm->jit_tier() == "optimized");
  CHECK(model_info(*fm).find("tier: optimized\n") != std::string::npos);
  ::unsetenv("DYNLIB_JIT_TEST_TIER_DELAY_MS");
  auto interp = dynlib::build("builtin://ode/lorenz", {.stepper = "rk4"});
  CHECK(interp->jit_tier().empty());
  interp->wait_optimized();  // no-op without the JIT
}

TEST_CASE("a run executing baseline code switches to the optimised code mid-run, same bits",
          "[jit][tiered]") {
  // Reference: the optimised code from the start.
  const auto run = long_run(15000000, 1e-4);
  auto ref = dynlib::setup("builtin://ode/lorenz", jit_options("rk4", "reference", false));
  ref.run(run);

  ::setenv("DYNLIB_JIT_TEST_TIER_AFTER_RUN", "1", 1);  // publish only once a run executes baseline code
  auto sim = dynlib::setup("builtin://ode/lorenz", jit_options("rk4", "midrun"));
  REQUIRE(sim.model().jit_tier() == "baseline");
  // 15M Lorenz steps of baseline code take about 1 s here, ten times the optimising compile, so
  // the optimised code arrives during the run.
  CHECK(sim.run(run) == dynlib::Status::DONE);
  CHECK(sim.model().jit_tier() == "optimized");
  CHECK(model_info(sim.model()).find("runs switched mid-run: 1") != std::string::npos);
  CHECK(sim.step_count() == ref.step_count());
  CHECK(sim.t() == ref.t());
  CHECK(sim.state_vector() == ref.state_vector());
  CHECK(same(sim.results().t(), ref.results().t()));
  for (const char* s : {"x", "y", "z"}) CHECK(same(sim.results()[s], ref.results()[s]));
  ::unsetenv("DYNLIB_JIT_TEST_TIER_AFTER_RUN");
}

TEST_CASE("a user break during baseline code is the user's break, not a tier-up", "[jit][tiered]") {
  ::setenv("DYNLIB_JIT_TEST_TIER_DELAY_MS", "400", 1);
  auto sim = dynlib::setup("builtin://ode/hodgkin-huxley", jit_options("rk4", "break"));
  REQUIRE(sim.model().jit_tier() == "baseline");
  std::thread breaker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    sim.request_break();
  });
  const auto status = sim.run(long_run(50000000, 0.01));  // minutes of work: only the break ends it
  breaker.join();
  CHECK(status == dynlib::Status::USER_BREAK);
  // Returned at once, still in baseline code (a break taken for a tier-up would have kept running).
  CHECK(sim.model().jit_tier() == "baseline");
  CHECK(sim.step_count() > 0);
  CHECK(sim.step_count() < 50000000);
  // The session continues normally (now or later in optimised code).
  sim.model().wait_optimized();
  const auto before = sim.step_count();
  dynlib::RunOptions more;
  more.resume = true;
  more.T = sim.t() + 10.0;
  more.max_steps = before + 2000;
  CHECK(sim.run(more) == dynlib::Status::DONE);
  CHECK(sim.step_count() > before);
  ::unsetenv("DYNLIB_JIT_TEST_TIER_DELAY_MS");
}

TEST_CASE("a failed optimising compile is an error, never hidden", "[jit][tiered]") {
  ::setenv("DYNLIB_JIT_TEST_FAIL_OPTIMIZED", "1", 1);
  auto sim = dynlib::setup("builtin://ode/vanderpol", jit_options("rk4", "fail"));
  CHECK_THROWS_WITH(sim.model().wait_optimized(),
                    Catch::Contains("injected failure of the optimising compile"));
  CHECK_THROWS_AS(sim.run({.T = 1.0}), dynlib::JitError);
  CHECK(sim.model().jit_tier() == "baseline");
  ::unsetenv("DYNLIB_JIT_TEST_FAIL_OPTIMIZED");
}

TEST_CASE("a fork()ed child does not wait for the parent's optimising compile", "[jit][tiered]") {
  ::setenv("DYNLIB_JIT_TEST_TIER_DELAY_MS", "3000", 1);
  auto fm = dynlib::build("builtin://ode/vanderpol", jit_options("rk4", "fork"));
  REQUIRE(fm->jit_tier() == "baseline");
  const pid_t child = ::fork();
  if (child == 0) {  // the parent's compile thread does not exist here
    int code = 0;
    try {
      fm->wait_optimized();  // would block for ever
      code = 3;
    } catch (const dynlib::JitError&) {
    }
    ::unsetenv("DYNLIB_JIT_TEST_TIER_DELAY_MS");
    try {  // a compile of the child's own, then exit: waits for that job only
      auto own = dynlib::build("builtin://ode/lorenz", jit_options("rk4", "fork-child"));
    } catch (...) {
      code = 4;
    }
    std::exit(code);  // runs the atexit handlers
  }
  REQUIRE(child > 0);
  int status = -1;
  pid_t done = 0;
  for (int i = 0; i < 200 && done == 0; ++i) {  // up to 2 s, less than the delay
    done = ::waitpid(child, &status, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (done == 0) ::kill(child, SIGKILL), ::waitpid(child, &status, 0);
  CHECK(done == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  fm->wait_optimized();  // the parent's compile is unaffected
  CHECK(fm->jit_tier() == "optimized");
  ::unsetenv("DYNLIB_JIT_TEST_TIER_DELAY_MS");
}
