// tsit5 and dop853: observed orders (fixed steps and tolerances), the Arenstorf orbit, the dense output,
// and the reuse of the last stage (FSAL) across events and changed states.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <dynlib/dynlib.hpp>

#include "interp/bytecode.hpp"
#include "interp/direct_backend.hpp"
#include "kernels/steppers.hpp"
#include "runtime/test_runner_helpers.hpp"

using namespace tb;

namespace {
// y' = y*cos(t), y(0) = 1  ->  y = exp(sin t);  x'' = -x as a system: x = cos t, v = -sin t.
std::shared_ptr<dynlib::ir::ModelIR> model_exp_sin() {
  return ode({"y", "x", "v"}, {1.0, 1.0, 0.0}, {mul(S(0), call(Fn::cos, {T()})), S(2), neg(S(1))});
}
double err_exp_sin(const Run& r, double T1) {
  return std::max({std::fabs(r.y_final[0] - std::exp(std::sin(T1))), std::fabs(r.y_final[1] - std::cos(T1)),
                   std::fabs(r.y_final[2] + std::sin(T1))});
}

// Settings that turn the adaptive controller into fixed steps of dt: every step is accepted (huge
// tolerances) and the step-size factor is pinned to 1.
const decltype(Opts::cfg) kFixedSteps = {
    {"atol", 1e10}, {"rtol", 1e10}, {"min_factor", 1.0}, {"max_factor", 1.0}};

// The restricted three-body problem (satellite, earth, moon) with a periodic solution: the Arenstorf orbit.
constexpr double kArenstorfT = 17.0652165601579625588917206249;
const std::vector<double> kArenstorfY0 = {0.994, 0.0, 0.0, -2.00158510637908252240537862224};
std::shared_ptr<dynlib::ir::ModelIR> model_arenstorf() {
  const double mu = 0.012277471, mup = 1.0 - mu;
  auto y1 = [] { return S(0); };
  auto y2 = [] { return S(1); };
  auto cube32 = [](Expr a, Expr b) {  // (a^2 + b^2)^(3/2)
    return bin(dynlib::ir::Op::Pow, add(mul(a, a), mul(b, b)), C(1.5));
  };
  auto d1 = [&] { return cube32(add(y1(), C(mu)), y2()); };
  auto d2 = [&] { return cube32(sub(y1(), C(mup)), y2()); };
  auto a1 = sub(sub(add(y1(), mul(C(2.0), S(3))), div(mul(C(mup), add(y1(), C(mu))), d1())),
                div(mul(C(mu), sub(y1(), C(mup))), d2()));
  auto a2 = sub(sub(sub(y2(), mul(C(2.0), S(2))), div(mul(C(mup), y2()), d1())), div(mul(C(mu), y2()), d2()));
  return ode({"y1", "y2", "v1", "v2"}, kArenstorfY0, {S(2), S(3), a1, a2});
}
struct ArenstorfResult {
  std::int64_t steps;
  double err;
};
ArenstorfResult arenstorf(const std::string& stepper, double tol) {
  auto r = run(
      model_arenstorf(), stepper,
      {.t_end = kArenstorfT, .dt = kArenstorfT, .record_interval = 0, .cfg = {{"atol", tol}, {"rtol", tol}}});
  REQUIRE(r.status == dynlib::Status::DONE);
  double e = 0;
  for (int k = 0; k < 4; ++k) e = std::max(e, std::fabs(r.y_final[k] - kArenstorfY0[k]));
  return {r.steps, e};
}

// One stepper driven directly with the DirectBackend (for the dense output and the FSAL checks).
struct DirectStepper {
  std::shared_ptr<dynlib::ir::ModelIR> m;
  const dynlib::kernels::StepperInfo& si;
  dynlib::interp::Program prog;
  dynlib::interp::DirectBackend b;
  std::vector<double> ws, cfg, params;
  std::vector<std::int64_t> iws;
  dynlib::kernels::StepCtx<dynlib::interp::DirectBackend> c;

