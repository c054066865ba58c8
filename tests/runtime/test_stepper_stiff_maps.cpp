// Stiff problems (implicit vs explicit) and discrete maps.
#include <catch2/catch.hpp>
#include <cmath>

#include "runtime/test_runner_helpers.hpp"

using namespace tb;

namespace {
std::shared_ptr<dynlib::ir::ModelIR> robertson() {
  auto y1 = S(0), y2 = S(1), y3 = S(2);
  auto r1 = add(mul(C(-0.04), y1), mul(mul(C(1e4), y2), y3));
  auto r2 = sub(sub(mul(C(0.04), y1), mul(mul(C(1e4), y2), y3)), mul(C(3e7), mul(y2, y2)));
  auto r3 = mul(C(3e7), mul(y2, y2));
  return ode({"y1", "y2", "y3"}, {1.0, 0.0, 0.0}, {r1, r2, r3});
}
std::shared_ptr<dynlib::ir::ModelIR> map_model(std::vector<std::string> st, std::vector<double> ic,
                                               std::vector<Expr> rhs, std::vector<double> params) {
  auto m = ode(std::move(st), std::move(ic), std::move(rhs));
  m->kind = dynlib::ir::Kind::map;
  m->param_vals = std::move(params);
  for (std::size_t k = 0; k < m->param_vals.size(); ++k)
    m->params.push_back(std::string("p").append(std::to_string(k)));
  return m;
}
}  // namespace

TEST_CASE("Robertson: adaptive implicit steppers solve it, rk45 needs far more steps", "[stepper][stiff]") {
  auto m = robertson();
  for (const char* name : {"bdf2a", "tr-bdf2a"}) {
    auto r = run(m, name, {.t_end = 40.0, .dt = 1.0, .record_interval = 0});
    INFO(name << " steps " << r.steps);
    REQUIRE(r.status == dynlib::Status::DONE);
    CHECK(r.y_final[0] == Approx(0.7158271).epsilon(2e-3));
    CHECK(r.y_final[2] == Approx(0.2841637).epsilon(5e-3));
    CHECK(std::fabs(r.y_final[0] + r.y_final[1] + r.y_final[2] - 1.0) < 1e-6);
    CHECK(r.steps < 3000);
  }
  auto rk = run(m, "rk45", {.t_end = 40.0, .dt = 1.0, .max_steps = 20000, .record_interval = 0});
  INFO("rk45 stopped at t=" << rk.args.t << " after " << rk.steps << " steps");
  CHECK(rk.steps == 20000);
  CHECK(rk.args.t < 40.0);
}

TEST_CASE("Robertson: fixed-step implicit steppers are stable where explicit Euler blows up",
          "[stepper][stiff]") {
  auto m = robertson();
  // sdirk2 freezes the Newton matrix at each stage's initial guess (modified Newton, as the reference):
  // from y = (1, 0, 0) that needs a small first step, so it runs with dt = 0.002 here.
  struct Case {
    const char* name;
    double dt;
    std::int64_t steps;
  };
  for (auto c : {Case{"bdf2", 0.05, 200}, Case{"sdirk2", 0.002, 5000}}) {
    auto r = run(m, c.name, {.t_end = 10.0, .dt = c.dt, .record_interval = 0});
    INFO(c.name);
    REQUIRE(r.status == dynlib::Status::DONE);
    CHECK(r.steps == c.steps);
    CHECK(std::fabs(r.y_final[0] + r.y_final[1] + r.y_final[2] - 1.0) < 1e-9);
    CHECK(r.y_final[0] == Approx(0.8414).epsilon(1e-3));  // y1(10) = 0.841370
  }
  auto e = run(m, "euler", {.t_end = 10.0, .dt = 0.05, .record_interval = 0});
  CHECK(e.status == dynlib::Status::NAN_DETECTED);
  CHECK(e.args.nan_where == static_cast<int>(dynlib::kernels::NanWhere::proposed_state));
  CHECK(e.steps < 200);
  CHECK(e.args.t_fail == Approx(0.05 * e.steps));
}

