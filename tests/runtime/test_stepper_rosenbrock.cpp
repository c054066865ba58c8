// rodas5p and rodas4 (kernels/stepper_rosenbrock.hpp): stiff reference problems, order, dense output,
// the Jacobian / df/dt choices (checked through the work counters), step failure, events and aux.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <dynlib/dynlib.hpp>
#include <string>
#include <vector>

#include "interp/bytecode.hpp"
#include "interp/direct_backend.hpp"
#include "interp/interp.hpp"
#include "jit/run_helper.hpp"
#include "kernels/stepper_rosenbrock.hpp"
#include "problems/stiff_problems.hpp"
#include "runtime/test_runner_helpers.hpp"
#include "steppers_catalogue/stepper_registry.hpp"

namespace {

using dynlib::test::run_model;
using dynlib::test::RunOut;
using dynlib::test::RunSpec;

constexpr const char* kRodas[] = {"rodas5p", "rodas4"};

// An inline model: `body` holds [states], [params], [equations.rhs]; [sim] gets t_end = dt = T (one
// nominal step: the adaptive run covers [0, T]) and the given settings.
std::shared_ptr<const dynlib::ir::ModelIR> model(const std::string& body, double T, const std::string& sim) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", T);
  return dynlib::load_model("inline:\n[model]\ntype = \"ode\"\n" + body + "\n[sim]\nt_end = " + buf +
                            "\ndt = " + buf + "\n" + sim + "\n");
}

RunOut run(const std::shared_ptr<const dynlib::ir::ModelIR>& m, const std::string& stepper,
           std::int64_t nominal_steps = 1) {
  auto cm = dynlib::interp::make_interpreted(m, dynlib::kernels::get_stepper(stepper));
  RunSpec spec;
  spec.n_steps = nominal_steps;
  spec.max_steps = 100000;
  spec.record_interval = 0;
  return run_model(*cm, spec);
}

struct Work {
  std::int64_t rhs, jac, lu;
};
Work work(const RunOut& r) { return {r.iws.at(0), r.iws.at(1), r.iws.at(2)}; }
int stages(const std::string& s) { return s == "rodas5p" ? 8 : 6; }

namespace stiff = dynlib::test_problems;
const char* const kRober = stiff::model_body(stiff::kRober.uri);
const char* const kHires = stiff::model_body(stiff::kHires.uri);
const char* const kVdp1000 = stiff::model_body(stiff::kVdp1000.uri);
const char* const kOrego = stiff::model_body(stiff::kOrego.uri);

// y' = -50 (y - cos t) from its smooth solution y = (2500 cos t + 50 sin t)/2501: non-autonomous and stiff.
const char* kForced = R"M([states]
y = 0.9996001599360256
[equations.rhs]
y = "-50*(y - cos(t))"
)M";
double forced_exact(double t) { return (2500.0 * std::cos(t) + 50.0 * std::sin(t)) / 2501.0; }

// y' = y cos t, x' = v, v' = -x: y = exp(sin t), x = cos t, v = -sin t.
const char* kExpSin = R"M([states]
y = 1.0
x = 1.0
v = 0.0
[equations.rhs]
y = "y*cos(t)"
x = "v"
v = "-x"
)M";

void check_close(const std::vector<double>& y, const std::vector<double>& ref, double atol, double rtol,
                 double factor) {
  REQUIRE(y.size() == ref.size());
  for (std::size_t i = 0; i < y.size(); ++i) {
    INFO("component " << i << ": " << y[i] << " vs " << ref[i]);
    CHECK(std::fabs(y[i] - ref[i]) <= factor * (atol + rtol * std::fabs(ref[i])));
  }
}

}  // namespace

