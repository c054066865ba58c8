// Output at chosen times (RunOptions::save_at) and tstops: values from each stepper's dense output at
// its order, agreement with the exact solution within the tolerance, record_vars with aux, resume
// continuing the schedule, runs without save_at unchanged, and the argument errors.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <dynlib/dynlib.hpp>
#include <string>
#include <vector>

#include "support/message_of.hpp"

using namespace dynlib;
using Catch::Matchers::Contains;
using test_support::message_of;

namespace {

// x = cos t, v = -sin t; aux energy = x*x + v*v (= 1 on the exact solution).
const char* kOsc = R"(inline:
[model]
type = "ode"
[states]
x = 1.0
v = 0.0
[equations.rhs]
x = "v"
v = "-x"
[aux]
energy = "x*x + v*v"
)";

std::vector<double> linspace(double a, double b, int n) {
  std::vector<double> v;
  for (int k = 0; k < n; ++k) v.push_back(a + (b - a) * k / (n - 1));
  return v;
}

// Max error of x and v at the save_at times against cos/sin.
double save_error(Sim& sim, const RunOptions& o) {
  sim.run(o);
  const auto& r = sim.results();
  REQUIRE(r.size() == o.save_at->size());
  double e = 0;
  for (std::size_t k = 0; k < r.size(); ++k) {
    REQUIRE(r.t()[k] == (*o.save_at)[k]);
    e = std::max({e, std::fabs(r["x"][k] - std::cos(r.t()[k])), std::fabs(r["v"][k] + std::sin(r.t()[k]))});
  }
  return e;
}

}  // namespace

TEST_CASE("save_at: each fixed-step stepper's dense output converges at the stepper's order", "[save_at]") {
  struct Case {
    const char* name;
    double order;
  };
  // Save times off the step grid: the interpolant, not the steps, gives the values. Hermite adds a
  // local O(h^4) to the stepper's own global error.
  const auto times = linspace(0.013, 3.987, 23);
  for (auto c : {Case{"euler", 1}, Case{"rk2", 2}, Case{"rk4", 4}, Case{"ab2", 2}, Case{"ab3", 3},
                 Case{"sdirk2", 2}, Case{"bdf2", 2}}) {
    INFO(c.name);
    auto err = [&](double dt) {
      Sim sim = setup(kOsc, {.stepper = c.name});
      return save_error(sim, {.T = 4.0, .dt = dt, .save_at = times});
    };
    const double e1 = err(0.02), e2 = err(0.01);
    CHECK(std::log2(e1 / e2) == Approx(c.order).margin(0.35));
  }
}

TEST_CASE("save_at: explicit Runge-Kutta pairs with fixed steps converge at their order", "[save_at]") {
  // Huge tolerances: every step is accepted and grows to dt_max = dt after a few small first steps.
  const auto times = linspace(0.013, 3.987, 23);
  struct Case {
    const char* name;
    double order;
  };
  // vern9: the runner's cubic Hermite interpolant (order 4), not the stepper's order.
  for (auto c : {Case{"rk45", 5}, Case{"tsit5", 5}, Case{"dop853", 7.5}, Case{"vern9", 4}}) {
    INFO(c.name);
    auto err = [&](double dt) {
      Sim sim = setup(kOsc, {.stepper = c.name});
      const StepperSettings fixed = {{"atol", 1e10}, {"rtol", 1e10}, {"max_factor", 100.0}, {"dt_max", dt}};
      return save_error(sim, {.T = 4.0, .dt = dt, .stepper = fixed, .save_at = times});
    };
    const double e1 = err(0.5), e2 = err(0.25);
    CHECK(std::log2(e1 / e2) > c.order - 0.6);
  }
}

TEST_CASE("save_at: adaptive steppers agree with the exact solution within the tolerance", "[save_at]") {
  const auto times = linspace(0.0, 10.0, 41);
  for (const char* name :
       {"rk45", "tsit5", "dop853", "bdf2a", "tr-bdf2a", "radau5", "rodas4", "rodas5p", "bdf"}) {
    INFO(name);
    Sim sim = setup(kOsc, {.stepper = name});
    const double tol = 1e-8;
    const double e =
        save_error(sim, {.T = 10.0, .stepper = {{"atol", tol}, {"rtol", tol}}, .save_at = times});
    // The global error of a tolerance-controlled run: a modest multiple of the tolerance.
    CHECK(e < 2e3 * tol);
  }
}

