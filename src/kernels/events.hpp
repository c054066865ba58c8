// Event, aux, record and guard kernels (docs/internals/runner.md "Events") with our fixes:
//  * every event of the phase whose condition holds fires, in declaration order (conditions are
//    evaluated on the state as left by the previous events' actions);
//  * actions run sequentially, in place; each written value is guarded (NaN/Inf -> NAN_DETECTED);
//  * the log row is evaluated after the actions; EVT_CODE = global declaration index;
//  * every firing counts in event_counts[k], logged or not (an event without `log` writes no row);
//  * the event buffer capacity for the whole step was checked by the runner beforehand.
#pragma once
#include <algorithm>

#include "dynlib/status.hpp"
#include "kernels/runner_view.hpp"
#include "kernels/stepper_common.hpp"

namespace dynlib::kernels {

constexpr std::int64_t kRunning = -1;  // internal runner status while the loop continues

template <class B>
EvalCtx<B> make_ctx(const RunnerView<B>& a, typename B::Val t, typename B::Arr y, int shift) {
  EvalCtx<B> c{t, y, a.params, a.lag_ring, a.lag_head, shift};
  return c;
}

// A state index as a B::Int: a code-generation time int (unrolled loop) or a runtime B::Int.
template <class B>
typename B::Int as_int(B& b, int x) {
  return b.ci(x);
}
template <class B>
typename B::Int as_int(B&, typename B::Int x) {
  return x;
}

template <class B, class I>
void set_nan(B& b, const RunnerView<B>& a, typename B::IVar& st, NanWhere where, I index, int event,
             typename B::Val t) {
  st = b.ci(static_cast<std::int64_t>(Status::NAN_DETECTED));
  a.iio[kI_nan_where] = b.ci(static_cast<std::int64_t>(where));
  a.iio[kI_nan_index] = as_int(b, index);
  a.iio[kI_nan_event] = b.ci(event);
  a.dio[kD_t_fail] = t;
}

// Fires event k on (t, y) in the context `ctx` (st == running): counts it, runs its actions in place
// (guarded), writes its log row. `acted`, if given, is set to 1 when the event has actions.
template <class B>
void fire_event(B& b, const RunnerView<B>& a, int k, const EvalCtx<B>& ctx, typename B::Val t,
                typename B::Arr y, typename B::IVar& st, typename B::IVar& m, typename B::Int i_rec,
                typename B::Int step_seen, typename B::IVar* acted) {
  const auto& model = b.model();
  const auto& ev = model.events[static_cast<std::size_t>(k)];
  std::int64_t w = 1;
  for (const auto& e : model.events) w = std::max<std::int64_t>(w, static_cast<std::int64_t>(e.log.size()));
  const auto W = b.ci(w);
  a.event_counts[k] = a.event_counts[k] + b.ci(1);
  if (acted && !ev.actions.empty()) *acted = b.ci(1);
  for (const auto& act : ev.actions) {
    auto v = b.eval(act.value, ctx);
    if (model.dtype != ir::DType::float64) v = b.to_storage(v);  // stored in the model dtype
    if (act.target == ir::Action::Target::State)
      y[act.index] = v;
    else
      a.params[act.index] = v;
    b.if_(b.lnot(b.isfinite(v)), [&] {
      set_nan(b, a, st,
              act.target == ir::Action::Target::State ? NanWhere::event_state : NanWhere::event_param,
              act.index, k, t);
    });
  }
  if (!ev.log.empty()) {
    auto row = m.get() * W;
    for (std::size_t j = 0; j < ev.log.size(); ++j) {
      const auto& item = ev.log[j];
      typename B::Val v = b.c(0.0);
      switch (item.kind) {
        case ir::LogItem::Kind::Time:
          v = t;
          break;
        case ir::LogItem::Kind::State:
          v = y[item.index];
          break;
        case ir::LogItem::Kind::Param:
          v = a.params[item.index];
          break;
        case ir::LogItem::Kind::Aux:
          v = b.eval(model.aux_exprs.at(item.index), ctx);
          break;
      }
      a.EVT_LOG_DATA[row + b.ci(static_cast<std::int64_t>(j))] = v;
    }
    a.EVT_CODE[m.get()] = b.ci(static_cast<std::int64_t>(k));
    a.EVT_INDEX[m.get()] = i_rec - b.ci(1);
    a.EVT_T[m.get()] = t;
    a.EVT_STEP[m.get()] = step_seen;
    m = m.get() + b.ci(1);
  }
}

// Runs the condition events of one phase (root events: kernels/root_events.hpp). pre: DSL start/both
// on (t, y=y_curr), lag_shift 0. post: end/both on (t_new, y=y_prop), lag_shift 1. `m` is the event
// cursor var, `i_rec` the record cursor, `step_seen` the step number of the state the events see (pre:
// n, post: n+1). `acted`, if given, is set to 1 when an event with actions fires (the stepper's history
// is then stale).
template <class B>
void run_events(B& b, const RunnerView<B>& a, bool post, typename B::Val t, typename B::Arr y,
                typename B::IVar& st, typename B::IVar& m, typename B::Int i_rec, typename B::Int step_seen,
                typename B::IVar* acted = nullptr) {
  const auto& model = b.model();
  const int shift = post ? 1 : 0;
  auto ctx = make_ctx(a, t, y, shift);
  for (std::size_t k = 0; k < model.events.size(); ++k) {
    const auto& ev = model.events[k];
    if (ev.root) continue;
    const bool in_phase = post ? (ev.phase == ir::Phase::end || ev.phase == ir::Phase::both)
                               : (ev.phase == ir::Phase::start || ev.phase == ir::Phase::both);
    if (!in_phase) continue;
    b.if_(st.get() == b.ci(kRunning), [&] {
      auto cond = b.eval(ev.cond, ctx);
      b.if_(cond != b.c(0.0),
            [&] { fire_event(b, a, static_cast<int>(k), ctx, t, y, st, m, i_rec, step_seen, acted); });
    });
  }
}

// The aux values (end-phase context, lag_shift 1): aux_values = aux(t, y).
template <class B>
void update_aux_values(B& b, const RunnerView<B>& a, typename B::Val t, typename B::Arr y) {
  const auto& model = b.model();
  auto ctx = make_ctx(a, t, y, 1);
  for (std::size_t k = 0; k < model.aux_exprs.size(); ++k)
    a.aux_values[static_cast<int>(k)] = b.eval(model.aux_exprs[k], ctx);
}

// The stop condition (end-phase context): 1 if the model has one and it holds, else 0.
template <class B>
typename B::IVar eval_stop(B& b, const RunnerView<B>& a, typename B::Val t, typename B::Arr y) {
  const auto& model = b.model();
  auto stop = b.ivar(b.ci(0));
  if (model.stop) {
    auto ctx = make_ctx(a, t, y, 1);
    auto s = b.eval(model.stop, ctx);
    b.if_(s != b.c(0.0), [&] { stop = b.ci(1); });
  }
  return stop;
}

// update_aux (end-phase context, lag_shift 1): aux_values = aux(t, y); returns the stop flag (Bool var as
// IVar).
template <class B>
typename B::IVar update_aux(B& b, const RunnerView<B>& a, typename B::Val t, typename B::Arr y) {
  update_aux_values(b, a, t, y);
  return eval_stop(b, a, t, y);
}

// After a commit: head = (head+1) % depth; ring[off+head] = y[state].
template <class B>
void advance_lags(B& b, const RunnerView<B>& a, typename B::Arr y) {
  const auto& model = b.model();
  for (std::size_t k = 0; k < model.lags.size(); ++k) {
    const auto& L = model.lags[k];
    const int kk = static_cast<int>(k);
    auto h = (a.lag_head[kk] + b.ci(1)) % b.ci(L.depth);
    a.lag_head[kk] = h;
    a.lag_ring[b.ci(L.offset) + h] = y[L.state];
  }
}

// Before a record that stores aux: a recorded aux value that is NaN/Inf stops the run like a state
// (NAN_DETECTED, NanWhere::recorded_aux, nan_index = the aux index).
template <class B>
void guard_recorded_aux(B& b, const RunnerView<B>& a, typename B::IVar& st, typename B::Val t) {
  using Int = typename B::Int;
  b.for_(b.ci(0), a.n_rec_aux, [&](Int k) {
    Int idx = a.aux_rec_idx[k];
    b.if_(b.land(st.get() == b.ci(kRunning), b.lnot(b.isfinite(a.aux_values[idx]))),
          [&] { set_nan(b, a, st, NanWhere::recorded_aux, idx, -1, t); });
  });
}

// Writes record i (capacity already checked).
template <class B>
void write_record(B& b, const RunnerView<B>& a, typename B::Int i, typename B::Val t, typename B::Arr y,
                  typename B::Int step) {
  using Int = typename B::Int;
  a.T[i] = t;
  a.STEP[i] = step;
  b.for_(b.ci(0), a.n_rec_states, [&](Int k) { a.Y[k * a.cap_rec + i] = y[a.state_rec_idx[k]]; });
  b.for_(b.ci(0), a.n_rec_aux, [&](Int k) { a.AUX[k * a.cap_rec + i] = a.aux_values[a.aux_rec_idx[k]]; });
}

}  // namespace dynlib::kernels
