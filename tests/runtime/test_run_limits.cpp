// Sim::run limits and failures: MAX_STEPS, partial results of a failed run, the map horizon from
// [sim].t_end, a dt too small to advance time, and the record / event log limits (RECORD_LIMIT).
#include <catch2/catch.hpp>
#include <cmath>
#include <dynlib/batch.hpp>
#include <dynlib/dynlib.hpp>
#include <limits>
#include <string>

#include "support/message_of.hpp"

using namespace dynlib;
using Catch::Matchers::Contains;
using test_support::message_of;

namespace {

// x' = x^2 from x0 = 1 reaches infinity at t = 1.
const char* kBlowUp = R"(inline:
[model]
type = "ode"
[states]
x = 1.0
[equations.rhs]
x = "x*x"
[events.tick]
cond = "x > 2"
log = ["t", "x"]
)";

const char* kMapWithTEnd = R"(inline:
[model]
type = "map"
[states]
x = 0.0
[equations.rhs]
x = "x + 1"
[sim]
t_end = 25.0
dt = 0.5
)";

const char* kEveryStepEvent = R"(inline:
[model]
type = "ode"
[states]
x = 0.0
[equations.rhs]
x = "1"
[events.always]
cond = "x > -1"
log = ["t"]
)";

// Collects warnings for one scope.
struct WarningCapture {
  std::string text;
  WarningCapture() {
    set_warning_handler([this](std::string_view w) { text.append(w).append("\n"); });
  }
  ~WarningCapture() { set_warning_handler({}); }
};

}  // namespace

TEST_CASE("max_steps before the horizon ends with MAX_STEPS, not DONE", "[sim][limits]") {
  WarningCapture w;
  auto sim = setup("builtin://ode/expdecay", {.stepper = "rk4"});
  CHECK(sim.run({.T = 1.0, .dt = 0.01, .max_steps = 50}) == Status::MAX_STEPS);
  CHECK(sim.step_count() == 50);
  CHECK(sim.results().status() == Status::MAX_STEPS);
  CHECK_FALSE(sim.results().ok());
  CHECK_THAT(w.text, Contains("max_steps (50)"));
  CHECK(std::string(status_name(Status::MAX_STEPS)) == "MAX_STEPS");
  // Resuming reaches the horizon; exactly max_steps steps to T is DONE.
  CHECK(sim.run({.T = 1.0, .resume = true}) == Status::DONE);
  CHECK(sim.t() == 1.0);
  CHECK(sim.run({.T = 1.0, .dt = 0.01, .max_steps = 100}) == Status::DONE);

  // Maps: N beyond max_steps stops at max_steps.
  auto map = setup("builtin://map/logistic");
  CHECK(map.run({.N = 100, .max_steps = 30}) == Status::MAX_STEPS);
  CHECK(map.step_count() == 30);
  CHECK(map.run({.N = 100, .max_steps = 100}) == Status::DONE);

  // Batch / sweep points carry the status.
  auto fm = build("builtin://ode/expdecay", {.stepper = "rk4"});
  BatchOptions bo;
  bo.T = 1.0;
  bo.dt = 0.01;
  bo.max_steps = 10;
  const auto br = run_batch(fm, {BatchItem{}}, bo);
  REQUIRE(br.runs.size() == 1);
  CHECK(br.runs[0].status == Status::MAX_STEPS);
}

TEST_CASE("a failed run keeps its partial records in SimulationError", "[sim][failure]") {
  for (bool jit : {false, true}) {
    if (jit && !jit_available()) continue;
    CAPTURE(jit);
    auto sim = setup(kBlowUp, {.stepper = "rk4", .jit = jit});
    try {
      sim.run({.T = 2.0, .dt = 0.01});
      FAIL("no SimulationError");
    } catch (const SimulationError& e) {
      CHECK(e.status() == Status::NAN_DETECTED);
      CHECK(e.t() > 0.9);
      CHECK(e.t() < 1.1);
      REQUIRE(e.has_partial_results());
      const Results& r = e.partial_results();
      CHECK(r.status() == Status::NAN_DETECTED);
      REQUIRE(r.size() == static_cast<std::size_t>(e.step()) + 1);  // t0 and every committed step
      CHECK(r.t().front() == 0.0);
      CHECK(r.t().back() == Approx(e.t()));
      CHECK(std::isfinite(r["x"].back()));
      CHECK(r["x"].back() > 10.0);
      // Events are kept too: the post-phase event fires on every step once x > 2.
      CHECK(r.events().count("tick") > 0);
      CHECK(r.events()[r.events().size() - 1].t <= e.t() + 0.01);
    }
    CHECK_FALSE(sim.has_results());  // the session is untouched
  }
  // Batch points carry the failure's own status.
  auto fm = build(kBlowUp, {.stepper = "rk4"});
  BatchOptions bo;
  bo.T = 2.0;
  bo.dt = 0.01;
  const auto br = run_batch(fm, {BatchItem{}}, bo);
  CHECK(br.runs[0].status == Status::NAN_DETECTED);
}