  DirectStepper(std::shared_ptr<dynlib::ir::ModelIR> model, const std::string& name,
                const decltype(Opts::cfg)& set)
      : m(std::move(model)), si(dynlib::kernels::get_stepper(name)), prog(*m) {
    b.m = m.get();
    b.prog = &prog;
    b.rhs_entry = prog.add_block(m->rhs);
    const auto n = static_cast<std::int64_t>(m->n_states());
    ws.assign(static_cast<std::size_t>(si.ws_size(n)), 0.0);
    iws.assign(static_cast<std::size_t>(si.iws_size(n)), 0);
    cfg = si.default_config(m->sim);
    for (const auto& [k, v] : set) cfg.at(static_cast<std::size_t>(si.config_index(k))) = v;
    params = m->param_vals;
    params.push_back(0.0);  // never empty
    c.n = static_cast<int>(n);
    c.params = params.data();
    c.ws = ws.data();
    c.iws = iws.data();
    c.cfg = cfg.data();
  }
  // One step from (t, y); returns the new state, the out record in `o`.
  std::vector<double> step(double t, double h, const std::vector<double>& y, double* t_prop = nullptr) {
    std::vector<double> y0 = y, y1(y.size());
    auto o = dynlib::kernels::make_step_out(b);
    dynlib::kernels::with_stepper(si.id, [&](auto st) { st(b, c, t, h, y0.data(), y1.data(), o); });
    REQUIRE(o.status.get() == dynlib::kernels::kOK);
    if (t_prop) *t_prop = o.t_prop.get();
    return y1;
  }
  std::int64_t rhs_count() const { return iws.at(static_cast<std::size_t>(si.work_counters_at)); }
  template <class S>
  std::vector<double> dense(S st, double t, double h, std::vector<double> y0, std::vector<double> y1,
                            const std::vector<double>& thetas) {
    st.dense_prepare(b, c, t, h, y0.data(), y1.data());
    std::vector<double> out;
    std::vector<double> v(y0.size());
    for (double th : thetas) {
      st.dense_eval(b, c, th, v.data());
      out.insert(out.end(), v.begin(), v.end());
    }
    return out;
  }
};
}  // namespace

TEST_CASE("tsit5 and dop853 with fixed steps converge with orders 5 and 8", "[stepper][tsit5][dop853]") {
  // dop853 on x'' = -x: on exp(sin t) its error constant of order 8 is so small that the steps that stay
  // above rounding show order 9 to 10.
  auto oscillator = ode({"x", "v"}, {1.0, 0.0}, {S(1), neg(S(0))});
  struct Case {
    const char* name;
    double order, dt0;
  };
  const double T1 = 8.0;
  for (auto c : {Case{"tsit5", 5, 0.125}, Case{"dop853", 8, 1.0}}) {  // dt: exact in binary
    const bool osc = std::string(c.name) == "dop853";
    auto err = [&](double dt) {
      auto r = run(osc ? oscillator : model_exp_sin(), c.name,
                   {.t_end = T1, .dt = dt, .record_interval = 0, .cfg = kFixedSteps, .initial_step = false});
      REQUIRE(r.status == dynlib::Status::DONE);
      CHECK(r.steps == std::llround(T1 / dt));
      return osc ? std::max(std::fabs(r.y_final[0] - std::cos(T1)), std::fabs(r.y_final[1] + std::sin(T1)))
                 : err_exp_sin(r, T1);
    };
    const double e1 = err(c.dt0), e2 = err(c.dt0 / 2), e3 = err(c.dt0 / 4);
    const double p1 = std::log2(e1 / e2), p2 = std::log2(e2 / e3);
    std::printf("%s fixed steps: errors %.3e %.3e %.3e, observed orders %.2f %.2f\n", c.name, e1, e2, e3, p1,
                p2);
    INFO(c.name << " errors " << e1 << " " << e2 << " " << e3 << " orders " << p1 << " " << p2);
    CHECK(std::fabs(p2 - c.order) <= 0.4);
  }
}

TEST_CASE("tsit5 and dop853 meet their tolerances on exp(sin t)", "[stepper][tsit5][dop853]") {
  for (const char* name : {"tsit5", "dop853"}) {
    double prev_err = 1.0;
    std::int64_t prev_steps = 0;
    for (double tol : {1e-4, 1e-6, 1e-8, 1e-10}) {
      auto r = run(model_exp_sin(), name,
                   {.t_end = 3.0, .dt = 0.1, .record_interval = 0, .cfg = {{"atol", tol}, {"rtol", tol}}});
      REQUIRE(r.status == dynlib::Status::DONE);
      const double e = err_exp_sin(r, 3.0);
      std::printf("%s tol %.0e: %lld steps, error %.3e\n", name, tol, static_cast<long long>(r.steps), e);
      INFO(name << " tol " << tol << " steps " << r.steps << " error " << e);
      CHECK(e < 10 * tol);  // local tolerance; the global error stays within a small multiple here
      CHECK(e < prev_err);
      CHECK(r.steps >= prev_steps);
      CHECK(r.args.t == 3.0);  // the last step is clipped onto t_end
      prev_err = e;
      prev_steps = r.steps;
    }
  }
}