TEST_CASE("save_at: record_vars with aux evaluated at the interpolated state", "[save_at]") {
  Sim sim = setup(kOsc, {.stepper = "rk4"});
  const auto times = linspace(0.05, 1.95, 5);
  sim.run({.T = 2.0, .dt = 0.1, .record_vars = std::vector<std::string>{"x", "energy"}, .save_at = times});
  const auto& r = sim.results();
  REQUIRE(r.size() == 5);
  CHECK_FALSE(r.has("v"));
  for (std::size_t k = 0; k < 5; ++k) {
    CHECK(r.t()[k] == times[k]);
    CHECK(r["x"][k] == Approx(std::cos(times[k])).margin(1e-5));
    CHECK(r["energy"][k] == Approx(1.0).margin(1e-5));
  }
  // The session state is the end of the last step (not an interpolated point): t = T, aux there.
  CHECK(sim.t() == 2.0);
}

TEST_CASE("save_at: a resume continues the schedule", "[save_at]") {
  const auto times = linspace(0.25, 3.0, 12);  // 0.25, 0.5, ..., 3.0
  Sim a = setup(kOsc, {.stepper = "rk45"});
  a.run({.T = 3.0, .save_at = times});
  // A run cut short by max_steps records the times it reached; a resume records the rest.
  Sim c = setup(kOsc, {.stepper = "rk45"});
  CHECK(c.run({.T = 3.0, .max_steps = 8, .save_at = times}) == Status::MAX_STEPS);
  const auto first = c.results().size();
  CHECK(first > 0);
  CHECK(first < 12);
  c.run({.T = 3.0, .max_steps = 100000, .resume = true});
  const auto& rc = c.results();
  REQUIRE(rc.size() == 12);
  for (std::size_t k = 0; k < 12; ++k) {
    CHECK(rc.t()[k] == times[k]);
    CHECK(rc["x"][k] == Approx(a.results()["x"][k]).margin(1e-5));
  }
  // A resume with its own save_at: times from the current time on.
  CHECK_THAT(
      message_of<ArgumentError>([&] {
        c.run({.T = 4.0, .resume = true, .save_at = std::vector<double>{2.5, 3.5}});
      }),
      Contains(
          "save_at[0] = 2.5 is outside the run's time span [3, 4] (a resume starts at the current time)"));
  c.run({.T = 4.0, .resume = true, .save_at = std::vector<double>{3.5, 4.0}});
  REQUIRE(c.results().size() == 14);
  CHECK(c.results().t().back() == 4.0);
}

TEST_CASE("save_at: a run without save_at records at its steps as before", "[save_at]") {
  Sim a = setup(kOsc, {.stepper = "rk45"});
  a.run({.T = 2.0});
  const std::vector<double> t1(a.results().t().begin(), a.results().t().end());
  const std::vector<double> x1(a.results()["x"].begin(), a.results()["x"].end());
  // After a run with save_at, a fresh run without it goes back to the step records, same bits.
  Sim b = setup(kOsc, {.stepper = "rk45"});
  b.run({.T = 2.0, .save_at = std::vector<double>{0.5, 1.5}});
  CHECK(b.results().size() == 2);
  b.run({.T = 2.0, .ic = {{"x", 1.0}, {"v", 0.0}}});
  CHECK(std::vector<double>(b.results().t().begin(), b.results().t().end()) == t1);
  CHECK(std::vector<double>(b.results()["x"].begin(), b.results()["x"].end()) == x1);
}

TEST_CASE("tstops: adaptive steps land exactly on each tstop", "[save_at][tstops]") {
  for (const char* name : {"rk45", "tsit5", "radau5", "bdf"}) {
    INFO(name);
    Sim sim = setup(kOsc, {.stepper = name});
    const std::vector<double> stops = {0.3, 1.0 / 3.0, 2.7182818284590451};
    sim.run({.T = 4.0, .tstops = stops});
    const auto& t = sim.results().t();
    for (double s : stops) CHECK(std::find(t.begin(), t.end(), s) != t.end());
    CHECK(t.back() == 4.0);
    // Landing on a tstop changes nothing else: the solution stays within the tolerance.
    CHECK(sim.results()["x"].back() == Approx(std::cos(4.0)).margin(1e-2));
  }
}

