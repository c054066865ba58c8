// "First same as last" (FSAL) bookkeeping for the explicit Runge–Kutta steppers tsit5 and dop853: the
// last stage of an accepted step, f(t + h, y1), is the first stage of the next step, provided nothing
// changed in between. The stepper keeps in its workspace the time and state at which that value was
// evaluated and a flag in iws[0] (1 = valid; 0 after a fresh start, a failed step, or an event action,
// which the runner signals by setting iws[0] = 0 as for steppers with a history). The stored value is
// reused only if the flag is set AND the step starts at exactly that time and state, so a state changed
// by an event, an assignment between runs or an edited snapshot never meets a stale first stage.
#pragma once
#include "kernels/stepper_common.hpp"

namespace dynlib::kernels {

// May the stored first stage be reused for a step from (t, y)? With lags the right-hand side also reads
// the lag rings, which move after every commit, so the stored value never applies there.
template <class B>
typename B::Bool fsal_ready(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Arr y,
                            typename B::Arr y_saved, typename B::Val t_saved) {
  if (!b.model().lags.empty()) return b.cfalse();
  const int n = c.n;
  auto ok = b.land(typename B::Int(c.iws[0]) == b.ci(1), t == t_saved);
  if (unroll_states(b, n)) {
    for (int i = 0; i < n; ++i) ok = b.land(ok, typename B::Val(y[i]) == typename B::Val(y_saved[i]));
    return ok;
  }
  auto same = b.ivar(b.iselect(ok, b.ci(1), b.ci(0)));
  b.for_(b.ci(0), b.ci(n), [&](typename B::Int i) {
    same = b.iselect(typename B::Val(y[i]) == typename B::Val(y_saved[i]), same.get(), b.ci(0));
  });
  return same.get() != b.ci(0);
}

// After an accepted step to (t1, y1) whose last stage is f(t1, y1): remember where it was evaluated.
template <class B>
void fsal_remember(B& b, const StepCtx<B>& c, typename B::Val t1, typename B::Arr y1, typename B::Arr y_saved,
                   typename B::Arr t_saved_slot) {
  for_states(b, c.n, [&](auto i) { y_saved[i] = y1[i]; });
  t_saved_slot[0] = t1;
  c.iws[0] = b.ci(1);
}

// The first stage k1 of a step from (t, y) of tsit5 and dop853: the stored last stage k_last when
// fsal_ready says so, else f(t, y) (counted in the work counters at counters_at). Clears the FSAL flag
// (an accepted step sets it again); a non-finite k1 fails the step (status, err = inf, done).
template <class B>
void fsal_first_stage(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Arr y, typename B::Arr k1,
                      typename B::Arr k_last, typename B::Arr y_saved, typename B::Val t_saved,
                      int counters_at, StepOut<B>& o, typename B::IVar& done) {
  const int n = c.n;
  b.if_(
      fsal_ready(b, c, t, y, y_saved, t_saved), [&] { for_states(b, n, [&](auto i) { k1[i] = k_last[i]; }); },
      [&] {
        f_eval(b, c, t, y, k1);
        count_work(b, c, counters_at, WorkCounter::rhs, b.ci(1));
      });
  c.iws[0] = b.ci(0);  // set again only by an accepted step
  b.if_(b.lnot(all_finite(b, n, k1)), [&] {
    o.err = b.c(1.0) / b.c(0.0);
    o.status = b.ci(kSTEPFAIL);
    done = b.ci(1);
  });
}

// After a try of size hh that failed (non-finite) or was rejected: a try at min_step fails the step,
// else the next try has max(h_new, min_step).
template <class B>
void retry_or_fail(B& b, StepOut<B>& o, typename B::Var& h, typename B::IVar& done, typename B::Val hh,
                   typename B::Val h_new, typename B::Val min_step) {
  b.if_(
      hh <= min_step,
      [&] {
        o.status = b.ci(kSTEPFAIL);
        done = b.ci(1);
      },
      [&] { h = b.fmax(h_new, min_step); });
}

}  // namespace dynlib::kernels
