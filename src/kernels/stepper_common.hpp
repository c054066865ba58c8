// What every stepper kernel receives and returns (the stepper interface, as a template).
//   status = step(b, ctx, t, dt, y, y_prop, out)
// The stepper reads t, dt, y; writes y_prop, out.t_prop, out.dt_next, out.err and may mutate its
// workspace (ctx.ws / ctx.iws). Fixed-step steppers set t_prop = t+dt, dt_next = dt, err = 0 and do
// not NaN-check (the runner does).
#pragma once
#include <concepts>
#include <cstdint>

#include "dynlib/status.hpp"
#include "kernels/backend.hpp"

namespace dynlib::kernels {

template <class B>
struct StepCtx {
  int n = 0;  // number of states (code-generation time)
  typename B::Arr params{};
  typename B::Arr lag_ring{};
  typename B::IArr lag_head{};
  typename B::Arr ws{};    // persistent double workspace (layout per stepper header)
  typename B::IArr iws{};  // persistent int64 workspace
  typename B::Arr cfg{};   // packed config, full length (the host pads with defaults)
  // FSAL steppers (has_fsal): the runner's flag "t, y and the parameters are those at the end of the
  // stepper's last accepted step", which the stepper sets when it accepts a step and the runner clears
  // when anything changes them. nullptr: the stepper always evaluates its first stage.
  typename B::IVar* fsal_valid = nullptr;
};

template <class B>
struct StepOut {
  typename B::Var t_prop;
  typename B::Var dt_next;
  typename B::Var err;
  typename B::IVar status;
};

template <class B>
StepOut<B> make_step_out(B& b) {
  return StepOut<B>{b.var(b.c(0.0)), b.var(b.c(0.0)), b.var(b.c(0.0)), b.ivar(b.ci(0))};
}

constexpr std::int64_t kOK = static_cast<std::int64_t>(Status::OK);
constexpr std::int64_t kSTEPFAIL = static_cast<std::int64_t>(Status::STEPFAIL);

// Steppers with a history of past steps (multistep, BDF) declare `static constexpr bool kHistory = true`
// and keep the number of steps in it in iws[0]: setting iws[0] = 0 restarts them with their one-step start.
template <class S>
constexpr bool has_history() {
  if constexpr (requires { S::kHistory; })
    return S::kHistory;
  else
    return false;
}

// Steppers whose last stage is f(t + h, y_new) for the accepted y_new ("first same as last") declare
// `static constexpr bool kFsal = true` and reuse it as the next step's first stage while
// StepCtx::fsal_valid says so: the same bits as evaluating f again.
template <class S>
constexpr bool has_fsal() {
  if constexpr (requires { S::kFsal; })
    return S::kFsal;
  else
    return false;
}

// The runner's FSAL flag: a variable only for FSAL steppers, so the code of the others does not change.
template <class B, bool On>
struct FsalFlag {
  explicit FsalFlag(B&) {}
  typename B::IVar* get() { return nullptr; }
};
template <class B>
struct FsalFlag<B, true> {
  typename B::IVar valid;
  explicit FsalFlag(B& b) : valid(b.ivar(b.ci(0))) {}
  typename B::IVar* get() { return &valid; }
};

// Work counters: a stepper that reports its work keeps three int64 counters in its int workspace at
// iws[at + WorkCounter::...] and declares the index as StepperInfo::work_counters_at (the registry). The
// counters accumulate over the run (and travel in snapshots); the host reads them for the run summary.
// They are bookkeeping only and never influence the numbers.
enum class WorkCounter : int { rhs = 0, jac = 1, lu = 2 };
constexpr int kWorkCounterCount = 3;

template <class B>
void count_work(B& b, const StepCtx<B>& c, int at, WorkCounter which, typename B::Int amount) {
  (void)b;
  const int k = at + static_cast<int>(which);
  c.iws[k] = typename B::Int(c.iws[k]) + amount;
}

// f(t, y) -> out with the step context's params and lags (lag_shift 0).
template <class B>
void f_eval(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Arr y, typename B::Arr out) {
  b.rhs(t, y, out, c.params, c.lag_ring, c.lag_head);
}

// A loop over the n state components: unrolled at code-generation time (f gets a C++ int) when the
// backend says so for this n (b.unroll(n): always for DirectBackend, n <= 64 for the JIT),
// otherwise a runtime loop (f gets a B::Int). Either way the same operations run in the same order,
// so results are identical; only the code size differs. f must work with both index types.
// b.unroll is optional in the concept: a backend without it unrolls every state loop.
template <class B>
bool unroll_states(B& b, int n) {
  if constexpr (requires {
                  { b.unroll(n) } -> std::convertible_to<bool>;
                })
    return b.unroll(n);
  else
    return true;
}

template <class B, class F>
void for_states(B& b, int n, F&& f) {
  if (unroll_states(b, n)) {
    for (int i = 0; i < n; ++i) f(i);
  } else {
    b.for_(b.ci(0), b.ci(n), [&](typename B::Int i) { f(i); });
  }
}

// All entries finite?
template <class B>
typename B::Bool all_finite(B& b, int n, typename B::Arr v) {
  if (unroll_states(b, n)) {
    auto ok = b.ctrue();
    for (int i = 0; i < n; ++i) ok = b.land(ok, b.isfinite(v[i]));
    return ok;
  }
  auto ok = b.ivar(b.ci(1));
  b.for_(b.ci(0), b.ci(n), [&](typename B::Int i) { ok = b.iselect(b.isfinite(v[i]), ok.get(), b.ci(0)); });
  return ok.get() != b.ci(0);
}

// sqrt(mean((d_i / (atol + rtol*max(|a_i|,|c_i|)))^2)) with d = x - z (summed in index order).
template <class B>
typename B::Val wrms_diff(B& b, int n, typename B::Arr x, typename B::Arr z, typename B::Arr a,
                          typename B::Arr c2, typename B::Val atol, typename B::Val rtol) {
  auto acc = b.var(b.c(0.0));
  for_states(b, n, [&](auto i) {
    auto sc = atol + rtol * b.fmax(b.fabs(a[i]), b.fabs(c2[i]));
    auto q = (x[i] - z[i]) / sc;
    acc = acc.get() + q * q;
  });
  return b.sqrt(acc.get() / b.c(static_cast<double>(n > 0 ? n : 1)));
}

// Fixed-step bookkeeping.
template <class B>
void fixed_step_out(B& b, StepOut<B>& o, typename B::Val t, typename B::Val dt) {
  o.t_prop = t + dt;
  o.dt_next = dt;
  o.err = b.c(0.0);
  o.status = b.ci(kOK);
}

// The step-size limits of an adaptive stepper's accept/reject loop (its packed config).
template <class B>
struct StepSizeLimits {
  typename B::Val safety, min_factor, max_factor, min_step, dt_max;
};

// Accept/reject after an attempt of size hh (h holds hh on entry) with error estimate err, shared by the
// adaptive steppers; `failed` says the attempt could not be evaluated (non-finite stages or error, a
// failed Newton solve).
//  * failed: retry with h = max(hh*min_factor, min_step); an attempt already at min_step fails the step.
//  * err <= 1: accept, t_prop = t + hh, dt_next = min(hh*clamp(safety*err^accept_exp, min_factor,
//    max_factor), dt_max) (hh*max_factor for err == 0); then on_accept().
//  * err > 1: retry with h = hh*max(min_factor, safety*err^reject_exp). An error above tolerance is never
//    accepted: when that h is below min_step the step fails (STEPFAIL, dt_next = h).
// `done` is set when the step is accepted or failed.
template <class B, class OnAccept>
void accept_or_shrink(B& b, StepOut<B>& o, typename B::Var& h, typename B::IVar& done,
                      typename B::Bool failed, typename B::Val err, typename B::Val t,
                      const StepSizeLimits<B>& k, double accept_exp, double reject_exp, OnAccept on_accept) {
  auto hh = h.get();
  o.err = err;
  b.if_(
      failed,
      [&] {
        b.if_(
            hh <= k.min_step,
            [&] {
              o.status = b.ci(kSTEPFAIL);
              done = b.ci(1);
            },
            [&] { h = b.fmax(hh * k.min_factor, k.min_step); });
      },
      [&] {
        b.if_(
            err <= b.c(1.0),
            [&] {
              o.t_prop = t + hh;
              auto fac = b.fmin(b.fmax(k.safety * b.pow(err, b.c(accept_exp)), k.min_factor), k.max_factor);
              auto dn = b.select(err == b.c(0.0), hh * k.max_factor, hh * fac);
              o.dt_next = b.fmin(dn, k.dt_max);
              on_accept();
              done = b.ci(1);
            },
            [&] {
              h = hh * b.fmax(k.min_factor, k.safety * b.pow(err, b.c(reject_exp)));
              b.if_(h.get() < k.min_step, [&] {
                o.dt_next = h.get();
                o.status = b.ci(kSTEPFAIL);
                done = b.ci(1);
              });
            });
      });
}

}  // namespace dynlib::kernels
