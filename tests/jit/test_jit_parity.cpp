// jit=true changes speed, never results (docs/internals/kernels.md). The JIT and the interpreter run the same
// kernel templates; every output is compared bit for bit (memcmp on the doubles).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/jit_loader.hpp"
#include "dynlib/model.hpp"
#include "interp/interp.hpp"
#include "jit/run_helper.hpp"
#include "runtime/test_runner_helpers.hpp"
#include "steppers_catalogue/stepper_registry.hpp"

using namespace tb;
using dynlib::test::run_model;
using dynlib::test::RunOut;
using dynlib::test::RunSpec;
using dynlib::test::same_bits;

namespace {

// Tiered compilation: compare the optimised code (wait for it), or, under DYNLIB_JIT_TIER=baseline
// (the jit_parity_baseline_code test), the baseline code that is never replaced.
std::unique_ptr<dynlib::core::JitCompiledModel> compiled(const std::shared_ptr<const dynlib::ir::ModelIR>& m,
                                                         const dynlib::kernels::StepperInfo& s) {
  auto jt = dynlib::core::jit_compile(m, s, m->dtype);
  jt->wait_optimized();
  const char* tier = std::getenv("DYNLIB_JIT_TIER");
  const bool baseline = tier != nullptr && std::string(tier) == "baseline";
  CHECK(jt->tier() == (baseline ? "baseline" : "optimized"));
  return jt;
}

bool same_double(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void check_same(const RunOut& a, const RunOut& b) {
  CHECK(a.status == b.status);
  CHECK(a.n_rec == b.n_rec);
  CHECK(a.n_evt == b.n_evt);
  CHECK(a.steps == b.steps);
  CHECK(same_double(a.t, b.t));
  CHECK(same_double(a.dt, b.dt));
  CHECK(same_double(a.err_est, b.err_est));
  CHECK(same_bits(a.T, b.T));
  CHECK(same_bits(a.Y, b.Y));
  CHECK(same_bits(a.AUX, b.AUX));
  CHECK(same_bits(a.STEP, b.STEP));
  CHECK(same_bits(a.EVT_CODE, b.EVT_CODE));
  CHECK(same_bits(a.EVT_INDEX, b.EVT_INDEX));
  CHECK(same_bits(a.EVT_LOG, b.EVT_LOG));
  CHECK(same_bits(a.EVT_T, b.EVT_T));
  CHECK(same_bits(a.EVT_STEP, b.EVT_STEP));
  CHECK(same_bits(a.y_final, b.y_final));
  CHECK(same_bits(a.y_prev, b.y_prev));
  CHECK(same_bits(a.params, b.params));
  CHECK(same_bits(a.aux_values, b.aux_values));
  CHECK(same_bits(a.ws, b.ws));
  CHECK(same_bits(a.iws, b.iws));
  CHECK(same_bits(a.event_counts, b.event_counts));
  CHECK(same_bits(a.lag_ring, b.lag_ring));
  CHECK(same_bits(a.lag_head, b.lag_head));
  CHECK(a.reentries == b.reentries);
  CHECK(same_bits(a.an_ws, b.an_ws));
  CHECK(same_bits(a.an_out, b.an_out));
  CHECK(same_bits(a.an_trace, b.an_trace));
  CHECK(a.trace_count == b.trace_count);
}

// Model functions called directly (rhs, jacobian, update_aux) on a grid of inputs.
void check_functions(const dynlib::kernels::CompiledModel& in, const dynlib::kernels::CompiledModel& jt,
                     const std::vector<std::vector<double>>& ys, const std::vector<double>& p) {
  const auto& m = in.model();
  const std::size_t n = m.n_states();
  std::vector<double> ring(std::max<std::int32_t>(m.lag_ring_size, 1));
  std::vector<std::int64_t> head(std::max<std::size_t>(m.lags.size(), 1));
  for (std::size_t k = 0; k < ring.size(); ++k) ring[k] = 0.25 * static_cast<double>(k) - 1.0;
  for (std::size_t k = 0; k < m.lags.size(); ++k) head[k] = static_cast<std::int64_t>(k) % m.lags[k].depth;
  for (const auto& y : ys) {
    for (double t : {0.0, -1.5, 3.25}) {
      std::vector<double> a(n), b(n);
      in.rhs(t, y.data(), a.data(), p.data(), ring.data(), head.data());
      jt.rhs(t, y.data(), b.data(), p.data(), ring.data(), head.data());
      CHECK(same_bits(a, b));
      std::vector<double> xa(std::max<std::size_t>(m.n_aux(), 1)), xb(xa.size());
      in.update_aux(t, y.data(), p.data(), xa.data(), ring.data(), head.data());
      jt.update_aux(t, y.data(), p.data(), xb.data(), ring.data(), head.data());
      CHECK(same_bits(xa, xb));
      if (m.jacobian) {
        std::vector<double> ja(n * n), jb(n * n);
        CHECK(in.jacobian(t, y.data(), ja.data(), p.data(), ring.data(), head.data()));
        CHECK(jt.jacobian(t, y.data(), jb.data(), p.data(), ring.data(), head.data()));
        CHECK(same_bits(ja, jb));
      }
    }
  }
}

}  // namespace

TEST_CASE("JIT == interpreter, bit for bit: every builtin model x every compatible stepper",
          "[jit][parity]") {
  const auto names = dynlib::builtin_model_names();
  REQUIRE(names.size() >= 10);
  int pairs = 0;
  for (const auto& name : names) {
    auto model = dynlib::load_model("builtin://" + name);
    for (const auto& s : dynlib::kernels::all_steppers()) {
      if (s.kind != model->kind) continue;
      INFO("model " << name << ", stepper " << s.name);
      auto in = dynlib::interp::make_interpreted(model, s);
      auto jt = compiled(model, s);
      REQUIRE(jt->is_jitted("runner"));
      REQUIRE(jt->is_jitted("stepper"));
      RunSpec spec;
      spec.n_steps = s.implicit ? 150 : 400;
      auto a = run_model(*in, spec);
      auto b = run_model(*jt, spec);
      CHECK(a.n_rec > 1);
      check_same(a, b);
      // Record interval 3 and a roomier buffer: another path through the runner.
      spec.record_interval = 3;
      spec.cap_rec = 64;
      check_same(run_model(*in, spec), run_model(*jt, spec));
      if (s.name == "rk4" || s.name == "map") {
        std::vector<std::vector<double>> ys{model->state_ic};
        auto y2 = model->state_ic;
        for (auto& v : y2) v = v * -1.75 + 0.3;
        ys.push_back(y2);
        check_functions(*in, *jt, ys, model->param_vals);
      }
      ++pairs;
    }
  }
  CHECK(pairs >= 100);
}

namespace {
// Every op of the lowered IR, on hand-built expressions: the rhs of an n-state model where each
// component is one test expression of (x = y0, z = y1, p0).
std::shared_ptr<dynlib::ir::ModelIR> ops_model() {
  auto x = [] { return S(0); };
  auto z = [] { return S(1); };
  std::vector<Expr> es{
      bin(Op::Mod, x(), z()),
      bin(Op::FloorDiv, x(), z()),
      bin(Op::And, x(), z()),
      bin(Op::Or, x(), z()),
      mk(Op::Not, {x()}),
      sel(bin(Op::Lt, x(), z()), call(Fn::sin, {x()}), call(Fn::exp, {z()})),
      call(Fn::min, {x(), z(), C(1.5)}),
      call(Fn::max, {x(), z(), C(-0.0)}),
      call(Fn::round, {mul(x(), C(2.5))}),
      bin(Op::Pow, x(), z()),
      call(Fn::pow, {call(Fn::abs, {x()}), C(0.5)}),
      call(Fn::hypot, {x(), z()}),
      call(Fn::atan2, {x(), z()}),
      call(Fn::copysign, {C(2.0), z()}),
      call(Fn::to_bool, {x()}),
      call(Fn::to_int, {x()}),
      call(Fn::floor, {x()}),
      call(Fn::ceil, {z()}),
      call(Fn::trunc, {z()}),
      call(Fn::log1p, {call(Fn::abs, {x()})}),
      call(Fn::expm1, {mul(C(0.1), z())}),
      call(Fn::tanh, {x()}),
      call(Fn::erf, {z()}),
      call(Fn::erfc, {x()}),
      call(Fn::sqrt, {z()}),
      call(Fn::log, {x()}),
      call(Fn::log10, {z()}),
      call(Fn::log2, {x()}),
      call(Fn::cos, {mul(x(), z())}),
      call(Fn::tan, {x()}),
      call(Fn::asin, {div(x(), C(10))}),
      call(Fn::acos, {div(z(), C(10))}),
      call(Fn::atan, {x()}),
      call(Fn::sinh, {div(z(), C(3))}),
      call(Fn::cosh, {div(x(), C(3))}),
      call(Fn::asinh, {x()}),
      call(Fn::acosh, {z()}),
      call(Fn::atanh, {div(x(), C(10))}),
      call(Fn::to_float, {add(x(), P(0))}),
      bin(Op::Le, x(), z()),
      bin(Op::Ge, x(), z()),
      bin(Op::Eq, x(), z()),
      bin(Op::Ne, x(), z()),
      bin(Op::Gt, T(), x()),
      neg(sub(x(), z())),
      // sum(i*x for i in range(0, 7) if i % 2 != 0)
      mk(Op::Sum, {C(0), C(7), C(1), mul(LV(0), x()), bin(Op::Ne, bin(Op::Mod, LV(0), C(2)), C(0))}, 0, 0),
      // prod((z + i) for i in range(5, 0, -2))
      mk(Op::Prod, {C(5), C(0), C(-2), add(z(), LV(1))}, 0, 1),
      // nested: sum(prod(j for j in range(1, i+1)) for i in range(0, 4))
      mk(Op::Sum, {C(0), C(4), C(1), mk(Op::Prod, {C(1), add(LV(0), C(1)), C(1), LV(1)}, 0, 1)}, 0, 0),
      // (x > 0 and x) or (z < 0 and z * 2) or 7
      bin(Op::Or,
          bin(Op::Or, bin(Op::And, bin(Op::Gt, x(), C(0)), x()),
              bin(Op::And, bin(Op::Lt, z(), C(0)), mul(z(), C(2)))),
          C(7)),
      // bounds from the state: NaN, +-inf and 1e300 convert like the interpreter (INT64_MIN: no iteration)
      mk(Op::Sum, {C(0), x(), C(1), LV(0)}, 0, 0),
      // lags: x(t-1), x(t-2), z(t-1)
      add(L(0, 1), mul(C(3), L(0, 2))),
      L(1, 1),
  };
  std::vector<std::string> names;
  std::vector<double> ic;
  for (std::size_t k = 0; k < es.size(); ++k) {
    names.push_back("s" + std::to_string(k));
    ic.push_back(0.0);
  }
  auto m = ode(names, ic, es);
  m->params = {"p0"};
  m->param_vals = {0.5};
  m->n_loop_slots = 2;
  add_lag(*m, 0, 3);
  add_lag(*m, 1, 2);
  m->aux = {"a0", "a1"};
  m->aux_exprs = {add(L(0, 1), x()), bin(Op::Mod, z(), C(-3))};
  m->name = "ops";
  m->source = "hand-built IR";
  return m;
}
}  // namespace

TEST_CASE("JIT == interpreter on every expression op, special values included", "[jit][parity][expr]") {
  auto m = ops_model();
  const auto& s = dynlib::kernels::get_stepper("rk4");
  auto in = dynlib::interp::make_interpreted(m, s);
  auto jt = compiled(m, s);
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> vals{-7.5, -3.0,  -2.5,    -1.0, -0.0, 0.0,
                                 0.5,  1.0,   2.0,     2.5,  3.0,  6.283185307179586,
                                 7.25, 1e300, -1e-300, inf,  -inf, nan};
  std::vector<std::vector<double>> ys;
  for (double x : vals)
    for (double z : vals) {
      std::vector<double> y(m->n_states(), 0.0);
      y[0] = x;
      y[1] = z;
      ys.push_back(y);
    }
  check_functions(*in, *jt, ys, m->param_vals);
}

TEST_CASE("JIT == interpreter with events, aux, stop and lags through the runner", "[jit][parity][events]") {
  // x' = -a*x + 1 + 0.1*lag_x(2); event (end): x > 0.8 -> x = x - 0.5, a = a*1.01, log (t, x, a, aux0);
  // event (start): t > 0.5 and y < 0.3 -> y = y + 0.25, log (t, y); stop when aux1 > 3.
  auto m = ode({"x", "y"}, {0.1, 0.05},
               {add(add(mul(neg(P(0)), S(0)), C(1.0)), mul(C(0.1), L(0, 2))), sub(S(0), S(1))});
  add_lag(*m, 0, 3);
  m->params = {"a", "b"};
  m->param_vals = {0.9, 2.0};
  m->aux = {"E", "cnt"};
  m->aux_exprs = {add(mul(S(0), S(0)), S(1)), mul(T(), C(0.5))};
  dynlib::ir::Event e1;
  e1.name = "reset";
  e1.phase = dynlib::ir::Phase::end;
  e1.cond = bin(Op::Gt, S(0), C(0.8));
  e1.actions = {{dynlib::ir::Action::Target::State, 0, sub(S(0), C(0.5))},
                {dynlib::ir::Action::Target::Param, 0, mul(P(0), C(1.01))}};
  e1.log = {{dynlib::ir::LogItem::Kind::Time, 0, "t"},
            {dynlib::ir::LogItem::Kind::State, 0, "x"},
            {dynlib::ir::LogItem::Kind::Param, 0, "a"},
            {dynlib::ir::LogItem::Kind::Aux, 0, "aux:E"}};
  dynlib::ir::Event e2;
  e2.name = "kick";
  e2.phase = dynlib::ir::Phase::start;
  e2.cond = bin(Op::And, bin(Op::Gt, T(), C(0.5)), bin(Op::Lt, S(1), C(0.3)));
  e2.actions = {{dynlib::ir::Action::Target::State, 1, add(S(1), C(0.25))}};
  e2.log = {{dynlib::ir::LogItem::Kind::Time, 0, "t"}, {dynlib::ir::LogItem::Kind::State, 1, "y"}};
  dynlib::ir::Event e3;  // both phases, no log
  e3.name = "clip";
  e3.phase = dynlib::ir::Phase::both;
  e3.cond = bin(Op::Gt, S(1), C(0.9));
  e3.actions = {{dynlib::ir::Action::Target::State, 1, C(0.9)}};
  m->events = {e1, e2, e3};
  m->stop = bin(Op::Gt, mk(Op::Call, {mul(T(), C(0.5))}, 0, 0, 0, Fn::abs), C(3.0));
  m->name = "events";
  m->source = "hand-built IR";
  m->sim.dt = 0.01;
  for (const char* sn :
       {"euler", "rk4", "rk45", "ab3", "bdf2", "tr-bdf2a", "tsit5", "dop853", "vern9", "radau5", "bdf"}) {
    INFO("stepper " << sn);
    const auto& s = dynlib::kernels::get_stepper(sn);
    auto in = dynlib::interp::make_interpreted(m, s);
    auto jt = compiled(m, s);
    RunSpec spec;
    spec.n_steps = 900;  // the stop (t > 6) ends it early
    spec.cap_rec = 5;
    spec.cap_evt = 1;
    auto a = run_model(*in, spec);
    auto b = run_model(*jt, spec);
    CHECK(a.n_evt > 3);
    CHECK(a.status == static_cast<int>(dynlib::Status::EARLY_EXIT));
    // every firing counts; the logged events are exactly the log rows
    REQUIRE(a.event_counts.size() >= 3);
    for (std::int64_t code : {0, 1})
      CHECK(a.event_counts[static_cast<std::size_t>(code)] ==
            std::count(a.EVT_CODE.begin(), a.EVT_CODE.end(), code));
    check_same(a, b);
  }
}

TEST_CASE("JIT == interpreter: records at save_at times from every ODE stepper's dense output, tstops",
          "[jit][parity][dense]") {
  // x' = -a*x + 1 + sin(3t), y' = x - y, aux E = x*x + y; end-phase event x > 0.8 -> x = x - 0.5 (the
  // Hermite steppers must not reuse f1 across the action).
  auto m = ode({"x", "y"}, {0.1, 0.05},
               {add(add(mul(neg(P(0)), S(0)), C(1.0)), call(Fn::sin, {mul(C(3.0), T())})), sub(S(0), S(1))});
  m->params = {"a"};
  m->param_vals = {0.9};
  m->aux = {"E"};
  m->aux_exprs = {add(mul(S(0), S(0)), S(1))};
  dynlib::ir::Event e1;
  e1.name = "reset";
  e1.phase = dynlib::ir::Phase::end;
  e1.cond = bin(Op::Gt, S(0), C(0.8));
  e1.actions = {{dynlib::ir::Action::Target::State, 0, sub(S(0), C(0.5))}};
  e1.log = {{dynlib::ir::LogItem::Kind::Time, 0, "t"}, {dynlib::ir::LogItem::Kind::State, 0, "x"}};
  m->events = {e1};
  m->name = "dense";
  m->source = "hand-built IR";
  m->sim.dt = 0.01;
  std::vector<double> save_at;
  for (int k = 0; k <= 60; ++k) save_at.push_back(0.0 + 0.0613 * k);  // off the step grid, t0 included
  for (const auto& s : dynlib::kernels::all_steppers()) {
    if (s.kind != dynlib::ir::Kind::ode) continue;
    INFO("stepper " << s.name);
    auto in = dynlib::interp::make_interpreted(m, s);
    auto jt = compiled(m, s);
    RunSpec spec;
    spec.n_steps = 400;  // t_end = 4
    spec.cap_rec = 5;    // grows by re-entry
    spec.save_at = save_at;
    if (s.adaptive) spec.tstops = {0.5, 1.25, 1.25, 2.0};
    auto a = run_model(*in, spec);
    auto b = run_model(*jt, spec);
    CHECK(a.status == static_cast<int>(dynlib::Status::DONE));
    CHECK(a.n_rec == static_cast<std::int64_t>(save_at.size()));
    CHECK(a.n_evt > 0);
    check_same(a, b);
  }
}

TEST_CASE("JIT ANALYSIS runner (Lyapunov observers) == interpreter, bit for bit", "[jit][parity][analysis]") {
  using dynlib::kernels::ObserverKind;
  struct Case {
    const char* model;
    const char* stepper;
  };
  for (const auto& c : {Case{"ode/lorenz", "rk4"}, Case{"ode/vanderpol", "euler"}, Case{"ode/duffing", "rk2"},
                        Case{"ode/lorenz", "ab2"}, Case{"ode/fitzhugh-nagumo", "ab3"},
                        Case{"map/henon", "map"}, Case{"map/logistic", "map"}}) {
    INFO(c.model << " " << c.stepper);
    auto model = dynlib::load_model(std::string("builtin://") + c.model);
    const auto& s = dynlib::kernels::get_stepper(c.stepper);
    auto in = dynlib::interp::make_interpreted(model, s);
    auto jt = compiled(model, s);
    dynlib::kernels::AnalysisSpec spec;
    spec.observers.push_back({ObserverKind::lyapunov_mle, 1, 1});
    if (model->n_states() >= 2) spec.observers.push_back({ObserverKind::lyapunov_spectrum, 2, 3});
    spec.trace_stride = 2;
    auto ai = in->analysis_runner(spec);
    auto aj = jt->analysis_runner(spec);
    REQUIRE(ai);
    REQUIRE(aj);
    CHECK(aj->is_jitted());
    CHECK_FALSE(ai->is_jitted());
    CHECK(jt->analysis_runner(spec) == aj);  // compiled once per signature
    RunSpec rs;
    rs.n_steps = 300;
    auto a = run_model(*in, rs, ai.get());
    auto b = run_model(*jt, rs, aj.get());
    CHECK(a.trace_count > 10);
    check_same(a, b);
  }
}

TEST_CASE("JIT == interpreter for tsit5 and dop853 with events and aux (no lags: the FSAL path)",
          "[jit][parity][events][fsal]") {
  // x' = -x + sin(y), y' = 1; end event: x < 0.5 -> x = 1.5, log (t, aux0); start event: y > 3 -> y = 0.
  auto m = ode({"x", "y"}, {1.0, 0.0}, {add(neg(S(0)), call(Fn::sin, {S(1)})), C(1.0)});
  m->aux = {"e"};
  m->aux_exprs = {mul(S(0), S(1))};
  dynlib::ir::Event e1;
  e1.name = "reset";
  e1.phase = dynlib::ir::Phase::end;
  e1.cond = bin(Op::Lt, S(0), C(0.5));
  e1.actions = {{dynlib::ir::Action::Target::State, 0, C(1.5)}};
  e1.log = {{dynlib::ir::LogItem::Kind::Time, 0, "t"}, {dynlib::ir::LogItem::Kind::Aux, 0, "aux:e"}};
  dynlib::ir::Event e2;
  e2.name = "wrap";
  e2.phase = dynlib::ir::Phase::start;
  e2.cond = bin(Op::Gt, S(1), C(3.0));
  e2.actions = {{dynlib::ir::Action::Target::State, 1, C(0.0)}};
  m->events = {e1, e2};
  m->name = "fsal-events";
  m->source = "hand-built IR";
  m->sim.dt = 0.05;
  for (const char* sn : {"tsit5", "dop853"}) {
    INFO("stepper " << sn);
    const auto& s = dynlib::kernels::get_stepper(sn);
    auto in = dynlib::interp::make_interpreted(m, s);
    auto jt = compiled(m, s);
    RunSpec spec;
    spec.n_steps = 400;  // t_end = 20
    auto a = run_model(*in, spec);
    auto b = run_model(*jt, spec);
    CHECK(a.n_evt > 2);
    check_same(a, b);
  }
}

TEST_CASE("JIT == interpreter for tsit5, dop853 and vern9 stepping through a jump of the right-hand side",
          "[jit][parity][fsal]") {
  // x' = 1 + (5 if t >= 1.1 else 0), y' = -y, z' = -sin t, to t = 2 at rtol = atol = 1e-8: the step
  // across the jump needs more than 10 tries (the run failed with STEPFAIL when 10 were allowed).
  auto m =
      ode({"x", "y", "z"}, {0.0, 1.0, 1.0},
          {add(C(1.0), sel(bin(Op::Ge, T(), C(1.1)), C(5.0), C(0.0))), neg(S(1)), neg(call(Fn::sin, {T()}))});
  m->name = "jump";
  m->source = "hand-built IR";
  m->sim.dt = 0.1;
  m->sim.atol = 1e-8;
  m->sim.rtol = 1e-8;
  for (const char* sn : {"tsit5", "dop853", "vern9"}) {
    INFO("stepper " << sn);
    const auto& s = dynlib::kernels::get_stepper(sn);
    auto in = dynlib::interp::make_interpreted(m, s);
    auto jt = compiled(m, s);
    RunSpec spec;
    spec.n_steps = 20;  // t_end = 2
    auto a = run_model(*in, spec);
    auto b = run_model(*jt, spec);
    CHECK(a.status == static_cast<std::int32_t>(dynlib::Status::DONE));
    CHECK(std::fabs(a.y_final[0] - 6.5) < 1e-6);
    check_same(a, b);
  }
}

TEST_CASE("JIT == interpreter: radau5 on a stiff problem, exact and finite-difference Jacobians",
          "[jit][parity][radau5]") {
  for (const char* mode : {"external", "internal"}) {
    INFO("jacobian_mode " << mode);
    auto m = dynlib::load_model(std::string(R"M(inline:
[model]
type = "ode"
[states]
x = 2.0
y = 0.0
[equations.rhs]
x = "y"
y = "1000*(1 - x*x)*y - x"
[sim]
dt = 1.0
atol = 1e-7
rtol = 1e-7
jacobian_mode = ")M") + mode + "\"\n");
    const auto& s = dynlib::kernels::get_stepper("radau5");
    auto in = dynlib::interp::make_interpreted(m, s);
    auto jt = compiled(m, s);
    RunSpec spec;
    spec.n_steps = 1500;  // t_end = 1500: a relaxation cycle and a half
    spec.record_interval = 5;
    auto a = run_model(*in, spec);
    auto b = run_model(*jt, spec);
    CHECK(a.status == static_cast<int>(dynlib::Status::DONE));
    CHECK(a.steps > 200);
    check_same(a, b);
  }
}

TEST_CASE("JIT == interpreter for the Rosenbrock steppers: exact and difference derivatives, events, aux",
          "[jit][parity][rosenbrock]") {
  // A forced Van der Pol (symbolic Jacobian and df/dt) with a reset event, a logged aux and lags in the
  // event condition; once more with finite differences in y and t (jacobian_mode = "internal").
  const std::string body = R"M(
[model]
type = "ode"
[states]
x = 2.0
y = 0.0
[params]
mu = 5.0
[equations.rhs]
x = "y"
y = "mu*(1 - x*x)*y - x + 0.5*cos(1.3*t)"
[aux]
energy = "x*x + y*y"
[events.flip]
cond = "x < 0 and lag_x(1) >= 0"
action = "y = y - 0.1"
log = ["t", "x", "aux:energy"]
[sim]
dt = 0.01
)M";
  for (const char* mode : {"", "jacobian_mode = \"internal\"\n"}) {
    auto m = dynlib::load_model("inline:" + body + mode);
    REQUIRE(m->derived_time_derivative);
    for (const char* sn : {"rodas5p", "rodas4"}) {
      INFO(sn << " " << mode);
      const auto& s = dynlib::kernels::get_stepper(sn);
      auto in = dynlib::interp::make_interpreted(m, s);
      auto jt = compiled(m, s);
      RunSpec spec;
      spec.n_steps = 1500;  // t_end = 15
      auto a = run_model(*in, spec);
      auto b = run_model(*jt, spec);
      CHECK(a.status == static_cast<int>(dynlib::Status::DONE));
      CHECK(a.n_evt > 0);
      check_same(a, b);
    }
  }
}

