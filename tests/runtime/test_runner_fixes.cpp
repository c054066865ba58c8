// The runner's per-step order and every fix of docs/internals/differences.md that lives in the kernel.
#include <catch2/catch.hpp>
#include <cmath>

#include "runtime/test_runner_helpers.hpp"

using namespace tb;
using dynlib::Status;
using dynlib::ir::Action;
using dynlib::ir::Event;
using dynlib::ir::LogItem;
using dynlib::ir::Phase;

namespace {
Event event(std::string name, Phase ph, Expr cond, std::vector<Action> actions, std::vector<LogItem> log) {
  Event e;
  e.name = std::move(name);
  e.phase = ph;
  e.cond = std::move(cond);
  e.actions = std::move(actions);
  e.log = std::move(log);
  return e;
}
Action set_state(int i, Expr v) { return Action{Action::Target::State, i, std::move(v)}; }
Action set_param(int i, Expr v) { return Action{Action::Target::Param, i, std::move(v)}; }
LogItem log_t() { return LogItem{LogItem::Kind::Time, 0, "t"}; }
LogItem log_x(int i) { return LogItem{LogItem::Kind::State, i, "x"}; }
LogItem log_p(int i) { return LogItem{LogItem::Kind::Param, i, "p"}; }

// x' = 1, x(0) = 0 (x == t for Euler), param counter p0.
std::shared_ptr<dynlib::ir::ModelIR> ramp() {
  auto m = ode({"x"}, {0.0}, {C(1.0)});
  m->params = {"count"};
  m->param_vals = {0.0};
  return m;
}
}  // namespace

TEST_CASE("fixed-step time is t0 + n*dt: no drift, no extra step", "[runner]") {
  auto r = run(ramp(), "euler", {.t_end = 1.0, .dt = 0.1});
  REQUIRE(r.status == Status::DONE);
  CHECK(r.steps == 10);
  REQUIRE(r.t.size() == 11);
  for (int k = 0; k <= 10; ++k) CHECK(r.t[k] == 0.0 + k * 0.1);
  CHECK(r.t.back() == 1.0);
  CHECK(r.args.dt == 0.1);  // the session dt stays nominal

  auto r3 = run(ramp(), "rk4", {.t_end = 3.0, .dt = 0.1});  // 3/0.1 = 29.999999999999996
  CHECK(r3.steps == 30);
  CHECK(r3.t.back() == 3.0);

  auto rp = run(ramp(), "rk4", {.t_end = 0.95, .dt = 0.1});  // final partial step of 0.05
  CHECK(rp.steps == 10);
  REQUIRE(rp.t.size() == 11);
  CHECK(rp.t[9] == 9 * 0.1);
  CHECK(rp.t.back() == 0.95);
  CHECK(rp.y_final[0] == Approx(0.95).epsilon(1e-14));

  auto ri = run(ramp(), "euler", {.t_end = 1.0, .dt = 0.1, .record_interval = 3});
  REQUIRE(ri.t.size() == 4);  // steps 0, 3, 6, 9
  CHECK(ri.step == std::vector<std::int64_t>{0, 3, 6, 9});

  auto t0 = run(ramp(), "euler", {.t0 = 2.0, .t_end = 2.5, .dt = 0.1});
  CHECK(t0.steps == 5);
  CHECK(t0.t.back() == 2.5);
}

TEST_CASE("growth re-entry never duplicates a record nor reruns an action or a step", "[runner]") {
  for (const char* stepper : {"euler", "ab2", "bdf2", "rk45"}) {
    auto m = ramp();
    // pre: count every step; post: wrap x back by 0.5 once it passes 0.45 (logs x after the action)
    m->events.push_back(
        event("count", Phase::start, C(1.0), {set_param(0, add(P(0), C(1.0)))}, {log_t(), log_p(0)}));
    m->events.push_back(event("wrap", Phase::end, bin(Op::Gt, S(0), C(0.45)),
                              {set_state(0, sub(S(0), C(0.5)))}, {log_t(), log_x(0)}));
    // an end-phase lag event: the lag ring must survive every re-entry unchanged
    const int slot = add_lag(*m, 0, 3);
    m->events.push_back(event("lagged", Phase::end, bin(Op::Lt, L(slot, 2), S(0)), {}, {log_t(), log_x(0)}));
    Opts big{.t_end = 2.0, .dt = 0.1, .cap_rec = 4096, .cap_evt = 4096};
    Opts tiny = big;
    tiny.cap_rec = 1;
    tiny.cap_evt = 1;
    auto a = run(m, stepper, big);
    auto b = run(m, stepper, tiny);
    INFO(stepper << " calls " << b.calls);
    REQUIRE(a.status == Status::DONE);
    REQUIRE(b.status == Status::DONE);
    CHECK(b.calls > 5);
    CHECK(a.t == b.t);
    CHECK(a.y == b.y);
    CHECK(a.step == b.step);
    CHECK(a.evt_code == b.evt_code);
    CHECK(a.evt_index == b.evt_index);
    CHECK(a.evt_log == b.evt_log);
    CHECK(a.evt_t == b.evt_t);
    CHECK(a.evt_step == b.evt_step);
    CHECK(b.params_final[0] == static_cast<double>(b.steps));  // each pre action ran exactly once per step
    for (std::size_t k = 1; k < b.t.size(); ++k) CHECK(b.t[k] > b.t[k - 1]);
  }
}

