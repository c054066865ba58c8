// Event counts: every firing counts, logged or not (an event without `log` leaves no EventRecord), in
// Results, batch/sweep points and their CSV; the counters are session state (resume, snapshots).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <dynlib/dynlib.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace dynlib;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// `tick` (logged) and `reset` (no log) fire together whenever x reaches 1; dt = 0.25 keeps x exact, so
// rate = 1 fires every 4 steps and rate = 2 every 2.
const char* kModel = R"M(inline:
[model]
type = "ode"
[states]
x = 0.0
[params]
rate = 1.0
[equations.rhs]
x = "rate"
[events.tick]
cond = "x >= 1"
log = ["t"]
[events.reset]
cond = "x >= 1"
action = "x = 0"
[sim]
dt = 0.25
t_end = 10.0
stepper = "rk4"
)M";

std::vector<bool> jit_modes() {
#if DYNLIB_TEST_HAVE_JIT
  return {false, true};
#else
  return {false};
#endif
}

fs::path tmp(const std::string& name) {
  return fs::temp_directory_path() / ("dynlib_evcount_" + std::to_string(::getpid()) + "_" + name);
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("event counts include events without a log", "[events][counts]") {
  for (bool jit : jit_modes()) {
    INFO("jit " << jit);
    auto sim = setup(kModel, {.jit = jit});
    REQUIRE(sim.run() == Status::DONE);
    const auto& R = sim.results();
    REQUIRE(R.event_names() == std::vector<std::string>{"tick", "reset"});
    CHECK(R.event_counts() == std::vector<std::int64_t>{10, 10});
    CHECK(R.event_count("reset") == 10);
    CHECK(R.events().count("tick") == 10);
    CHECK(R.events().count("reset") == 0);  // fired, but nothing logged
    CHECK_THROWS_WITH(R.event_count("rest"), Contains("Unknown event 'rest' (did you mean 'reset'?)"));

    // a resume adds its firings; a transient warm-up is not counted (as the log)
    REQUIRE(sim.run({.T = 15.0, .resume = true}) == Status::DONE);
    CHECK(sim.results().event_count("reset") == 15);
    REQUIRE(sim.run({.T = 10.0, .transient = 5.0}) == Status::DONE);
    CHECK(sim.results().event_count("reset") == 10);
    CHECK(sim.results().event_count("tick") == 10);
  }
}

TEST_CASE("event counters travel in snapshot files and are checked there", "[events][counts][snapshot]") {
  auto sim = setup(kModel);
  sim.run({.T = 5.0});
  const auto path = tmp("ok.snap");
  sim.save_snapshot(path);
  const std::string good = read_all(path);
  CHECK_THAT(good, Contains("\nevent_counts 2 5 5\n"));
  // a loaded session continues with its counters; the new results count from the load
  auto again = setup(kModel);
  again.load_snapshot(path);
  again.run({.T = 10.0, .resume = true});
  CHECK(again.results().event_count("reset") == 5);
  again.save_snapshot(path);
  CHECK_THAT(read_all(path), Contains("\nevent_counts 2 10 10\n"));

  const auto bad = tmp("bad.snap");
  const auto replace = [&](const std::string& line) {
    std::string text = good;
    const auto at = text.find("\nevent_counts ");
    REQUIRE(at != std::string::npos);
    const auto end = text.find('\n', at + 1);
    text.replace(at + 1, end - at - 1, line);
    std::ofstream(bad, std::ios::binary | std::ios::trunc) << text;
  };
  replace("event_counts 2 -1 0");
  CHECK_THROWS_WITH(sim.load_snapshot(bad), Contains("('event_counts'): value -1 is out of range"));
  replace("event_counts 1 3");
  CHECK_THROWS_WITH(sim.load_snapshot(bad),
                    Contains("('event_counts'): has 1 values, this model and stepper need 2"));
  replace("event_counts 2 1 x");
  CHECK_THROWS_WITH(sim.load_snapshot(bad), Contains("('event_counts'): not an integer: 'x'"));
  // files written before the counters existed load with zero counts
  {
    std::string text = good;
    const auto at = text.find("\nevent_counts ");
    text.erase(at + 1, text.find('\n', at + 1) - at);
    std::ofstream(bad, std::ios::binary | std::ios::trunc) << text;
  }
  auto old = setup(kModel);
  old.load_snapshot(bad);
  old.run({.T = 10.0, .resume = true});
  CHECK(old.results().event_count("reset") == 5);
  fs::remove(bad);
  fs::remove(path);
}

TEST_CASE("sweep points count events without a log, in the CSV too", "[events][counts][sweep]") {
  for (bool jit : jit_modes()) {
    INFO("jit " << jit);
    auto fm = build(kModel, {.jit = jit});
    const auto sw = sweep(fm, {SweepAxis::linspace("rate", 1.0, 2.0, 2)}, {.T = 10.0});
    REQUIRE(sw.batch.event_names == std::vector<std::string>{"tick", "reset"});
    CHECK(sw.at(0).event_counts == std::vector<std::int64_t>{10, 10});
    CHECK(sw.at(1).event_counts == std::vector<std::int64_t>{20, 20});
    const auto path = tmp("sweep.csv");
    sw.write_csv(path);
    CHECK(read_all(path) ==
          "rate,status,t,x,events.tick,events.reset\n1,DONE,10,0,10,10\n2,DONE,10,0,20,20\n");
    fs::remove(path);
  }
}
