// Sim::run: argument precedence and errors, T/N semantics, resume (docs/internals/differences.md),
// stitching, transient, buffer growth by re-entry, failures, user break, presets.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <dynlib/dynlib.hpp>
#include <filesystem>
#include <set>
#include <string>

#include "support/message_of.hpp"

using namespace dynlib;
using Catch::Matchers::Contains;
using test_support::message_of;

namespace {

const char* kBlowUp = R"(inline:
[model]
type = "ode"
[states]
x = 1.0
[params]
a = 1.0
[equations.rhs]
x = "a*x*x"
)";

}  // namespace

TEST_CASE("run: argument errors name the problem and the valid choices", "[sim][errors]") {
  auto sim = setup("builtin://ode/lorenz", {.stepper = "rk4"});
  CHECK_THAT(message_of<ArgumentError>([&] { sim.run({.T = 1.0, .dt = 0.0}); }),
             Contains("dt must be positive"));
  CHECK_THAT(message_of<ArgumentError>([&] { sim.run({.T = 1.0, .dt = -0.1}); }),
             Contains("dt must be positive"));
  CHECK_THAT(message_of<ArgumentError>([&] { sim.run({.T = 1.0, .dt = NAN}); }),
             Contains("needs a step size"));
  CHECK_THAT(message_of<ArgumentError>([&] { sim.run({.N = 10}); }), Contains("use T"));
  CHECK_THAT(message_of<ArgumentError>([&] { sim.run({.T = 1.0, .record_interval = 0}); }),
             Contains("record_interval"));
  CHECK_THAT(message_of<ArgumentError>([&] { sim.run({.T = 1.0, .resume = true}); }),
             Contains("Nothing to resume"));
  CHECK_THAT(message_of<ArgumentError>([&] { sim.run({.T = 1.0, .ic = {{"q", 1.0}}}); }), Contains("'q'"));
  CHECK_THAT(message_of<ArgumentError>([&] {
               sim.run({.T = 1.0, .stepper = {{"atol", 1e-9}}});
             }),
             Contains("takes no settings"));
  sim.run({.T = 0.1});
  CHECK_THAT(message_of<ArgumentError>([&] {
               sim.run({.T = 1.0, .resume = true, .ic = {{"x", 1.0}}});
             }),
             Contains("cannot change"));
  CHECK_THAT(message_of<ArgumentError>([&] { sim.run({.T = 0.05, .resume = true}); }),
             Contains("must exceed current time"));

  const auto m = message_of<ArgumentError>([&] { sim.assign("sigmaa", 1.0); });
  CHECK_THAT(m, Contains("did you mean 'sigma'"));
  CHECK_THAT(m, Contains("Valid states: ['x', 'y', 'z']"));

  auto sim45 = setup("builtin://ode/vanderpol", {.stepper = "rk45"});
  const auto s = message_of<ArgumentError>([&] { sim45.run({.T = 1.0, .stepper = {{"atoll", 1e-9}}}); });
  CHECK_THAT(s, Contains("did you mean 'atol'"));
  CHECK_THAT(s, Contains("Valid settings"));

  auto izh = setup("builtin://ode/izhikevich");
  const auto p = message_of<ArgumentError>([&] { izh.apply_preset("bursty"); });
  CHECK_THAT(p, Contains("bursting"));
  CHECK_THAT(p, Contains("regular_spiking"));

  auto map = setup("builtin://map/logistic");
  CHECK_THAT(message_of<ArgumentError>([&] { map.run({.T = 10.0, .N = 10}); }), Contains("not both"));
}

TEST_CASE("build: stepper errors", "[sim][errors]") {
  const auto k =
      message_of<StepperKindMismatchError>([] { (void)build("builtin://ode/lorenz", {.stepper = "map"}); });
  CHECK_THAT(k, Contains("'map'"));
  CHECK_THAT(k, Contains("ode"));
  CHECK_THROWS_AS(build("builtin://map/logistic", {.stepper = "rk4"}), StepperKindMismatchError);
  const auto u =
      message_of<UnknownStepperError>([] { (void)build("builtin://ode/lorenz", {.stepper = "rk5"}); });
  CHECK_THAT(u, Contains("rk4"));
  CHECK_THAT(u, Contains("rk45"));
  // aliases are accepted and kept as given
  auto fm = build("builtin://ode/lorenz", {.stepper = "classical_rk4"});
  CHECK(fm->stepper_name() == "classical_rk4");
  CHECK(fm->stepper() == "rk4");
  CHECK_FALSE(fm->is_jitted("rhs"));
  CHECK(fm->source("rhs").empty());
  CHECK_THROWS_AS(fm->signature("nope"), ArgumentError);
}

