// Helpers for the kernel/interpreter tests: hand-built IR and a minimal host that drives
// CompiledModel::run() with the re-entry protocol (grow by doubling, call again).
#pragma once
// Tests use designated initializers of Opts with most fields left at their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dynlib/ir.hpp"
#include "interp/interp.hpp"
#include "kernels/compiled_model.hpp"
#include "steppers_catalogue/stepper_registry.hpp"

namespace tb {
using dynlib::ir::Expr;
using dynlib::ir::Fn;
using dynlib::ir::Node;
using dynlib::ir::Op;

inline Expr mk(Op op, std::vector<Expr> args = {}, double v = 0, int index = 0, int k = 0, Fn fn = Fn::abs) {
  auto n = std::make_shared<Node>();
  n->op = op;
  n->args = std::move(args);
  n->value = v;
  n->index = index;
  n->k = k;
  n->fn = fn;
  return n;
}
inline Expr C(double v) { return mk(Op::Const, {}, v); }
inline Expr S(int i) { return mk(Op::State, {}, 0, i); }
inline Expr P(int i) { return mk(Op::Param, {}, 0, i); }
inline Expr T() { return mk(Op::Time); }
inline Expr L(int slot, int k) { return mk(Op::Lag, {}, 0, slot, k); }
inline Expr LV(int slot) { return mk(Op::LoopVar, {}, 0, slot); }
inline Expr bin(Op op, Expr a, Expr b) { return mk(op, {std::move(a), std::move(b)}); }
inline Expr add(Expr a, Expr b) { return bin(Op::Add, a, b); }
inline Expr sub(Expr a, Expr b) { return bin(Op::Sub, a, b); }
inline Expr mul(Expr a, Expr b) { return bin(Op::Mul, a, b); }
inline Expr div(Expr a, Expr b) { return bin(Op::Div, a, b); }
inline Expr neg(Expr a) { return mk(Op::Neg, {a}); }
inline Expr call(Fn f, std::vector<Expr> args) { return mk(Op::Call, std::move(args), 0, 0, 0, f); }
inline Expr sel(Expr c, Expr a, Expr b) { return mk(Op::Select, {c, a, b}); }

inline std::shared_ptr<dynlib::ir::ModelIR> ode(std::vector<std::string> states, std::vector<double> ic,
                                                std::vector<Expr> rhs) {
  auto m = std::make_shared<dynlib::ir::ModelIR>();
  m->kind = dynlib::ir::Kind::ode;
  m->states = std::move(states);
  m->state_ic = std::move(ic);
  m->rhs = std::move(rhs);
  return m;
}

// Adds a depth-k lag for `state` (call in state order); returns its slot.
inline int add_lag(dynlib::ir::ModelIR& m, int state, int depth) {
  dynlib::ir::LagSlot s;
  s.state = state;
  s.depth = depth;
  s.offset = m.lag_ring_size;
  m.lags.push_back(s);
  m.lag_ring_size += depth;
  return static_cast<int>(m.lags.size()) - 1;
}

struct Opts {
  double t0 = 0.0, t_end = 1.0, dt = 0.1;
  std::int64_t N = 0;  // maps
  std::int64_t max_steps = 100000000;
  std::int64_t record_interval = 1;
  std::int64_t cap_rec = 1024, cap_evt = 64;
  std::vector<std::pair<std::string, double>> cfg;  // overrides
  bool initial_step = true;                         // adaptive: initial_step() (else dt)
  const std::int32_t* user_break = nullptr;
};

struct Run {
  dynlib::Status status{};
  std::vector<double> t;
  std::vector<std::vector<double>> y;  // [state][record]
  std::vector<std::int64_t> step;
  std::vector<std::int64_t> evt_code, evt_index, evt_step;
  std::vector<double> evt_t;
  std::vector<std::vector<double>> evt_log;
  std::vector<double> y_final, params_final;
  std::vector<std::int64_t> event_counts;  // firings per event (logged or not)
  std::vector<std::int64_t> iws;           // the stepper's int workspace at the end
  std::int64_t steps = 0;
  int calls = 0;
  dynlib::kernels::RunnerArgs args;  // final args (buffer pointers dangling)
};

inline Run run(const std::shared_ptr<const dynlib::ir::ModelIR>& m, const std::string& stepper, Opts o = {}) {
  using namespace dynlib::kernels;
  const auto& si = get_stepper(stepper);
  auto cm = dynlib::interp::make_interpreted(m, si);
  const auto& L = cm->layout();
  const auto n = L.n_state;
  std::vector<double> y(m->state_ic), yprev(y), params(m->param_vals),
      ring(std::max<std::int64_t>(1, L.lag_ring_size));
  std::vector<std::int64_t> head(std::max<std::int64_t>(1, L.n_lags));
  std::vector<double> aux(std::max<std::int64_t>(1, L.n_aux)), ws(std::max<std::int64_t>(1, L.ws_size)),
      yprop(std::max<std::int64_t>(1, n)), scratch(std::max<std::int64_t>(1, L.scratch_size));
  std::vector<std::int64_t> iws(std::max<std::int64_t>(1, L.iws_size));
  std::vector<std::int64_t> event_counts(std::max<std::int64_t>(1, L.n_events));
  auto cfg = cm->default_config();
  for (auto& [k, v] : o.cfg) cfg.at(si.config_index(k)) = v;
  cm->seed_lags(y.data(), ring.data(), head.data());
  std::int64_t cap = o.cap_rec, ce = o.cap_evt;
  std::vector<double> T(cap), Y(n * cap), EL(ce * L.log_width);
  std::vector<std::int64_t> ST(cap), EC(ce), EI(ce), ES(ce), ridx(n);
  std::vector<double> ET(ce);
  for (std::int64_t k = 0; k < n; ++k) ridx[k] = k;
  RunnerArgs a;
  a.t_end = o.t_end;
  a.step_end = si.kind == dynlib::ir::Kind::map ? o.N : o.max_steps;
  a.record_interval = o.record_interval;
  a.n_state = n;
  a.t_base = o.t0;
  a.step_base = 0;
  a.dt_nominal = o.dt;
  a.y_curr = y.data();
  a.y_prev = yprev.data();
  a.params = params.data();
  a.lag_ring = ring.data();
  a.lag_head = head.data();
  a.aux_values = aux.data();
  a.event_counts = event_counts.data();
  a.ws = ws.data();
  a.iws = iws.data();
  a.stepper_config = cfg.data();
  a.n_config = static_cast<std::int64_t>(cfg.size());
  a.y_prop = yprop.data();
  a.scratch = scratch.data();
  a.state_rec_idx = ridx.data();
  a.n_rec_states = n;
  a.t = o.t0;
  a.dt = o.dt;
  if (si.adaptive && o.initial_step)
    a.dt = cm->initial_step(o.t0, o.t_end, y.data(), params.data(), cfg.data(), a.n_config, o.dt);
  a.user_break_flag = o.user_break;
  Run r;
  for (;;) {
    a.T = T.data();
    a.Y = Y.data();
    a.STEP = ST.data();
    a.cap_rec = cap;
    a.EVT_CODE = EC.data();
    a.EVT_INDEX = EI.data();
    a.EVT_LOG_DATA = EL.data();
    a.EVT_T = ET.data();
    a.EVT_STEP = ES.data();
    a.cap_evt = ce;
    cm->run(a);
    ++r.calls;
    const auto st = static_cast<dynlib::Status>(a.status);
    if (st == dynlib::Status::GROW_REC) {
      std::int64_t nc = std::max<std::int64_t>(1, cap);
      while (nc < a.need_rec) nc *= 2;
      std::vector<double> T2(nc), Y2(n * nc);
      std::vector<std::int64_t> S2(nc);
      for (std::int64_t i = 0; i < a.i; ++i) {
        T2[i] = T[i];
        S2[i] = ST[i];
        for (std::int64_t k = 0; k < n; ++k) Y2[k * nc + i] = Y[k * cap + i];
      }
      T.swap(T2);
      Y.swap(Y2);
      ST.swap(S2);
      cap = nc;
      continue;
    }
    if (st == dynlib::Status::GROW_EVT) {
      std::int64_t nc = std::max<std::int64_t>(1, ce);
      while (nc < a.need_evt) nc *= 2;
      EC.resize(nc);
      EI.resize(nc);
      EL.resize(nc * L.log_width);
      ET.resize(nc);
      ES.resize(nc);
      ce = nc;
      continue;
    }
    r.status = st;
    break;
  }
  r.t.assign(T.begin(), T.begin() + a.i);
  r.step.assign(ST.begin(), ST.begin() + a.i);
  r.y.resize(n);
  for (std::int64_t k = 0; k < n; ++k) r.y[k].assign(Y.begin() + k * cap, Y.begin() + k * cap + a.i);
  for (std::int64_t e = 0; e < a.m; ++e) {
    r.evt_code.push_back(EC[e]);
    r.evt_index.push_back(EI[e]);
    r.evt_t.push_back(ET[e]);
    r.evt_step.push_back(ES[e]);
    r.evt_log.emplace_back(EL.begin() + e * L.log_width, EL.begin() + (e + 1) * L.log_width);
  }
  r.y_final = y;
  r.params_final = params;
  r.event_counts.assign(event_counts.begin(), event_counts.begin() + L.n_events);
  r.iws = iws;
  r.steps = a.step;
  r.args = a;
  return r;
}

}  // namespace tb
