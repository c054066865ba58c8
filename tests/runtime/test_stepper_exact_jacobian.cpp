// Implicit steppers with jacobian_mode=1 use the exact Jacobian: the model's [equations.jacobian],
// else the symbolic one (ModelIR::exact_jacobian()); jacobian_mode=0 (default) keeps finite differences.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <dynlib/dynlib.hpp>
#include <string>
#include <vector>

#include "kernels/compiled_model.hpp"

using namespace dynlib;

namespace {

// A stiff Van der Pol oscillator without [equations.jacobian].
const char* kVdp = R"(inline:
[model]
type = "ode"
[states]
x = 2.0
y = 0.0
[params]
mu = 50.0
[equations.rhs]
x = "y"
y = "mu*(1 - x*x)*y - x"
[sim]
t_end = 2.0
dt = 0.001
)";

struct Out {
  std::vector<double> y;
  std::int64_t steps = 0;
};

Out run(const char* uri, const std::string& stepper, double mode, double T, double dt) {
  auto sim = setup(uri, {.stepper = stepper});
  sim.run({.T = T, .dt = dt, .record = false, .stepper = {{"jacobian_mode", mode}}});
  return {sim.state_vector(), sim.step_count()};
}

}  // namespace

TEST_CASE("a model without [equations.jacobian] exposes its symbolic Jacobian", "[stepper][jacobian]") {
  auto fm = build(kVdp, {.stepper = "bdf2"});
  REQUIRE(!fm->model().jacobian);
  REQUIRE(fm->model().exact_jacobian() != nullptr);
  auto comps = fm->components();
  CHECK(std::find(comps.begin(), comps.end(), "jacobian") != comps.end());
  const double x = 1.3, y = -0.7, mu = 50.0;
  const double st[2] = {x, y}, par[1] = {mu};
  double J[4] = {};
  REQUIRE(fm->compiled().jacobian(0.0, st, J, par));
  CHECK(J[0] == 0.0);
  CHECK(J[1] == 1.0);
  CHECK(J[2] == Approx(mu * (-2.0 * x) * y - 1.0).epsilon(1e-14));
  CHECK(J[3] == Approx(mu * (1.0 - x * x)).epsilon(1e-14));
}

TEST_CASE("jacobian_mode=1 uses the exact Jacobian; results agree with finite differences",
          "[stepper][jacobian]") {
  struct Case {
    const char* name;
    double dt;
    double tol;
  };
  for (auto c : {Case{"bdf2", 1e-2, 1e-2}, Case{"sdirk2", 1e-2, 1e-2}, Case{"bdf2a", 1e-3, 2e-2},
                 Case{"tr-bdf2a", 1e-3, 2e-2}}) {
    INFO(c.name);
    auto fd = run(kVdp, c.name, 0.0, 2.0, c.dt);
    auto ex = run(kVdp, c.name, 1.0, 2.0, c.dt);
    REQUIRE(fd.y.size() == 2);
    REQUIRE(ex.y.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
      REQUIRE(std::isfinite(ex.y[i]));
      CHECK(std::fabs(ex.y[i] - fd.y[i]) <= c.tol * std::fmax(1.0, std::fabs(fd.y[i])));
    }
    // The exact Jacobian changes the Newton iterates: the trajectories are not bit-identical (bdf2's
    // full Newton lands on the same rounded fixed point here; the Hodgkin-Huxley case shows it differs).
    if (std::string(c.name) != "bdf2")
      CHECK((ex.y[0] != fd.y[0] || ex.y[1] != fd.y[1] || ex.steps != fd.steps));
    // Deterministic.
    auto ex2 = run(kVdp, c.name, 1.0, 2.0, c.dt);
    CHECK(ex2.y == ex.y);
    CHECK(ex2.steps == ex.steps);
  }
}

TEST_CASE("Hodgkin-Huxley (no own Jacobian) runs with jacobian_mode=1", "[stepper][jacobian]") {
  const char* hh = "builtin://ode/hodgkin-huxley";
  REQUIRE(!build(hh, {.stepper = "bdf2"})->model().jacobian);
  auto fd = run(hh, "bdf2", 0.0, 20.0, 0.01);
  auto ex = run(hh, "bdf2", 1.0, 20.0, 0.01);
  REQUIRE(fd.y.size() == ex.y.size());
  bool differs = false;
  for (std::size_t i = 0; i < fd.y.size(); ++i) {
    CHECK(std::fabs(ex.y[i] - fd.y[i]) <= 1e-3 * std::fmax(1.0, std::fabs(fd.y[i])));
    differs = differs || ex.y[i] != fd.y[i];
  }
  CHECK(differs);
}