TEST_CASE("stiff linear problem: L-stable implicit steppers with h*lambda = -50", "[stepper][stiff]") {
  // y' = -1000 (y - cos t), y(0) = 0: y follows cos t after a fast transient.
  auto m = ode({"y"}, {0.0}, {mul(C(-1000.0), sub(S(0), call(Fn::cos, {T()})))});
  for (const char* name : {"sdirk2", "bdf2"}) {
    auto r = run(m, name, {.t_end = 2.0, .dt = 0.05, .record_interval = 0});
    INFO(name);
    REQUIRE(r.status == dynlib::Status::DONE);
    CHECK(r.y_final[0] == Approx(std::cos(2.0)).epsilon(1e-2));
  }
  auto e = run(m, "rk4", {.t_end = 4.0, .dt = 0.05, .record_interval = 0});  // |R(-50)|^80 overflows
  CHECK(e.status == dynlib::Status::NAN_DETECTED);
}

TEST_CASE("Van der Pol mu=1000: implicit adaptive steppers need ~50x fewer steps than rk45",
          "[stepper][stiff]") {
  auto vdp =
      ode({"x", "y"}, {2.0, 0.0}, {S(1), sub(mul(mul(C(1000.0), sub(C(1.0), mul(S(0), S(0)))), S(1)), S(0))});
  std::int64_t implicit_steps = 0;
  for (const char* name : {"bdf2a", "tr-bdf2a"}) {
    auto r = run(vdp, name, {.t_end = 3000.0, .dt = 1.0, .record_interval = 0});
    INFO(name << " steps " << r.steps);
    REQUIRE(r.status == dynlib::Status::DONE);
    CHECK(r.y_final[0] ==
          Approx(-1.5106).epsilon(1e-3));  // measured: rk45 at its default tolerance gives -1.5106
    implicit_steps = std::max(implicit_steps, r.steps);
  }
  CHECK(implicit_steps < 40000);
  auto rk =
      run(vdp, "rk45", {.t_end = 3000.0, .dt = 1.0, .max_steps = 50 * implicit_steps, .record_interval = 0});
  CHECK(rk.steps == 50 * implicit_steps);  // max_steps reached before t_end (needs ~1.7e6 steps)
  CHECK(rk.args.t < 3000.0);
}

TEST_CASE("logistic map r=4 from 0.1: exact values, times t0 + n*dt", "[stepper][map]") {
  auto m = map_model({"x"}, {0.1}, {mul(mul(P(0), S(0)), sub(C(1.0), S(0)))}, {4.0});
  auto r = run(m, "map", {.dt = 1.0, .N = 50});
  REQUIRE(r.status == dynlib::Status::DONE);
  REQUIRE(r.t.size() == 51);
  double x = 0.1;
  for (int k = 0; k <= 50; ++k) {
    CHECK(r.y[0][k] == x);  // bit-identical with the same arithmetic order
    CHECK(r.t[k] == static_cast<double>(k));
    CHECK(r.step[k] == k);
    x = 4.0 * x * (1.0 - x);
  }
  CHECK(r.y[0][1] == 0.36000000000000004);
  CHECK(r.y[0][2] == Approx(0.9216));
}

TEST_CASE("Henon map: exact iteration", "[stepper][map]") {
  // x' = 1 - a*(x*x) + y, y' = b*x
  auto m = map_model({"x", "y"}, {0.0, 0.0},
                     {add(sub(C(1.0), mul(P(0), mul(S(0), S(0)))), S(1)), mul(P(1), S(0))}, {1.4, 0.3});
  auto r = run(m, "iter", {.dt = 1.0, .N = 1000, .record_interval = 0});
  REQUIRE(r.status == dynlib::Status::DONE);
  double x = 0, y = 0;
  for (int k = 0; k < 1000; ++k) {
    const double xn = 1.0 - 1.4 * (x * x) + y, yn = 0.3 * x;
    x = xn;
    y = yn;
  }
  CHECK(r.y_final[0] == x);
  CHECK(r.y_final[1] == y);
  CHECK(r.steps == 1000);
  CHECK(r.args.t == 1000.0);
}

TEST_CASE("map time after GROW_REC re-entry stays t0 + n*dt", "[runner][map]") {
  auto m = map_model({"x"}, {0.1}, {mul(mul(P(0), S(0)), sub(C(1.0), S(0)))}, {4.0});
  auto r = run(m, "map", {.t0 = 0.0, .dt = 1.0, .N = 10, .cap_rec = 2});
  REQUIRE(r.status == dynlib::Status::DONE);
  REQUIRE(r.t.size() == 11);
  for (int k = 0; k <= 10; ++k) CHECK(r.t[k] == k);
  CHECK(r.calls > 1);
}