TEST_CASE("rodas5p / rodas4 are registered as stiff adaptive Rosenbrock steppers", "[stepper][rosenbrock]") {
  for (const char* name : kRodas) {
    const auto& s = dynlib::kernels::get_stepper(name);
    CHECK(s.family == "rosenbrock");
    CHECK(s.adaptive);
    CHECK(s.stiff);
    CHECK(s.dense_output);
    CHECK(s.work_counters_at == 0);
    // The exact Jacobian is the default for these methods (finite differences when there is none).
    const int jm = s.config_index("jacobian_mode");
    REQUIRE(jm >= 0);
    CHECK(s.config[static_cast<std::size_t>(jm)].default_value == 1.0);
    CHECK(s.ws_size(3) == 2 * 9 + (5 + stages(name) + (s.order == 5 ? 3 : 2)) * 3);
    CHECK(s.iws_size(3) == 6);
  }
  CHECK(dynlib::kernels::get_stepper("rodas").name == "rodas4");
}

TEST_CASE("Robertson to t = 40 at rtol = atol = 1e-8", "[stepper][rosenbrock]") {
  auto m = model(kRober, 40.0, "atol = 1e-8\nrtol = 1e-8");
  CHECK_FALSE(m->rhs_refers_to_time);
  for (const char* name : kRodas) {
    INFO(name);
    auto r = run(m, name);
    REQUIRE(r.status == static_cast<int>(dynlib::Status::DONE));
    check_close(r.y_final, {0.7158270687, 9.185534765e-6, 0.2841637457}, 1e-8, 1e-8, 100.0);
    // The exact Jacobian once per step, one LU per try, s-1 new rhs per try and none for df/dt.
    const auto w = work(r);
    CHECK(w.jac == r.steps);
    CHECK(w.lu >= w.jac);
    CHECK(w.rhs == w.jac + w.lu * (stages(name) - 1));
  }
}

TEST_CASE("HIRES to t = 321.8122 within 100x the tolerance", "[stepper][rosenbrock]") {
  auto m = model(kHires, 321.8122, "atol = 1e-8\nrtol = 1e-8");
  const std::vector<double> ref{7.37131257332567e-4,  1.44248572631618e-4, 5.8887297409676e-5,
                                1.175651343283149e-3, 2.38635619883133e-3, 6.238968252742796e-3,
                                2.849998395185769e-3, 2.850001604814231e-3};
  for (const char* name : kRodas) {
    INFO(name);
    auto r = run(m, name);
    REQUIRE(r.status == static_cast<int>(dynlib::Status::DONE));
    check_close(r.y_final, ref, 1e-8, 1e-8, 100.0);
  }
}

TEST_CASE("Van der Pol mu = 1000 to t = 3000 and OREGO to t = 360", "[stepper][rosenbrock]") {
  auto vdp = model(kVdp1000, 3000.0, "atol = 1e-6\nrtol = 1e-6");
  auto orego = model(kOrego, 360.0, "atol = 1e-8\nrtol = 1e-8");
  for (const char* name : kRodas) {
    INFO(name);
    auto r = run(vdp, name);
    REQUIRE(r.status == static_cast<int>(dynlib::Status::DONE));
    check_close(r.y_final, {-1.510606936744095, 1.178380000730945e-3}, 1e-6, 1e-6, 100.0);
    auto o = run(orego, name);
    REQUIRE(o.status == static_cast<int>(dynlib::Status::DONE));
    check_close(o.y_final, {1.000814870318523, 1228.178521549889, 132.0554942846513}, 1e-8, 1e-8, 100.0);
  }
}

namespace {
// Constant steps h: the tolerance is so loose that every step is accepted and dt_max caps the growth.
double fixed_step_error(const char* body, const char* stepper, double T, double h, const std::string& extra,
                        double (*exact0)(double)) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "atol = 1e6\nrtol = 1e6\ndt_max = %.17g\n", h);
  auto m = model(body, h, buf + extra);
  auto r = run(m, stepper, std::llround(T / h));
  REQUIRE(r.status == static_cast<int>(dynlib::Status::DONE));
  REQUIRE(r.steps >= std::llround(T / h));  // (+1: a sliver left by rounding in t)
  REQUIRE(r.steps <= std::llround(T / h) + 1);
  return std::fabs(r.y_final[0] - exact0(T));
}
double exp_sin_exact(double t) { return std::exp(std::sin(t)); }
}  // namespace

