// Convergence order of every ODE stepper on problems with known solutions; adaptive tolerances.
#include <catch2/catch.hpp>
#include <cmath>

#include "runtime/test_runner_helpers.hpp"

using namespace tb;

namespace {
// y' = y*cos(t), y(0) = 1  ->  y = exp(sin t);  x'' = -x as a system: x = cos t, v = -sin t.
std::shared_ptr<dynlib::ir::ModelIR> model_exp_sin() {
  return ode({"y", "x", "v"}, {1.0, 1.0, 0.0}, {mul(S(0), call(Fn::cos, {T()})), S(2), neg(S(1))});
}
double err_at(const std::string& stepper, double dt, double T1 = 1.0) {
  auto r = run(model_exp_sin(), stepper, {.t_end = T1, .dt = dt, .record_interval = 0});
  REQUIRE(r.status == dynlib::Status::DONE);
  const double e0 = std::fabs(r.y_final[0] - std::exp(std::sin(T1)));
  const double e1 = std::fabs(r.y_final[1] - std::cos(T1));
  const double e2 = std::fabs(r.y_final[2] + std::sin(T1));
  return std::max({e0, e1, e2});
}
}  // namespace

TEST_CASE("fixed-step steppers converge with their nominal order", "[stepper]") {
  struct Case {
    const char* name;
    double order;
    double dt0;
  };
  for (auto c : {Case{"euler", 1, 0.02}, Case{"rk2", 2, 0.05}, Case{"rk4", 4, 0.1}, Case{"ab2", 2, 0.02},
                 Case{"ab3", 3, 0.02}, Case{"sdirk2", 2, 0.05}, Case{"bdf2", 2, 0.02}}) {
    const double e1 = err_at(c.name, c.dt0), e2 = err_at(c.name, c.dt0 / 2), e3 = err_at(c.name, c.dt0 / 4);
    const double p1 = std::log2(e1 / e2), p2 = std::log2(e2 / e3);
    INFO(c.name << " errors " << e1 << " " << e2 << " " << e3 << " orders " << p1 << " " << p2);
    CHECK(std::fabs(p2 - c.order) <= 0.3);
  }
}

TEST_CASE("adaptive steppers meet their tolerances and converge with the tolerance", "[stepper]") {
  for (const char* name : {"rk45", "bdf2a", "tr-bdf2a", "tsit5", "dop853", "vern9"}) {
    auto m = model_exp_sin();
    auto r_def = run(m, name, {.t_end = 3.0, .dt = 0.1, .record_interval = 0});
    REQUIRE(r_def.status == dynlib::Status::DONE);
    const double e_def = std::fabs(r_def.y_final[0] - std::exp(std::sin(3.0)));
    auto r_tight = run(
        m, name, {.t_end = 3.0, .dt = 0.1, .record_interval = 0, .cfg = {{"atol", 1e-10}, {"rtol", 1e-8}}});
    REQUIRE(r_tight.status == dynlib::Status::DONE);
    const double e_tight = std::fabs(r_tight.y_final[0] - std::exp(std::sin(3.0)));
    INFO(name << " default err " << e_def << " (" << r_def.steps << " steps), tight err " << e_tight << " ("
              << r_tight.steps << " steps)");
    CHECK(e_def < 1e-3);  // rtol 1e-5 local, global error a few hundred times that at most
    CHECK(e_tight < e_def);
    CHECK(r_tight.steps > r_def.steps);
    CHECK(r_def.args.t == 3.0);  // the last step is clipped onto t_end
  }
}

TEST_CASE("rk45 uses the [sim] atol/rtol as effective defaults", "[stepper]") {
  const auto& s = dynlib::kernels::get_stepper("dopri5");
  dynlib::ir::SimDefaults sim;
  auto cfg = s.default_config(sim);
  CHECK(cfg[0] == 1e-8);
  CHECK(cfg[1] == 1e-5);
  CHECK(cfg[2] == 0.9);
  CHECK(std::isinf(cfg[7]));
  CHECK_THROWS_WITH(dynlib::kernels::get_stepper("rk44"), Catch::Contains("Did you mean 'rk4'"));
  CHECK(dynlib::kernels::list_steppers({.kind = dynlib::ir::Kind::map}).size() == 1);
  CHECK(dynlib::kernels::list_steppers({.stiff = true}).size() ==
        8);  // sdirk2, bdf2, bdf2a, tr-bdf2a, rodas5p, rodas4, radau5, bdf
}

TEST_CASE("model Jacobian (jacobian_mode=1) and finite differences agree", "[stepper]") {
  // y' = -50 (y - cos t)
  auto m = ode({"y"}, {0.0}, {mul(C(-50), sub(S(0), call(Fn::cos, {T()})))});
  m->jacobian = std::vector<std::vector<Expr>>{{C(-50)}};
  for (const char* name : {"sdirk2", "bdf2", "bdf2a", "tr-bdf2a"}) {
    auto fd = run(m, name, {.t_end = 1.0, .dt = 0.01, .record_interval = 0});
    auto ex = run(m, name, {.t_end = 1.0, .dt = 0.01, .record_interval = 0, .cfg = {{"jacobian_mode", 1}}});
    REQUIRE(fd.status == dynlib::Status::DONE);
    REQUIRE(ex.status == dynlib::Status::DONE);
    INFO(name);
    CHECK(std::fabs(fd.y_final[0] - ex.y_final[0]) < 1e-6);
  }
}
