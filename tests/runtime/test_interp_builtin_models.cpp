// Every builtin model, loaded and lowered by the front end, runs through the interpreter with its
// default stepper and [sim] settings (and with every other compatible stepper for a few steps).
#include <catch2/catch.hpp>
#include <cmath>

#include "dynlib/model.hpp"
#include "kernels/pymath.hpp"
#include "runtime/test_runner_helpers.hpp"

TEST_CASE("builtin models run in the interpreter", "[interp][builtin]") {
  const auto names = dynlib::builtin_model_names();
  REQUIRE(!names.empty());
  for (const auto& name : names) {
    auto m = dynlib::load_model("builtin://" + name);
    const auto& sim = m->sim;
    tb::Opts o;
    o.t0 = sim.t0;
    o.t_end = std::min(sim.t_end, sim.t0 + 200 * sim.dt);
    o.dt = sim.dt;
    o.N = 200;
    auto r = tb::run(m, m->default_stepper(), o);
    INFO(name << " with " << m->default_stepper() << ": status " << dynlib::status_name(r.status) << " steps "
              << r.steps);
    CHECK((r.status == dynlib::Status::DONE || r.status == dynlib::Status::EARLY_EXIT));
    CHECK(r.steps > 0);
    for (const auto& si : dynlib::kernels::all_steppers()) {
      if (si.kind != m->kind) continue;
      tb::Opts q = o;
      q.t_end = sim.t0 + 5 * sim.dt;
      q.N = 5;
      auto r2 = tb::run(m, si.name, q);
      INFO("  stepper " << si.name << " status " << dynlib::status_name(r2.status));
      CHECK((r2.status == dynlib::Status::DONE || r2.status == dynlib::Status::EARLY_EXIT ||
             r2.status == dynlib::Status::STEPFAIL || r2.status == dynlib::Status::NAN_DETECTED));
    }
  }
}

TEST_CASE("builtin logistic and standard maps are bit-exact against the same arithmetic in C++",
          "[interp][builtin]") {
  auto lg = tb::run(dynlib::load_model("builtin://map/logistic"), "map", {.dt = 1.0, .N = 100});
  REQUIRE(lg.status == dynlib::Status::DONE);
  double x = 0.1;
  for (int k = 0; k <= 100; ++k) {
    REQUIRE(lg.y[0][k] == x);
    x = 4.0 * x * (1.0 - x);
  }
  auto sm = tb::run(dynlib::load_model("builtin://map/standard"), "map", {.dt = 1.0, .N = 1000});
  REQUIRE(sm.status == dynlib::Status::DONE);
  double p = 0.0, th = 0.1;
  const double K = 0.971635, two_pi = 2 * M_PI;
  for (int k = 0; k <= 1000; ++k) {
    REQUIRE(sm.y[0][k] == p);
    REQUIRE(sm.y[1][k] == th);
    const double pn = dynlib::kernels::py::mod((p + K * std::sin(th)) + M_PI, two_pi) - M_PI;
    const double tn = dynlib::kernels::py::mod(th + p + K * std::sin(th), two_pi);
    p = pn;
    th = tn;
  }
}