TEST_CASE("JIT == interpreter with root events, every ODE stepper", "[jit][parity][events][root]") {
  // A bouncing ball: impacts located and cut (with an action), apexes logged (no action), both
  // directions; a small record buffer exercises re-entry after cut steps.
  auto model = dynlib::load_model(R"M(inline:
[model]
type = "ode"
[states]
y = 1.0
v = 0.0
[params]
g = 9.81
r = 0.8
[equations.rhs]
y = "v"
v = "-g + 0.1*sin(3*t)"
[events.impact]
root = "y"
direction = "down"
action = "v = -r*v"
log = ["t", "v"]
[events.apex]
root = "v"
log = ["t", "y"]
[sim]
dt = 0.01
)M");
  int steppers = 0;
  for (const auto& s : dynlib::kernels::all_steppers()) {
    if (s.kind != dynlib::ir::Kind::ode) continue;
    INFO("stepper " << s.name);
    auto in = dynlib::interp::make_interpreted(model, s);
    auto jt = compiled(model, s);
    RunSpec spec;
    spec.n_steps = 300;
    auto a = run_model(*in, spec);
    auto b = run_model(*jt, spec);
    CHECK(a.n_evt >= 4);
    check_same(a, b);
    ++steppers;
  }
  CHECK(steppers >= 15);
}