TEST_CASE("event codes are global declaration indices across phases; all true events fire",
          "[runner][events]") {
  auto m = ramp();
  m->events.push_back(event("a", Phase::start, C(1.0), {}, {log_t()}));
  m->events.push_back(event("b", Phase::end, bin(Op::Ge, S(0), C(0.45)), {}, {log_t()}));
  m->events.push_back(event("c", Phase::end, bin(Op::Ge, S(0), C(0.65)), {}, {log_t()}));
  m->events.push_back(
      event("silent", Phase::end, C(1.0), {set_param(0, add(P(0), C(1.0)))}, {}));  // never logged
  m->events.push_back(event("d", Phase::both, bin(Op::Ge, S(0), C(0.95)), {}, {log_t(), log_x(0)}));
  auto r = run(m, "euler", {.t_end = 1.0, .dt = 0.1});
  REQUIRE(r.status == Status::DONE);
  int n[5] = {0, 0, 0, 0, 0};
  for (auto c : r.evt_code) n[c]++;
  CHECK(n[0] == 10);
  CHECK(n[1] == 6);  // x = 0.5 .. 1.0
  CHECK(n[2] == 4);  // x = 0.7 .. 1.0
  CHECK(n[3] == 0);
  CHECK(n[4] == 1);  // end phase at x = 1.0 (the pre phase at x = 1.0 never runs: no step after)
  CHECK(r.params_final[0] == 10.0);
  // Within the step ending at t = 1.0, the post events b, c, d fire in declaration order after pre a.
  const auto k = r.evt_code.size();
  REQUIRE(k >= 4);
  CHECK(r.evt_code[k - 4] == 0);
  CHECK(r.evt_code[k - 3] == 1);
  CHECK(r.evt_code[k - 2] == 2);
  CHECK(r.evt_code[k - 1] == 4);
  CHECK(r.evt_log[k - 1][0] == 1.0);
  // EVT_INDEX = the last record written before the event: a (pre at t=0.9) -> record 9, post -> record 9.
  CHECK(r.evt_index[k - 4] == 9);
  CHECK(r.evt_index[k - 1] == 9);
  // EVT_T / EVT_STEP: pre events see (t_n, n), post events (t_{n+1}, n+1)
  CHECK(r.evt_t[k - 4] == 0.9);
  CHECK(r.evt_step[k - 4] == 9);
  CHECK(r.evt_t[k - 1] == 1.0);
  CHECK(r.evt_step[k - 1] == 10);
}

TEST_CASE("lag semantics: cross_up fires once per crossing in end and start phases", "[runner][lag]") {
  auto m = ramp();
  const int slot = add_lag(*m, 0, 2);
  // cross_up(x, 2.5) = lag_x(1) <= 2.5 and x > 2.5
  auto cross = bin(Op::And, bin(Op::Le, L(slot, 1), C(2.5)), bin(Op::Gt, S(0), C(2.5)));
  m->events.push_back(event("up_end", Phase::end, cross, {}, {log_t(), log_x(0)}));
  m->events.push_back(event("up_start", Phase::start, cross, {}, {log_t(), log_x(0)}));
  auto r = run(m, "euler", {.t_end = 6.0, .dt = 1.0});
  REQUIRE(r.status == Status::DONE);
  REQUIRE(r.evt_code.size() == 2);
  CHECK(r.evt_code[0] == 0);  // end phase of the step 2 -> 3
  CHECK(r.evt_log[0][0] == 3.0);
  CHECK(r.evt_code[1] == 1);  // start phase of the step 3 -> 4
  CHECK(r.evt_log[1][0] == 3.0);
  // rhs context: lag_x(1) is x_{n-1}; y' = lag_x(1) integrates the lagged ramp.
  auto m2 = ode({"x", "y"}, {0.0, 0.0}, {C(1.0), L(0, 1)});
  add_lag(*m2, 0, 2);
  auto r2 = run(m2, "euler", {.t_end = 4.0, .dt = 1.0});
  // y_{n+1} = y_n + x_{n-1} (x_{-1} = x_0 = 0): 0, 0, 0, 1, 3
  CHECK(r2.y[1] == std::vector<double>{0, 0, 0, 1, 3});
}