TEST_CASE("dop853 on the Arenstorf orbit at rtol = atol = 1e-12", "[stepper][dop853]") {
  const auto a = arenstorf("dop853", 1e-12);
  std::printf("dop853 Arenstorf 1e-12: %lld accepted steps, end error %.3e\n",
              static_cast<long long>(a.steps), a.err);
  CHECK(a.steps < 400);
  CHECK(a.steps > 200);
  CHECK(a.err < 1e-8);
}

// Not run by default: the work-precision table of the explicit adaptive steppers on the Arenstorf orbit
// (test_stepper_tsit5_dop853 "[.arenstorf-table]").
TEST_CASE("Arenstorf work-precision table", "[.arenstorf-table]") {
  for (const char* name : {"rk45", "tsit5", "dop853"})
    for (double tol : {1e-6, 1e-9, 1e-12}) {
      const auto a = arenstorf(name, tol);
      std::printf("%-7s tol %.0e: %6lld steps, end error %.3e\n", name, tol, static_cast<long long>(a.steps),
                  a.err);
    }
}

TEST_CASE("tsit5 and dop853 dense output: exact at the ends, error shrinking with its order",
          "[stepper][tsit5][dop853][dense]") {
  // y' = y*cos(t) from t0 = 0.3: one accepted step of h, the interpolant at theta = 0.3 and 0.7.
  auto m = ode({"y"}, {1.0}, {mul(S(0), call(Fn::cos, {T()}))});
  const double t0 = 0.3;
  auto exact = [](double t) { return std::exp(std::sin(t)); };
  struct Case {
    const char* name;
    double order;  // of the interpolant: the error inside a step is O(h^(order+1))
    double h0;
  };
  for (auto cs : {Case{"tsit5", 4, 0.4}, Case{"dop853", 7, 1.0}}) {
    std::vector<double> errs;
    for (double h : {cs.h0, cs.h0 / 2, cs.h0 / 4}) {
      DirectStepper d(m, cs.name, kFixedSteps);
      const std::vector<double> y0{exact(t0)};
      const auto y1 = d.step(t0, h, y0);
      const auto before = d.rhs_count();
      std::vector<double> v;
      dynlib::kernels::with_stepper(d.si.id, [&](auto st) {
        if constexpr (requires { decltype(st)::kDense; })
          v = d.dense(st, t0, h, y0, y1, {0.0, 0.3, 0.7, 1.0});
      });
      REQUIRE(v.size() == 4);
      CHECK(v[0] == y0[0]);
      CHECK(std::fabs(v[3] - y1[0]) <= 1e-14);
      // dense output costs nothing for tsit5 and 3 evaluations for dop853
      CHECK(d.rhs_count() - before == (std::string(cs.name) == "dop853" ? 3 : 0));
      errs.push_back(std::max(std::fabs(v[1] - exact(t0 + 0.3 * h)), std::fabs(v[2] - exact(t0 + 0.7 * h))));
    }
    const double p = std::log2(errs[1] / errs[2]);
    std::printf("%s dense output: errors %.3e %.3e %.3e, observed local order %.2f\n", cs.name, errs[0],
                errs[1], errs[2], p);
    INFO(cs.name << " dense errors " << errs[0] << " " << errs[1] << " " << errs[2] << " order " << p);
    CHECK(std::fabs(p - (cs.order + 1)) <= 0.5);
  }
}

TEST_CASE("tsit5 and dop853 reuse the last stage only for the same time and state (FSAL)",
          "[stepper][tsit5][dop853][fsal]") {
  auto m = model_exp_sin();
  for (const char* name : {"tsit5", "dop853"}) {
    INFO(name);
    const int per_step = std::string(name) == "tsit5" ? 6 : 12;
    DirectStepper d(m, name, kFixedSteps);
    double t1 = 0;
    const auto y1 = d.step(0.0, 0.1, m->state_ic, &t1);
    CHECK(d.rhs_count() == per_step + 1);  // the first step evaluates its first stage
    auto y2 = d.step(t1, 0.1, y1);
    CHECK(d.rhs_count() == 2 * per_step + 1);  // the second one reuses it
    // A changed state (an event action, an assignment between runs) or time: a fresh first stage.
    auto y_changed = y1;
    y_changed[1] += 0.25;
    DirectStepper fresh(m, name, kFixedSteps);
    const auto ref = fresh.step(t1, 0.1, y_changed);
    DirectStepper d2(m, name, kFixedSteps);
    d2.step(0.0, 0.1, m->state_ic);
    const auto got = d2.step(t1, 0.1, y_changed);
    CHECK(got == ref);
    CHECK(d2.rhs_count() == 2 * per_step + 2);
    DirectStepper d3(m, name, kFixedSteps);
    d3.step(0.0, 0.1, m->state_ic);
    CHECK(d3.step(t1 + 0.5, 0.1, y1) == fresh.step(t1 + 0.5, 0.1, y1));
    // The runner clears the flag after an event action: the stored stage is not used then either.
    DirectStepper d4(m, name, kFixedSteps);
    d4.step(0.0, 0.1, m->state_ic);
    d4.iws[0] = 0;
    d4.step(t1, 0.1, y1);
    CHECK(d4.rhs_count() == 2 * per_step + 2);
    (void)y2;
  }
}