TEST_CASE("save_at and tstops: argument errors", "[save_at][errors]") {
  Sim sim = setup(kOsc, {.stepper = "rk4"});
  CHECK_THAT(message_of<ArgumentError>([&] {
               sim.run({.T = 1.0, .dt = 0.1, .save_at = std::vector<double>{0.5, NAN}});
             }),
             Contains("save_at[1] = nan is not finite"));
  CHECK_THAT(message_of<ArgumentError>([&] {
               sim.run({.T = 1.0, .dt = 0.1, .save_at = std::vector<double>{0.5, 0.4}});
             }),
             Contains("save_at[1] = 0.40000000000000002 is smaller than the time before it"));
  CHECK_THAT(
      message_of<ArgumentError>([&] { sim.run({.T = 1.0, .dt = 0.1, .save_at = std::vector<double>{1.5}}); }),
      Contains("save_at[0] = 1.5 is outside the run's time span [0, 1]"));
  CHECK_THAT(message_of<ArgumentError>([&] {
               sim.run({.T = 1.0, .dt = 0.1, .record_interval = 2, .save_at = std::vector<double>{0.5}});
             }),
             Contains("record_interval cannot be combined with save_at"));
  CHECK_THAT(
      message_of<ArgumentError>([&] { sim.run({.T = 1.0, .dt = 0.1, .tstops = std::vector<double>{0.5}}); }),
      Contains("tstops need an adaptive stepper"));
  Sim rk = setup(kOsc, {.stepper = "rk45"});
  CHECK_THAT(message_of<ArgumentError>([&] {
               rk.run({.T = 1.0, .tstops = std::vector<double>{0.5, 0.2}});
             }),
             Contains("tstops[1] = 0.20000000000000001 is smaller"));
  Sim map = setup("builtin://map/logistic");
  CHECK_THAT(message_of<ArgumentError>([&] { map.run({.N = 10, .save_at = std::vector<double>{1.0}}); }),
             Contains("save_at is for ODEs"));
}

TEST_CASE("save_at: batch runs record every point at the same times as a single run", "[save_at][batch]") {
  auto fm = build(kOsc, {.stepper = "rk45"});
  const auto times = linspace(0.5, 5.0, 10);
  std::vector<BatchItem> items = {{.ic = {{"x", 1.0}}}, {.ic = {{"x", 2.0}}}};
  BatchOptions bo;
  bo.T = 5.0;
  bo.save_at = times;
  bo.threads = 2;
  const auto out = run_batch(fm, items, bo);
  REQUIRE(out.size() == 2);
  for (std::size_t k = 0; k < 2; ++k) {
    INFO(k);
    REQUIRE(out[k].error.empty());
    CHECK(out[k].t == times);
    Sim sim(fm);
    sim.run({.T = 5.0, .ic = items[k].ic, .save_at = times});
    CHECK(out[k].series[0] == std::vector<double>(sim.results()["x"].begin(), sim.results()["x"].end()));
  }
  bo.save_at = std::vector<double>{1.0, 6.0};
  CHECK_THROWS_WITH(run_batch(fm, items, bo),
                    Contains("save_at[1] = 6 is outside the run's time span [0, 5]"));
}

TEST_CASE("save_at: a float32 model records stored (rounded) values", "[save_at][dtype]") {
  Sim sim = setup(kOsc, {.stepper = "rk4", .dtype = "float32"});
  sim.run({.T = 2.0, .dt = 0.1, .save_at = linspace(0.05, 1.95, 7)});
  const auto& r = sim.results();
  REQUIRE(r.size() == 7);
  for (std::size_t k = 0; k < r.size(); ++k) {
    const double x = r["x"][k];
    CHECK(static_cast<double>(static_cast<float>(x)) == x);
    CHECK(x == Approx(std::cos(r.t()[k])).margin(1e-4));
  }
}

TEST_CASE("save_at: after a transient the records carry the requested times exactly", "[save_at]") {
  Sim sim = setup(kOsc, {.stepper = "rk45"});
  const std::vector<double> times = {0.0, 0.1, 0.7, 1.3, 2.0};
  sim.run({.T = 2.0, .transient = 0.37, .save_at = times});
  const auto& r = sim.results();
  REQUIRE(r.size() == times.size());
  for (std::size_t k = 0; k < times.size(); ++k) {
    CHECK(r.t()[k] == times[k]);
    CHECK(r["x"][k] == Approx(std::cos(times[k] + 0.37)).margin(1e-3));
  }
}
