// Which Jacobian a stepper uses: FullModel::jacobian_source() (the model's [sim] settings plus
// jacobian_mode) and Results::work_stats()->jacobian (the run's own settings).
#include <catch2/catch.hpp>
#include <dynlib/dynlib.hpp>
#include <string>

using namespace dynlib;
using Catch::Matchers::Contains;

namespace {

// dx = -x without [equations.jacobian]: the symbolic Jacobian is derived.
const char* kDerivable = R"(inline:
[model]
type = "ode"
[states]
x = 1.0
[equations.rhs]
x = "-x"
)";

// A product over a loop whose factors depend on x cannot be differentiated symbolically.
const char* kNotDerivable = R"toml(inline:
[model]
type = "ode"
[states]
x = 0.5
[equations.rhs]
x = "-prod(x + i for i in range(3))"
)toml";

std::string run_source(const FullModelPtr& fm, const StepperSettings& settings = {}) {
  Sim sim(fm);
  sim.run({.T = 0.5, .stepper = settings});
  REQUIRE(sim.results().work_stats());
  return sim.results().work_stats()->jacobian;
}

}  // namespace

TEST_CASE("jacobian source: the model's own, the symbolic one, or finite differences", "[jacobian]") {
  for (const char* stepper : {"bdf", "radau5", "rodas5p", "bdf2a"}) {
    INFO(stepper);
    auto own = build("builtin://ode/vanderpol", {.stepper = stepper});
    const StepperSettings external = {{"jacobian_mode", "external"}};
    const StepperSettings internal = {{"jacobian_mode", "internal"}};
    CHECK(own->jacobian_source(external) == "model");
    CHECK(own->jacobian_source(internal) == "finite differences");
    CHECK(run_source(own, external) == "model");
    CHECK(run_source(own, internal) == "finite differences");
    auto derived = build(kDerivable, {.stepper = stepper});
    CHECK(derived->jacobian_source(external) == "symbolic");
    CHECK(run_source(derived, external) == "symbolic");
    auto none = build(kNotDerivable, {.stepper = stepper});
    CHECK(none->jacobian_source(external) == "finite differences");
    CHECK(run_source(none, external) == "finite differences");
  }
  // Defaults: bdf, radau5 and the Rosenbrock steppers use the exact Jacobian, sdirk2/bdf2 differences.
  CHECK(build("builtin://ode/vanderpol", {.stepper = "bdf"})->jacobian_source() == "model");
  CHECK(build("builtin://ode/vanderpol", {.stepper = "rodas4"})->jacobian_source() == "model");
  CHECK(build("builtin://ode/vanderpol", {.stepper = "sdirk2"})->jacobian_source() == "finite differences");
  CHECK(build("builtin://ode/vanderpol", {.stepper = "sdirk2"})->jacobian_source({{"jacobian_mode", 1}}) ==
        "model");
  // Explicit steppers use none.
  auto explicit_fm = build("builtin://ode/vanderpol", {.stepper = "tsit5"});
  CHECK(explicit_fm->jacobian_source() == "");
  CHECK(run_source(explicit_fm) == "");
  CHECK(build("builtin://ode/vanderpol", {.stepper = "rk4"})->jacobian_source() == "");
  // A bad jacobian_mode names the value and what is allowed.
  CHECK_THROWS_WITH(
      build("builtin://ode/vanderpol", {.stepper = "bdf"})->jacobian_source({{"jacobian_mode", "exact"}}),
      Contains("jacobian_mode='exact'") && Contains("'internal', 'external'"));
}

TEST_CASE("jacobian source: a run reports the jacobian_mode it ran with", "[jacobian]") {
  auto fm = build("builtin://ode/vanderpol", {.stepper = "bdf"});
  Sim sim(fm);
  sim.run({.T = 0.5});
  CHECK(sim.results().work_stats()->jacobian == "model");
  sim.run({.T = 1.0, .resume = true, .stepper = {{"jacobian_mode", "internal"}}});
  CHECK(sim.results().work_stats()->jacobian == "finite differences");
}