TEST_CASE("run: jit=true never falls back silently", "[sim][jit]") {
  try {
    auto fm = build("builtin://ode/lorenz", {.stepper = "rk4", .jit = true});
    CHECK(fm->jit());
    CHECK(fm->is_jitted("runner"));
  } catch (const JITUnavailableError& e) {
    CHECK_THAT(std::string(e.what()), Contains("jit"));
  }
}

TEST_CASE("run: precedence explicit > config > [sim] > built-in; dt is sticky", "[sim][precedence]") {
  auto sim = setup("builtin://ode/expdecay", {.stepper = "rk4"});
  sim.run({.T = 1.0, .dt = 0.1});
  CHECK(sim.results().size() == 11);
  sim.reset();
  sim.run({.T = 1.0});  // dt=0.1 is sticky
  CHECK(sim.results().size() == 11);
  sim.reset();
  sim.config({.dt = 0.25, .record_interval = 2});
  sim.run({.T = 1.0});
  CHECK(sim.results().size() == 3);  // steps 0, 2, 4
  sim.reset();
  sim.run({.T = 1.0, .dt = 0.5, .record_interval = 1});  // explicit wins
  CHECK(sim.results().size() == 3);
  sim.config({.record = false});
  sim.reset();
  sim.run({.T = 1.0});
  CHECK_FALSE((sim.has_results() && sim.results().size() > 0));
  CHECK_THROWS_AS(sim.config({.dt = 0.0}), ArgumentError);
  CHECK_THROWS_AS(sim.config({.max_steps = 0}), ArgumentError);
}

TEST_CASE("run: T and N semantics; fixed-step time is t0 + n*dt", "[sim][horizon]") {
  auto sim = setup("builtin://ode/expdecay", {.stepper = "rk4"});
  sim.run({.T = 1.0, .dt = 0.1});
  const auto& r = sim.results();
  REQUIRE(r.size() == 11);  // reference: 12 records (an extra 1.1e-16 step); we take exactly 10 steps
  CHECK(sim.step_count() == 10);
  CHECK(sim.t() == 1.0);
  for (std::size_t k = 0; k < r.size(); ++k) {
    CHECK(r.step()[k] == static_cast<std::int64_t>(k));
    CHECK(r.t()[k] == 0.0 + static_cast<double>(k) * 0.1);
  }
  CHECK(sim.dt() == 0.1);  // not 1.1e-16
  sim.reset();
  sim.run({.T = 0.95, .dt = 0.1});  // final partial step lands exactly on T
  CHECK(sim.step_count() == 10);
  CHECK(sim.results().t().back() == 0.95);

  auto map = setup("builtin://map/logistic");
  map.run({.N = 10, .dt = 1.0});
  CHECK(map.step_count() == 10);
  CHECK(map.results().size() == 11);
  map.reset();
  map.run({.T = 15.0, .dt = 1.0, .t0 = 5.0});  // N = round((T - t0)/dt)
  CHECK(map.step_count() == 10);
  CHECK(map.results().t().front() == 5.0);
  CHECK(map.results().t().back() == 15.0);
}

TEST_CASE("run: a second run without resume restarts time at t0 from the final state", "[sim][horizon]") {
  auto sim = setup("builtin://ode/expdecay", {.stepper = "rk4"});
  sim.run({.T = 1.0, .dt = 0.1});
  const double x1 = sim.state("x");
  sim.run({.T = 1.0});
  CHECK(sim.results().t().front() == 0.0);
  CHECK(sim.results()["x"][0] == x1);
  sim.reset();
  CHECK(sim.state("x") == 1.0);
  CHECK(sim.t() == 0.0);
}