TEST_CASE("tsit5 and dop853 with events and aux: a reset state restarts the steps correctly",
          "[stepper][tsit5][dop853][events]") {
  // y' = -y from 1; an end event resets y to 1 when it drops below 0.5; aux a = 2*y. Between resets
  // y = exp(-(t - t_reset)), so a stale first stage after a reset would show in the records.
  auto m = ode({"y"}, {1.0}, {neg(S(0))});
  m->aux = {"a"};
  m->aux_exprs = {mul(C(2.0), S(0))};
  dynlib::ir::Event ev;
  ev.name = "reset";
  ev.phase = dynlib::ir::Phase::end;
  ev.cond = bin(Op::Lt, S(0), C(0.5));
  ev.actions = {{dynlib::ir::Action::Target::State, 0, C(1.0)}};
  ev.log = {{dynlib::ir::LogItem::Kind::Time, 0, "t"}, {dynlib::ir::LogItem::Kind::Aux, 0, "aux:a"}};
  m->events = {ev};
  for (const char* name : {"tsit5", "dop853"}) {
    INFO(name);
    auto r = run(m, name, {.t_end = 5.0, .dt = 0.1, .cfg = {{"atol", 1e-12}, {"rtol", 1e-12}}});
    REQUIRE(r.status == dynlib::Status::DONE);
    REQUIRE(r.evt_t.size() >= 6);
    double worst = 0;
    for (std::size_t k = 0; k < r.t.size(); ++k) {
      double t_reset = 0;
      for (std::size_t e = 0; e < r.evt_t.size(); ++e)
        if (r.evt_t[e] <= r.t[k]) t_reset = r.evt_t[e];
      worst = std::max(worst, std::fabs(r.y[0][k] - std::exp(-(r.t[k] - t_reset))));
    }
    for (const auto& row : r.evt_log) CHECK(row[1] == 2.0);  // aux after the action: a = 2*1
    std::printf("%s with %zu resets: worst record error %.3e\n", name, r.evt_t.size(), worst);
    CHECK(worst < 1e-10);
  }
}

TEST_CASE("assign between runs: steppers that reuse stages or keep a history restart on resume",
          "[stepper][fsal][sim]") {
  // y' = -a*y. A param or state assigned between runs must not meet a stored first stage or history.
  const char* kDecay = R"(inline:
[model]
type = "ode"
[states]
y = 1.0
[params]
a = 1.0
[equations.rhs]
y = "-a*y"
)";
  for (const char* name : {"tsit5", "dop853", "ab2"}) {
    INFO(name);
    const bool adaptive = std::string(name) != "ab2";
    const double tol = adaptive ? 1e-10 : 1e-5;
    auto sim = dynlib::setup(kDecay, {.stepper = name});
    if (adaptive)
      sim.run({.T = 1.0, .dt = 0.01, .record = false, .stepper = {{"atol", 1e-13}, {"rtol", 1e-13}}});
    else
      sim.run({.T = 1.0, .dt = 0.001, .record = false});
    sim.assign("a", 2.0);
    sim.run({.T = 2.0, .record = false, .resume = true});
    CHECK(std::fabs(sim.state("y") - std::exp(-3.0)) < tol);
    sim.assign("y", 1.0);
    sim.run({.T = 3.0, .record = false, .resume = true});
    CHECK(std::fabs(sim.state("y") - std::exp(-2.0)) < tol);
  }
}