TEST_CASE("rodas5p / rodas4 converge with their order, non-autonomous problems included",
          "[stepper][rosenbrock]") {
  struct Case {
    const char* body;
    double (*exact)(double);
    double h0;
    const char* what;
  };
  for (const char* name : kRodas) {
    const double order = dynlib::kernels::get_stepper(name).order;
    for (const auto& c : {Case{kForced, forced_exact, 0.1, "y' = -50 (y - cos t)"},
                          Case{kExpSin, exp_sin_exact, 0.2, "y' = y cos t"}}) {
      // Symbolic df/dt and Jacobian (the default), then finite differences in y and t.
      for (const char* mode : {"external", "internal"}) {
        const std::string extra = std::string("jacobian_mode = \"") + mode + "\"";
        const double e1 = fixed_step_error(c.body, name, 1.0, c.h0, extra, c.exact);
        const double e2 = fixed_step_error(c.body, name, 1.0, c.h0 / 2, extra, c.exact);
        const double e3 = fixed_step_error(c.body, name, 1.0, c.h0 / 4, extra, c.exact);
        INFO(name << ", " << c.what << ", " << mode << ": errors " << e1 << " " << e2 << " " << e3
                  << ", orders " << std::log2(e1 / e2) << " " << std::log2(e2 / e3));
        CHECK(std::log2(e2 / e3) >= order - 0.4);
      }
    }
  }
}

TEST_CASE("df/dt: symbolic when exact, finite differences otherwise, skipped for autonomous models",
          "[stepper][rosenbrock]") {
  auto forced = model(kForced, 1.0, "");
  REQUIRE(forced->rhs_refers_to_time);
  REQUIRE(forced->derived_time_derivative);
  auto fd = model(kForced, 1.0, "jacobian_mode = \"internal\"");
  auto rober_fd = model(kRober, 1.0, "jacobian_mode = \"internal\"");
  for (const char* name : kRodas) {
    INFO(name);
    const int s = stages(name);
    auto r = run(forced, name);
    REQUIRE(r.status == static_cast<int>(dynlib::Status::DONE));
    auto w = work(r);
    CHECK(w.rhs == w.jac + w.lu * (s - 1));  // exact J and df/dt: no extra evaluations
    CHECK(std::fabs(r.y_final[0] - forced_exact(1.0)) < 1e-6);
    r = run(fd, name);
    REQUIRE(r.status == static_cast<int>(dynlib::Status::DONE));
    w = work(r);
    CHECK(w.rhs == w.jac * (1 + 1 + 1) + w.lu * (s - 1));  // f0, one column, one in t
    CHECK(std::fabs(r.y_final[0] - forced_exact(1.0)) < 1e-6);
    r = run(rober_fd, name);
    REQUIRE(r.status == static_cast<int>(dynlib::Status::DONE));
    w = work(r);
    CHECK(w.rhs == w.jac * (1 + 3) + w.lu * (s - 1));  // f0, three columns, nothing in t
  }
}

TEST_CASE("an error above tolerance at min_step fails the step", "[stepper][rosenbrock]") {
  // y' = y^2, y(0) = 1 blows up at t = 1.
  auto m = model("[states]\ny = 1.0\n[equations.rhs]\ny = \"y*y\"\n", 2.0, "atol = 1e-8\nrtol = 1e-8");
  for (const char* name : kRodas) {
    INFO(name);
    auto r = run(m, name);
    CHECK(r.status == static_cast<int>(dynlib::Status::STEPFAIL));
    CHECK(r.t == Approx(1.0).margin(1e-6));
  }
}