TEST_CASE("resume: continuous numbering, no duplicates, identical to one run", "[sim][resume]") {
  auto one = setup("builtin://ode/izhikevich", {.stepper = "rk4"});
  one.run({.T = 100.0, .dt = 0.01});
  auto two = setup("builtin://ode/izhikevich", {.stepper = "rk4"});
  two.run({.T = 26.0, .dt = 0.01});
  two.run({.T = 60.0, .resume = true, .tag = "second"});
  two.run({.T = 100.0, .resume = true, .tag = "second"});
  const auto& a = one.results();
  const auto& b = two.results();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a.step()[i] == b.step()[i]);
    REQUIRE(a.t()[i] == b.t()[i]);
    REQUIRE(a["v"][i] == b["v"][i]);
  }
  REQUIRE(a.events().size() == b.events().size());
  REQUIRE(a.events().size() >= 2);
  for (std::size_t i = 0; i < a.events().size(); ++i) {
    CHECK(a.events()[i].step == b.events()[i].step);
    CHECK(a.events()[i].t == b.events()[i].t);
  }
  // stitched segments
  REQUIRE(b.segments().size() == 3);
  CHECK(b.segments()[0].name == "run#0");
  CHECK(b.segments()[1].name == "second");
  CHECK(b.segments()[2].name == "second-2");
  CHECK(b.segments()[1].resume);
  CHECK(b.segments()[1].rec_start == b.segments()[0].rec_len);
  CHECK(b.segments()[1].step_start == b.segments()[0].step_end + 1);
  CHECK(b.segment("second").rec_len > 0);
  CHECK(two.step_count() == 10000);
}

TEST_CASE("resume: sparse recording keeps true step numbers", "[sim][resume]") {
  auto sim = setup("builtin://ode/expdecay", {.stepper = "rk4"});
  sim.run({.T = 0.95, .dt = 0.1, .record_interval = 3});
  sim.run({.T = 2.0, .record_interval = 3, .resume = true});
  const auto& st = sim.results().step();
  for (std::size_t i = 1; i < st.size(); ++i) CHECK(st[i] > st[i - 1]);
  for (auto s : st) CHECK(s % 3 == 0);
  CHECK(sim.t() == Approx(2.0));
}

TEST_CASE("transient: warm-up not recorded, recording starts at t0", "[sim][transient]") {
  auto ref = setup("builtin://ode/lorenz", {.stepper = "rk4"});
  ref.run({.T = 3.0, .dt = 0.01});
  auto sim = setup("builtin://ode/lorenz", {.stepper = "rk4"});
  sim.run({.T = 2.0, .dt = 0.01, .transient = 1.0});
  const auto& r = sim.results();
  CHECK(r.t().front() == 0.0);
  CHECK(r.t().back() == Approx(2.0));
  CHECK(r.step().front() == 0);
  CHECK(sim.t() == Approx(3.0));  // session time stays absolute
  CHECK(r["x"][0] == Approx(ref.results()["x"][100]).epsilon(1e-12));
  CHECK_THROWS_AS(sim.run({.T = 1.0, .transient = 2.0}), ArgumentError);
  CHECK_THROWS_AS(sim.run({.T = 1.0, .transient = -1.0}), ArgumentError);
}

TEST_CASE("growth: re-entry on GROW_REC / GROW_EVT gives the same data, no duplicates", "[sim][growth]") {
  auto big = setup("builtin://ode/izhikevich", {.stepper = "rk4"});
  big.run({.T = 200.0, .dt = 0.01, .cap_rec = 30000, .cap_evt = 64});
  auto small = setup("builtin://ode/izhikevich", {.stepper = "rk4"});
  small.run({.T = 200.0, .dt = 0.01, .cap_rec = 1, .cap_evt = 1});
  const auto& a = big.results();
  const auto& b = small.results();
  REQUIRE(a.size() == 20001);
  REQUIRE(b.size() == a.size());
  std::set<std::int64_t> steps(b.step().begin(), b.step().end());
  CHECK(steps.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a.t()[i] == b.t()[i]);
    REQUIRE(a["v"][i] == b["v"][i]);
    REQUIRE(a["u"][i] == b["u"][i]);
  }
  REQUIRE(a.events().size() == 5);
  REQUIRE(b.events().size() == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(a.events()[i].step == b.events()[i].step);
    CHECK(a.events()[i]["t"] == b.events()[i]["t"]);
  }
  auto map = setup("builtin://map/logistic");
  map.run({.N = 10, .dt = 1.0, .cap_rec = 2});  // t = t0 + n*dt after growth
  for (std::size_t i = 0; i < map.results().size(); ++i)
    CHECK(map.results().t()[i] == static_cast<double>(i));
}