TEST_CASE("guards: NaN/Inf in proposal, initial state, params and event writes", "[runner][guards]") {
  using dynlib::kernels::NanWhere;
  // x' = sqrt(1 - t): NaN once a stage time exceeds 1
  auto m = ode({"x"}, {0.0}, {call(Fn::sqrt, {sub(C(1.0), T())})});
  auto r = run(m, "euler", {.t_end = 2.0, .dt = 0.25});
  CHECK(r.status == Status::NAN_DETECTED);
  CHECK(r.args.nan_where == static_cast<int>(NanWhere::proposed_state));
  CHECK(r.args.nan_index == 0);
  CHECK(r.steps == 5);
  CHECK(r.args.t_fail == 1.25);
  CHECK(r.t.size() == 6);  // committed steps stay recorded

  auto mi = ode({"x", "y"}, {0.0, std::nan("")}, {C(1.0), C(1.0)});
  auto ri = run(mi, "rk4", {});
  CHECK(ri.status == Status::NAN_DETECTED);
  CHECK(ri.args.nan_where == static_cast<int>(NanWhere::initial_state));
  CHECK(ri.args.nan_index == 1);
  CHECK(ri.steps == 0);

  auto mp = ramp();
  mp->param_vals[0] = INFINITY;
  auto rp = run(mp, "rk4", {});
  CHECK(rp.status == Status::NAN_DETECTED);
  CHECK(rp.args.nan_where == static_cast<int>(NanWhere::param));

  auto me = ramp();
  me->events.push_back(event("ok", Phase::end, C(1.0), {}, {}));
  me->events.push_back(
      event("bad", Phase::end, bin(Op::Gt, S(0), C(0.25)), {set_state(0, call(Fn::sqrt, {C(-1.0)}))}, {}));
  auto re = run(me, "euler", {.t_end = 1.0, .dt = 0.1});
  CHECK(re.status == Status::NAN_DETECTED);
  CHECK(re.args.nan_where == static_cast<int>(NanWhere::event_state));
  CHECK(re.args.nan_event == 1);
  CHECK(re.steps == 2);                  // the step to x = 0.3 is not committed
  CHECK(re.args.t_fail == Approx(0.3));  // the time of the event that wrote the value
}

TEST_CASE("stop -> EARLY_EXIT after the step is committed and recorded; user break", "[runner]") {
  auto m = ramp();
  m->stop = bin(Op::Gt, S(0), C(0.45));
  auto r = run(m, "euler", {.t_end = 1.0, .dt = 0.1});
  CHECK(r.status == Status::EARLY_EXIT);
  CHECK(r.steps == 5);
  CHECK(r.t.size() == 6);
  CHECK(r.t.back() == 0.5);

  std::int32_t flag = 1;
  auto u = run(ramp(), "rk4", {.t_end = 1.0, .dt = 0.1, .user_break = &flag});
  CHECK(u.status == Status::USER_BREAK);
  CHECK(u.steps == 1);
  CHECK(u.t.size() == 2);
}

TEST_CASE("stepper failures are reported", "[runner]") {
  // rk45 on a blow-up problem: fails (step size collapses or values overflow) near the singularity
  auto m = ode({"x"}, {1.0}, {mul(S(0), S(0))});  // x = 1/(1-t): singular at t = 1
  auto r = run(m, "rk45", {.t_end = 2.0, .dt = 0.1});
  CHECK((r.status == Status::STEPFAIL || r.status == Status::NAN_DETECTED));
  CHECK(r.args.t < 1.01);
}