namespace {
// One step of the kernel with DirectBackend, then the interpolant at theta against the exact solution.
template <class Stepper>
double dense_error(double h) {
  using namespace tb;
  // Logistic y' = y (1 - y) (y = 1/(1 + e^-t) from 1/2) and the harmonic oscillator x = cos t, v = -sin t.
  auto m = ode({"y", "x", "v"}, {0.5, 1.0, 0.0}, {mul(S(0), sub(C(1.0), S(0))), S(2), neg(S(1))});
  m->rhs_refers_to_time = false;
  dynlib::interp::Program prog(*m);
  dynlib::interp::DirectBackend b;
  b.m = m.get();
  b.prog = &prog;
  b.rhs_entry = prog.add_block(m->rhs);
  const int n = 3;
  std::vector<double> ws(static_cast<std::size_t>(Stepper::ws_size(n))),
      cfg{1e6, 1e6, 0.9, 0.2, 6.0, 10, 1e-12, 1e300, 0, 1e-8}, y(m->state_ic), y1(n), out(n);
  std::vector<std::int64_t> iws(static_cast<std::size_t>(Stepper::iws_size(n)));
  dynlib::kernels::StepCtx<dynlib::interp::DirectBackend> ctx;
  ctx.n = n;
  ctx.ws = ws.data();
  ctx.iws = iws.data();
  ctx.cfg = cfg.data();
  auto o = dynlib::kernels::make_step_out(b);
  Stepper{}(b, ctx, 0.0, h, y.data(), y1.data(), o);
  REQUIRE(o.status.v == dynlib::kernels::kOK);
  REQUIRE(o.t_prop.v == h);
  Stepper{}.dense_prepare(b, ctx, 0.0, h, y.data(), y1.data());
  Stepper{}.dense_eval(b, ctx, 0.0, out.data());
  CHECK(out == y);
  Stepper{}.dense_eval(b, ctx, 1.0, out.data());
  CHECK(out == y1);
  double e = 0.0;
  for (double th : {0.1, 0.25, 0.5, 0.75, 0.9}) {
    Stepper{}.dense_eval(b, ctx, th, out.data());
    const double t = th * h;
    e = std::fmax(e, std::fabs(out[0] - 1.0 / (1.0 + std::exp(-t))));
    e = std::fmax(e, std::fabs(out[1] - std::cos(t)));
    e = std::fmax(e, std::fabs(out[2] + std::sin(t)));
  }
  return e;
}
}  // namespace

TEST_CASE("dense output: exact at the ends, local error of the interpolant's order inside",
          "[stepper][rosenbrock][dense]") {
  // Rodas5P's interpolant has order 4 (local error h^5), Rodas4's order 3 (h^4).
  const double e1 = dense_error<dynlib::kernels::StepRodas5P>(0.2);
  const double e2 = dense_error<dynlib::kernels::StepRodas5P>(0.1);
  INFO("rodas5p dense errors " << e1 << " " << e2 << " order " << std::log2(e1 / e2));
  CHECK(std::log2(e1 / e2) >= 4.5);
  CHECK(e2 < 1e-6);
  const double f1 = dense_error<dynlib::kernels::StepRodas4>(0.2);
  const double f2 = dense_error<dynlib::kernels::StepRodas4>(0.1);
  INFO("rodas4 dense errors " << f1 << " " << f2 << " order " << std::log2(f1 / f2));
  CHECK(std::log2(f1 / f2) >= 3.5);
  CHECK(f2 < 1e-5);
}