TEST_CASE("failure: NaN raises SimulationError naming time, step and state; session untouched",
          "[sim][failure]") {
  auto sim = setup(kBlowUp, {.stepper = "rk4"});
  sim.run({.T = 0.5, .dt = 0.01});
  const auto before_n = sim.results().size();
  const double t = sim.t();
  const auto step = sim.step_count();
  const double x = sim.state("x");
  const auto m = message_of<SimulationError>([&] { sim.run({.T = 5.0, .resume = true}); });
  CHECK_THAT(m, Contains("NAN_DETECTED"));
  CHECK_THAT(m, Contains("t="));
  CHECK_THAT(m, Contains("step="));
  CHECK_THAT(m, Contains("'x'"));
  CHECK(sim.t() == t);
  CHECK(sim.step_count() == step);
  CHECK(sim.state("x") == x);
  CHECK(sim.results().size() == before_n);
  CHECK_THROWS_AS(sim.run({.T = 5.0, .dt = 0.01, .ic = {{"x", 1.0}}}), SimulationError);
}

TEST_CASE("user break: another thread's flag stops the run after the current step", "[sim][break]") {
  auto sim = setup("builtin://ode/lorenz", {.stepper = "rk4"});
  sim.request_break();
  const Status s = sim.run({.T = 10.0, .dt = 0.01});
  CHECK(s == Status::USER_BREAK);
  CHECK(sim.step_count() == 1);
  CHECK(sim.user_break().load() == 0);
  CHECK(sim.run({.T = 10.0, .resume = true}) == Status::DONE);
  CHECK(sim.step_count() == 1000);
}

TEST_CASE("assign, presets, getters", "[sim][assign]") {
  auto sim = setup("builtin://ode/izhikevich", {.stepper = "rk4"});
  sim.assign({{"v", -70.0}, {"a", 0.1}});
  CHECK(sim.state("v") == -70.0);
  CHECK(sim.param("a") == 0.1);
  sim.apply_preset("bursting");
  CHECK(sim.param("c") == -50.0);
  CHECK(sim.param("d") == 2.0);
  CHECK(sim.state("v") == -70.0);  // presets touch only listed keys
  CHECK(sim.list_presets().size() == 6);
  sim.add_preset("mine", {{"v", -60.0}}, {});
  sim.apply_preset("mine");
  CHECK(sim.state("v") == -60.0);
  CHECK_THROWS_AS(sim.state("w"), ArgumentError);
  CHECK_THROWS_AS(sim.param("zz"), ArgumentError);
}

TEST_CASE("stepper settings are validated and sticky", "[sim][stepper]") {
  auto sim = setup("builtin://ode/vanderpol", {.stepper = "rk45"});
  sim.run({.T = 5.0, .stepper = {{"atol", 1e-10}, {"rtol", 1e-8}}});
  const auto n_tight = sim.step_count();
  bool found = false;
  for (const auto& [k, v] : sim.stepper_config())
    if (k == "atol") found = (v == 1e-10);
  CHECK(found);
  sim.reset();
  sim.run({.T = 5.0});  // reset restores the initial snapshot's config (the model default)
  CHECK(sim.step_count() < n_tight);
}

TEST_CASE("Interpreter export_sources writes model_info.txt and reports a target it cannot write",
          "[export]") {
  auto fm = build("builtin://ode/vanderpol");
  const auto dir =
      std::filesystem::temp_directory_path() / ("dynlib-interp-export-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto files = fm->export_sources(dir);
  REQUIRE(files.count("info") == 1);
  CHECK(std::filesystem::file_size(files["info"]) > 0);
  // A directory where model_info.txt goes: an error naming it (it used to be skipped silently).
  std::filesystem::remove(dir / "model_info.txt");
  std::filesystem::create_directory(dir / "model_info.txt");
  try {
    (void)fm->export_sources(dir);
    FAIL("export_sources ignored a target it could not write");
  } catch (const DynlibError& e) {
    CHECK_THAT(e.what(), Contains("export_sources: cannot write") && Contains("model_info.txt"));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("shared_results: a held run stays as it was while the session goes on", "[sim][results]") {
  Sim sim = setup("builtin://ode/vanderpol", {.stepper = "rk4"});
  sim.run({.T = 1.0, .dt = 0.01});
  auto held = sim.shared_results();
  const auto n = held->size();
  const double x_last = (*held)["x"].back();
  sim.run({.T = 2.0, .resume = true});  // appends: works on a copy because `held` is still there
  CHECK(held->size() == n);
  CHECK((*held)["x"].back() == x_last);
  CHECK(sim.results().size() == 2 * n - 1);
  CHECK(sim.shared_results().get() != held.get());
  sim.reset();
  CHECK(held->size() == n);  // reset drops the session's results, not the caller's
  CHECK_THROWS_AS(sim.shared_results(), ArgumentError);
}
