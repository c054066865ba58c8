// Stepper settings through the library: enumerated settings by name ({"jacobian_mode", "external"}),
// range checks with clear messages, the same rules for Sim::run, Sim::config and a model's [sim].
#include <catch2/catch.hpp>
#include <cmath>
#include <dynlib/dynlib.hpp>
#include <limits>
#include <string>

#include "support/message_of.hpp"

using namespace dynlib;
using Catch::Matchers::Contains;
using test_support::message_of;

namespace {

double setting(const Sim& sim, const std::string& name) {
  for (const auto& [k, v] : sim.stepper_config())
    if (k == name) return v;
  FAIL("no setting " << name);
  return NAN;
}

}  // namespace

TEST_CASE("settings: enumerated values by name or by code", "[settings]") {
  auto sim = setup("builtin://ode/vanderpol", {.stepper = "bdf2"});
  sim.config({.stepper = {{"jacobian_mode", "external"}}});
  CHECK(setting(sim, "jacobian_mode") == 1.0);
  sim.config({.stepper = {{"jacobian_mode", std::string("internal")}, {"newton_max_iter", 20}}});
  CHECK(setting(sim, "jacobian_mode") == 0.0);
  CHECK(setting(sim, "newton_max_iter") == 20.0);
  sim.config({.stepper = {{"jacobian_mode", 1}}});
  CHECK(setting(sim, "jacobian_mode") == 1.0);
  CHECK(sim.run({.T = 0.1, .stepper = {{"jacobian_mode", "external"}}}) == Status::DONE);

  const auto m = message_of<ArgumentError>([&] {
    sim.run({.T = 0.2, .stepper = {{"jacobian_mode", "exernal"}}});
  });
  CHECK(m ==
        "Invalid stepper setting jacobian_mode='exernal' (did you mean 'external'?): must be one of "
        "'internal', "
        "'external'");
  CHECK(message_of<ArgumentError>([&] {
          sim.config({.stepper = {{"jacobian_mode", 2}}});
        }) == "Invalid stepper setting jacobian_mode: must be one of internal (0), external (1) (got 2)");
  CHECK(message_of<ArgumentError>([&] {
          sim.config({.stepper = {{"newton_tol", "tight"}}});
        }) == "Invalid stepper setting newton_tol='tight': must be a number");
}

TEST_CASE("settings: ranges are checked with the allowed values in the message", "[settings]") {
  auto sim = setup("builtin://ode/vanderpol", {.stepper = "rk45"});
  auto bad = [&](StepperSettings s) {
    return message_of<ArgumentError>([&] { sim.config({.stepper = s}); });
  };
  CHECK(bad({{"atol", -1e-6}}) == "Invalid stepper setting atol: must be >= 0 (got -1e-06)");
  CHECK(bad({{"rtol", -1}}) == "Invalid stepper setting rtol: must be >= 0 (got -1)");
  CHECK(bad({{"atol", 0}, {"rtol", 0}}) ==
        "Invalid stepper settings: atol and rtol cannot both be 0 (the error test needs a tolerance)");
  CHECK(bad({{"safety", 0}}) == "Invalid stepper setting safety: must be > 0 and <= 1 (got 0)");
  CHECK(bad({{"max_factor", 0.5}}) == "Invalid stepper setting max_factor: must be >= 1 (got 0.5)");
  CHECK(bad({{"max_tries", 0}}) == "Invalid stepper setting max_tries: must be >= 1 (got 0)");
  CHECK(bad({{"max_tries", 2.5}}) == "Invalid stepper setting max_tries: must be an integer (got 2.5)");
  CHECK(bad({{"atol", NAN}}) == "Invalid stepper setting atol: must be a number, not nan");
  CHECK(bad({{"atol", INFINITY}}) == "Invalid stepper setting atol: must be >= 0 and finite (got inf)");
  CHECK(bad({{"dt_max", 0}}) == "Invalid stepper setting dt_max: must be > 0 (inf for no limit) (got 0)");
  // allowed: zero atol with a relative tolerance, no cap on the step
  sim.config({.stepper = {{"atol", 0}, {"rtol", 1e-6}, {"dt_max", std::numeric_limits<double>::infinity()}}});
  CHECK(setting(sim, "atol") == 0.0);
  CHECK(sim.run({.T = 0.5}) == Status::DONE);
}

TEST_CASE("settings: a model's [sim] takes enumerated settings by name", "[settings]") {
  auto sim = setup(
      "inline: [model]\ntype='ode'\n[states]\nx=1.0\n[equations.rhs]\nx='-x'\n[sim]\nstepper='bdf2'\n"
      "jacobian_mode='external'\n");
  CHECK(setting(sim, "jacobian_mode") == 1.0);
}

TEST_CASE("results: an aux that was not recorded says how to record it", "[results]") {
  const char* model =
      "inline: [model]\ntype='ode'\n[states]\nx=1.0\n[equations.rhs]\nx='-x'\n[aux]\nE='x*x'\n";
  auto sim = setup(model);
  sim.run({.T = 0.1, .dt = 0.05});
  const auto m = message_of<ArgumentError>([&] { (void)sim.results()["E"]; });
  CHECK_THAT(m, Contains("Unknown variable: 'E'"));
  CHECK_THAT(m,
             Contains("If 'E' is an aux variable, record it: run with record_vars = {..., \"aux.E\"} (CLI: "
                      "--record-vars <states>,aux.E or --aux)."));
  sim.run({.T = 0.1, .dt = 0.05, .record_vars = std::vector<std::string>{"x", "aux.E"}});
  CHECK(sim.results()["E"][0] == sim.results()["x"][0] * sim.results()["x"][0]);
  CHECK(sim.results()["aux.E"].size() == 3);
}

TEST_CASE("settings: numeric Assignments still convert to StepperSettings", "[settings]") {
  auto sim = setup("builtin://ode/vanderpol", {.stepper = "rk45"});
  const Assignments numbers = {{"atol", 1e-9}, {"rtol", 1e-7}};
  sim.config({.stepper = numbers});
  CHECK(setting(sim, "atol") == 1e-9);
  CHECK(sim.run({.T = 0.5, .stepper = numbers}) == Status::DONE);
}