TEST_CASE("rodas5p / rodas4 with events and aux through Sim", "[stepper][rosenbrock][events]") {
  // Leaky integrate-and-fire driven above threshold: v(t) = -45 - 20 exp(-t/10) crosses -50 every
  // 10 ln 4 = 13.86 time units, so 7 resets before t = 100.
  const char* lif = R"M(inline:
[model]
type = "ode"
[states]
v = -65.0
[params]
I = 20.0
[equations.rhs]
v = "(-65 - v + I) / 10"
[aux]
gap = "-50 - v"
[events.reset]
cond = "v >= -50"
action = "v = -65"
log = ["t", "aux:gap"]
[sim]
t_end = 100.0
dt = 0.05
dt_max = 0.05
)M";
  for (const char* name : kRodas) {
    INFO(name);
    auto sim = dynlib::setup(lif, {.stepper = name});
    sim.run({.record_vars = std::vector<std::string>{"v", "aux.gap"}});
    const auto& res = sim.results();
    REQUIRE(res.events().size() == 7);
    double t_prev = 0.0;
    for (const auto& ev : res.events()) {
      // Detected at the end of the first step past the threshold (dt_max 0.05), then restarted from there.
      CHECK(ev["t"] - t_prev == Approx(13.862943611198906).margin(0.06));
      CHECK(ev["aux:gap"] == 15.0);  // logged after the reset
      t_prev = ev["t"];
    }
    const auto gap = res["aux.gap"];
    REQUIRE(!gap.empty());
    CHECK(gap.back() == Approx(-50.0 - sim.state_vector()[0]).margin(1e-12));
  }
}

TEST_CASE("lu_factor / lu_solve match gauss_solve; pivots out of range are ignored", "[linalg][rosenbrock]") {
  dynlib::interp::DirectBackend b;
  const std::vector<double> A0{1e-3, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0}, r{1.0, -2.0, 0.5};
  std::vector<double> G(A0), x(r);
  REQUIRE(dynlib::kernels::gauss_solve(b, 3, G.data(), x.data()).v == 1);
  std::vector<double> F(A0), z1(r), z2{0.0, 1.0, 0.0};
  std::vector<std::int64_t> piv(3);
  REQUIRE(dynlib::kernels::lu_factor(b, 3, F.data(), piv.data()).v == 1);
  CHECK(piv[0] == 2);  // partial pivoting took the largest entry of the first column
  dynlib::kernels::lu_solve(b, 3, F.data(), piv.data(), z1.data());
  CHECK(z1 == x);                                                    // the same operations in the same order
  dynlib::kernels::lu_solve(b, 3, F.data(), piv.data(), z2.data());  // reused for a second right-hand side
  for (int i = 0; i < 3; ++i) {
    double s = 0.0;
    for (int j = 0; j < 3; ++j)
      s += A0[static_cast<std::size_t>(3 * i + j)] * z2[static_cast<std::size_t>(j)];
    CHECK(s == Approx(i == 1 ? 1.0 : 0.0).margin(1e-12));
  }
  // A corrupt workspace (e.g. from a snapshot file): indices outside [k, n) mean "no swap".
  for (std::int64_t bad : {std::int64_t{-7}, std::int64_t{3}, std::int64_t{1} << 40}) {
    std::vector<std::int64_t> p2{bad, bad, bad};
    std::vector<double> w(r);
    dynlib::kernels::lu_solve(b, 3, F.data(), p2.data(), w.data());
    std::vector<std::int64_t> none{0, 1, 2};
    std::vector<double> w2(r);
    dynlib::kernels::lu_solve(b, 3, F.data(), none.data(), w2.data());
    CHECK(w == w2);
  }
  // Singular: reported, not divided by.
  std::vector<double> S{1.0, 2.0, 2.0, 4.0};
  std::vector<std::int64_t> p3(2);
  CHECK(dynlib::kernels::lu_factor(b, 2, S.data(), p3.data()).v == 0);
}

TEST_CASE("the registry's Rosenbrock workspace sizes match the kernels'", "[stepper][rosenbrock]") {
  for (std::int64_t n : {1, 3, 17}) {
    CHECK(dynlib::kernels::get_stepper("rodas5p").ws_size(n) == dynlib::kernels::StepRodas5P::ws_size(n));
    CHECK(dynlib::kernels::get_stepper("rodas5p").iws_size(n) == dynlib::kernels::StepRodas5P::iws_size(n));
    CHECK(dynlib::kernels::get_stepper("rodas4").ws_size(n) == dynlib::kernels::StepRodas4::ws_size(n));
    CHECK(dynlib::kernels::get_stepper("rodas4").iws_size(n) == dynlib::kernels::StepRodas4::iws_size(n));
  }
}