TEST_CASE("maps honour [sim].t_end: N = round((t_end - t0)/dt)", "[sim][horizon]") {
  auto sim = setup(kMapWithTEnd);
  CHECK(sim.run() == Status::DONE);
  CHECK(sim.step_count() == 50);
  CHECK(sim.results().t().back() == 25.0);
  CHECK(sim.state("x") == 50.0);
  sim.reset();
  sim.run({.t0 = 5.0});
  CHECK(sim.step_count() == 40);
}

TEST_CASE("a dt too small to advance time is an error", "[sim][errors]") {
  auto sim = setup("builtin://ode/expdecay", {.stepper = "rk4"});
  const auto m = message_of<ArgumentError>([&] { sim.run({.T = 1.0e6 + 1.0, .dt = 1e-20, .t0 = 1.0e6}); });
  CHECK_THAT(m, Contains("is too small for times near 1000001"));
  CHECK_THAT(m, Contains("t + dt == t"));
  CHECK_THROWS_AS(sim.run({.T = 2.0, .dt = 1e-17, .t0 = 1.0}), ArgumentError);
  CHECK(sim.run({.T = 1.0, .dt = 0.1}) == Status::DONE);
}

TEST_CASE("records and the event log are bounded: RECORD_LIMIT", "[sim][limits]") {
  WarningCapture w;
  // 3 values of 8 bytes per record (t, step, x): 240 bytes hold 10 records.
  auto sim = setup("builtin://ode/expdecay", {.stepper = "rk4"});
  CHECK(sim.run({.T = 1.0,
                 .dt = 0.01,
                 .max_steps = std::numeric_limits<std::int64_t>::max(),
                 .max_record_bytes = 240,
                 .cap_rec = 4}) == Status::RECORD_LIMIT);
  CHECK(sim.results().size() == 10);
  CHECK(sim.results().status() == Status::RECORD_LIMIT);
  CHECK(sim.step_count() == 9);
  CHECK_THAT(w.text, Contains("max_record_bytes (240 bytes"));
  // The run can go on (each run has its own budget).
  CHECK(sim.run({.T = 1.0, .resume = true}) == Status::DONE);
  CHECK(sim.results().size() == 101);
  CHECK_THROWS_AS(sim.run({.T = 1.0, .max_record_bytes = 0}), ArgumentError);

  auto ev = setup(kEveryStepEvent, {.stepper = "rk4"});
  CHECK(ev.run({.T = 1.0, .dt = 0.01, .max_events = 20}) == Status::RECORD_LIMIT);
  CHECK(ev.results().events().size() <= 20);
  CHECK(ev.results().events().size() >= 19);
  CHECK_THAT(w.text, Contains("max_events (20 events)"));
}

TEST_CASE("adaptive steppers fail at min_step instead of accepting a too-large error", "[sim][failure]") {
  // Van der Pol with mu = 1000 is far too stiff for steps as large as min_step = 0.05 at these tolerances.
  const char* stiff = R"(inline:
[model]
type = "ode"
[states]
x = 2.0
y = 0.0
[params]
mu = 1000.0
[equations.rhs]
x = "y"
y = "mu*((1 - x*x)*y) - x"
)";
  for (const char* sn : {"rk45", "bdf2a", "tr-bdf2a", "bdf"}) {
    INFO("stepper " << sn);
    auto sim = setup(stiff, {.stepper = sn});
    try {
      sim.run({.T = 50.0, .stepper = {{"min_step", 0.05}, {"atol", 1e-10}, {"rtol", 1e-10}}});
      FAIL("no SimulationError; x=" << sim.state("x"));
    } catch (const SimulationError& e) {
      CHECK(e.status() == Status::STEPFAIL);
      CHECK_THAT(std::string(e.what()), Contains("min_step=0.05"));
      for (double v : e.partial_results()["x"]) CHECK(std::abs(v) < 10.0);
    }
  }
}

TEST_CASE("a recorded aux that becomes NaN/Inf is reported like a state", "[sim][failure]") {
  const char* model = R"M(inline:
[model]
type = "ode"
[states]
x = 1.0
[equations.rhs]
x = "-1"
[aux]
r = "1/x"
s = "log(x)"
)M";
  for (bool jit : {false, true}) {
    if (jit && !jit_available()) continue;
    CAPTURE(jit);
    auto sim = setup(model, {.stepper = "rk4", .jit = jit});
    // x reaches 0 at t = 1 (exactly, on the grid): 1/x is Inf there.
    try {
      sim.run({.T = 2.0, .dt = 0.25, .record_vars = std::vector<std::string>{"x", "r"}});
      FAIL("no SimulationError");
    } catch (const SimulationError& e) {
      CHECK(e.status() == Status::NAN_DETECTED);
      CHECK_THAT(std::string(e.what()), Contains("aux 'r' became NaN/Inf"));
      CHECK(e.t() == 1.0);
      CHECK(e.partial_results().size() == 4);  // t = 0, 0.25, 0.5, 0.75
    }
    // Not recorded: not checked.
    CHECK(sim.run({.T = 2.0, .dt = 0.25}) == Status::DONE);
  }
}
