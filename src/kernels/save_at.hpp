// The runner's use of the dense output (docs/internals/runner.md "Output at chosen times"): records at the
// save_at times from the interpolant of each accepted step, and the clipping of adaptive steps at tstops.
// ODE runners only; with n_save_at == 0 and n_tstops == 0 none of it runs (one test per step each).
//
//   DenseStep          prepares the dense output of the current step at most once (prepare_once), so
//                      several users in one step (save_at records, event location) share one preparation.
//   save_capacity      before a step: room for every remaining save_at record, else GROW_REC.
//   record_save_at     records every remaining save_at time <= t_hi: from the interpolant of the step
//                      (tc, y_curr) -> (t_new, y_prop), or (run start) the current state itself. Recorded
//                      aux are evaluated at the interpolated state.
//   TstopClip          the next tstop after t (cursor over RunnerView::tstops); the step end it clips to,
//                      and the exact landing on it.
#pragma once
#include "kernels/dense_output.hpp"
#include "kernels/events.hpp"

namespace dynlib::kernels {

template <class B, class Stepper>
struct DenseStep {
  B& b;
  const RunnerView<B>& a;
  const Stepper& stepper;
  const StepCtx<B>& sc;
  int counters_at;
  typename B::IVar ready;
  DenseStep(B& b_, const RunnerView<B>& a_, const Stepper& s, const StepCtx<B>& c, int at)
      : b(b_), a(a_), stepper(s), sc(c), counters_at(at), ready(b_.ivar(b_.ci(0))) {}
  // At the start of every step.
  void reset() { ready = b.ci(0); }
  // After the accepted step (t0, y0) -> (t1, y1), before end-phase event actions change y1.
  void prepare_once(typename B::Val t0, typename B::Val t1, typename B::Arr y0, typename B::Arr y1) {
    b.if_(ready.get() == b.ci(0), [&] {
      dense_output_prepare(b, stepper, sc, a.dense_ws, counters_at, t0, t1, y0, y1);
      ready = b.ci(1);
    });
  }
  // out = the interpolant at time t inside the prepared step.
  void eval_at(typename B::Val t, typename B::Arr out) {
    dense_output_eval(b, stepper, sc, a.dense_ws, dense_theta(b, a.dense_ws, t), out);
  }
};

// The save_at time at the cursor (callers ensure n_save_at > 0; the index is clamped, the cursor may
// come from a caller that got it wrong).
template <class B>
typename B::Val save_time(B& b, const RunnerView<B>& a, typename B::Int sn) {
  auto k = b.iselect(sn < a.n_save_at, sn, a.n_save_at - b.ci(1));
  return typename B::Val(a.save_at[b.iselect(k < b.ci(0), b.ci(0), k)]);
}

template <class B>
typename B::Bool save_due(B& b, const RunnerView<B>& a, typename B::Int sn, typename B::Val t_hi) {
  return b.land(b.land(sn >= b.ci(0), sn < a.n_save_at), save_time(b, a, sn) <= t_hi);
}

template <class B>
[[gnu::noinline]] void save_capacity(B& b, const RunnerView<B>& a, typename B::IVar& st, typename B::Int i,
                                     typename B::Int sn) {
  auto left = a.n_save_at - sn;
  auto need = i + b.iselect(left > b.ci(0), left, b.ci(0));
  b.if_(b.land(st.get() == b.ci(kRunning), need > a.cap_rec), [&] {
    st = b.ci(static_cast<std::int64_t>(Status::GROW_REC));
    a.iio[kI_need_rec] = need;
  });
}

// Records the due save_at times. `eval(t, out)` fills out with the state at t, or `direct` (not null)
// is recorded as is. Aux values are evaluated at the recorded state (aux_values is overwritten: the
// caller marks its aux as stale).
template <class B, class Eval>
void record_save_at(B& b, const RunnerView<B>& a, typename B::IVar& st, typename B::IVar& i,
                    typename B::IVar& sn, typename B::Val t_hi, typename B::Int step_rec, typename B::Arr out,
                    Eval eval) {
  b.while_([&] { return b.land(st.get() == b.ci(kRunning), save_due(b, a, sn.get(), t_hi)); },
           [&] {
             auto ts = save_time(b, a, sn.get());
             eval(ts, out);
             // Storage dtype (docs/simulation.md "dtype"): recorded states are stored values, rounded.
             if (b.model().dtype != ir::DType::float64)
               for_states(b, static_cast<int>(b.model().n_states()),
                          [&](auto k) { out[k] = b.to_storage(typename B::Val(out[k])); });
             b.if_(a.n_rec_aux > b.ci(0), [&] {
               update_aux_values(b, a, ts, out);
               guard_recorded_aux(b, a, st, ts);
             });
             b.if_(st.get() == b.ci(kRunning), [&] {
               write_record(b, a, i.get(), ts, out, step_rec);
               i = i.get() + b.ci(1);
               sn = sn.get() + b.ci(1);
             });
           });
}

// The pieces the runner calls behind `n_save_at > 0`, kept out of line so that the step loop of a run
// without save_at stays as compact as before (the interpreter's compiler inlines less around them).

// Run start: the save_at times at the start time record the current state itself.
template <class B>
[[gnu::noinline]] void save_at_start(B& b, const RunnerView<B>& a, typename B::IVar& st, typename B::IVar& i,
                                     typename B::IVar& sn, typename B::Val t, typename B::Int step) {
  const int n = static_cast<int>(b.model().n_states());
  record_save_at(
      b, a, st, i, sn, t, step, dense_out(b, a.dense_ws, n),
      [&](typename B::Val, typename B::Arr out) { for_states(b, n, [&](auto k) { out[k] = a.y_curr[k]; }); });
}

// After an accepted step (tc, y_curr) -> (t_new, y_prop): the save_at times in it, from its dense output.
template <class B, class Stepper>
[[gnu::noinline]] void save_at_step(B& b, const RunnerView<B>& a, DenseStep<B, Stepper>& dense,
                                    typename B::IVar& st, typename B::IVar& i, typename B::IVar& sn,
                                    typename B::Val tc, typename B::Val t_new, typename B::Int step_rec) {
  b.if_(b.land(st.get() == b.ci(kRunning), save_due(b, a, sn.get(), t_new)), [&] {
    dense.prepare_once(tc, t_new, a.y_curr, a.y_prop);
    record_save_at(b, a, st, i, sn, t_new, step_rec,
                   dense_out(b, a.dense_ws, static_cast<int>(b.model().n_states())),
                   [&](typename B::Val ts, typename B::Arr out) { dense.eval_at(ts, out); });
  });
}

// tstops for adaptive steppers: the next tstop strictly after the current time.
template <class B>
struct TstopClip {
  B& b;
  const RunnerView<B>& a;
  typename B::IVar k;        // first tstop not passed yet
  typename B::IVar on_stop;  // this step's limit is a tstop (not t_end)
  TstopClip(B& b_, const RunnerView<B>& a_)
      : b(b_), a(a_), k(b_.ivar(b_.ci(0))), on_stop(b_.ivar(b_.ci(0))) {}
  // The end the step from tc may reach: min(next tstop > tc, t_end); t_end without tstops.
  [[gnu::noinline]] typename B::Val limit(typename B::Val tc) {
    auto lim = b.var(a.t_end);
    b.if_(a.n_tstops > b.ci(0), [&] { next_stop(tc, lim); });
    return lim.get();
  }
  // lim = min(first tstop > tc, t_end), moving the cursor past the tstops <= tc.
  void next_stop(typename B::Val tc, typename B::Var& lim) {
    auto at = [&](typename B::Int j) {
      return typename B::Val(a.tstops[b.iselect(j < a.n_tstops, j, b.ci(0))]);
    };
    b.while_([&] { return b.land(k.get() < a.n_tstops, at(k.get()) <= tc); }, [&] { k = k.get() + b.ci(1); });
    on_stop = b.ci(0);
    b.if_(k.get() < a.n_tstops, [&] {
      lim = b.fmin(at(k.get()), a.t_end);
      on_stop = b.ci(1);
    });
  }
  // The step's end: exactly the tstop when the stepper took the whole clipped step (t_prop == tc + left);
  // t_prop itself otherwise and without tstops (a select, no branch).
  [[gnu::noinline]] typename B::Val land(typename B::Val tc, typename B::Val left, typename B::Val lim,
                                         typename B::Val t_prop) {
    return b.select(b.land(on_stop.get() != b.ci(0), t_prop == tc + left), lim, t_prop);
  }
};

}  // namespace dynlib::kernels