TEST_CASE("tsit5 and dop853 never accept an error above the tolerance: STEPFAIL at min_step",
          "[stepper][tsit5][dop853]") {
  // y' = y^2, y(0) = 1 blows up at t = 1: the steps shrink to min_step and the run fails next to the pole
  // (like rk45, a step may land just beyond it, where y is huge and the relative tolerance loose).
  auto m = ode({"y"}, {1.0}, {mul(S(0), S(0))});
  for (const char* name : {"rk45", "tsit5", "dop853"}) {
    INFO(name);
    auto r = run(m, name, {.t_end = 2.0, .dt = 0.1, .record_interval = 0});
    std::printf("%s on y' = y^2: %s at t = %.10f\n", name,
                r.status == dynlib::Status::STEPFAIL ? "STEPFAIL" : "?", r.args.t);
    CHECK(r.status == dynlib::Status::STEPFAIL);
    CHECK(std::fabs(r.args.t - 1.0) < 1e-3);
    CHECK(!(r.args.err_est <= 1.0));  // the failed step's estimate: above tolerance (or not finite)
  }
}

// dop853's stiffness detection: Van der Pol with mu = 1000 is stiff once it leaves its start (the step is
// limited by stability): one warning per run, naming the time; none with nstiff = 0, none for Lorenz.
TEST_CASE("dop853 warns once when the problem looks stiff, and only then", "[stepper][dop853]") {
  std::vector<std::string> seen;
  dynlib::set_warning_handler([&](std::string_view m) { seen.emplace_back(m); });
  const char* vdp =
      "inline:\n[model]\ntype = \"ode\"\n[states]\ny1 = 2.0\ny2 = 0.0\n[params]\nmu = 1000.0\n"
      "[equations.rhs]\ny1 = \"y2\"\ny2 = \"mu*(1 - y1*y1)*y2 - y1\"\n";
  auto stiff_warnings = [&] {
    std::size_t k = 0;
    for (const auto& m : seen) k += m.find("dop853: the problem looks stiff from t=") != std::string::npos;
    return k;
  };
  {
    auto sim = dynlib::setup(vdp, {.stepper = "dop853"});
    sim.run({.T = 100.0, .record = false});
    CHECK(stiff_warnings() == 1);
    INFO(seen.front());
    CHECK(seen.front().find("t=2.15") != std::string::npos);  // about where the slow phase begins
    sim.run({.T = 150.0, .record = false, .resume = true});   // still stiff: no second warning
    CHECK(stiff_warnings() == 1);
  }
  seen.clear();
  {
    auto sim = dynlib::setup(vdp, {.stepper = "dop853"});
    sim.run({.T = 100.0, .record = false, .stepper = {{"nstiff", 0}}});
    CHECK(stiff_warnings() == 0);
  }
  {
    auto sim = dynlib::setup("builtin://ode/lorenz", {.stepper = "dop853"});
    sim.run({.T = 100.0, .record = false, .stepper = {{"atol", 1e-10}, {"rtol", 1e-10}}});
    CHECK(sim.step_count() > 1000);  // so the test ran more than once
    CHECK(stiff_warnings() == 0);
  }
  dynlib::set_warning_handler(nullptr);
}

// A forcing switched on at t = 1.1 (a jump of the right-hand side): a step across the jump has an error
// that shrinks only like h, so the controller needs more than 10 tries to find a step ending just before
// it. Both steppers get through at every tolerance with their default settings, to the tolerance.
TEST_CASE("tsit5 and dop853 step through a jump of the right-hand side", "[stepper][tsit5][dop853]") {
  // x' = 1 + (5 if t >= 1.1 else 0), y' = -y, z' = -sin t: x(2) = 6.5, y(2) = exp(-2), z(2) = cos 2.
  auto m =
      ode({"x", "y", "z"}, {0.0, 1.0, 1.0},
          {add(C(1.0), sel(bin(Op::Ge, T(), C(1.1)), C(5.0), C(0.0))), neg(S(1)), neg(call(Fn::sin, {T()}))});
  for (const char* name : {"tsit5", "dop853"})
    for (double tol : {1e-6, 1e-8, 1e-10, 1e-12}) {
      INFO(name << " at tol " << tol);
      auto r = run(m, name,
                   {.t_end = 2.0, .dt = 0.1, .record_interval = 0, .cfg = {{"atol", tol}, {"rtol", tol}}});
      REQUIRE(r.status == dynlib::Status::DONE);
      const double e =
          std::max({std::fabs(r.y_final[0] - 6.5) / 6.5, std::fabs(r.y_final[1] - std::exp(-2.0)),
                    std::fabs(r.y_final[2] - std::cos(2.0))});
      std::printf("%s at tol %g across the jump: %lld steps, error %.2e\n", name, tol,
                  static_cast<long long>(r.steps), e);
      CHECK(e < 50 * tol);  // the global error: a few tens of the local tolerance
    }
}
