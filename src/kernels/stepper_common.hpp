// What every stepper kernel receives and returns (the stepper ABI of runtime.md §2.1, as a template).
//   status = step(b, ctx, t, dt, y, y_prop, out)
// The stepper reads t, dt, y; writes y_prop, out.t_prop, out.dt_next, out.err and may mutate its
// workspace (ctx.ws / ctx.iws). Fixed-step steppers set t_prop = t+dt, dt_next = dt, err = 0 and do
// not NaN-check (the runner does).
#pragma once
#include <cstdint>

#include "dynlib/status.hpp"
#include "kernels/backend.hpp"

namespace dynlib::kernels {

template <class B>
struct StepCtx {
  int n = 0;                      // number of states (code-generation time)
  typename B::Arr params{};
  typename B::Arr lag_ring{};
  typename B::IArr lag_head{};
  typename B::Arr ws{};           // persistent double workspace (layout per stepper header)
  typename B::IArr iws{};         // persistent int64 workspace
  typename B::Arr cfg{};          // packed config, full length (the host pads with defaults)
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

// f(t, y) -> out with the step context's params and lags (lag_shift 0).
template <class B>
void f_eval(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Arr y, typename B::Arr out) {
  b.rhs(t, y, out, c.params, c.lag_ring, c.lag_head);
}

// All entries finite?
template <class B>
typename B::Bool all_finite(B& b, int n, typename B::Arr v) {
  auto ok = b.ctrue();
  for (int i = 0; i < n; ++i) ok = b.land(ok, b.isfinite(v[i]));
  return ok;
}

// sqrt(mean((d_i / (atol + rtol*max(|a_i|,|c_i|)))^2)) with d = x - z.
template <class B>
typename B::Val wrms_diff(B& b, int n, typename B::Arr x, typename B::Arr z, typename B::Arr a,
                          typename B::Arr c2, typename B::Val atol, typename B::Val rtol) {
  auto acc = b.c(0.0);
  for (int i = 0; i < n; ++i) {
    auto sc = atol + rtol * b.fmax(b.fabs(a[i]), b.fabs(c2[i]));
    auto q = (x[i] - z[i]) / sc;
    acc = acc + q * q;
  }
  return b.sqrt(acc / b.c(static_cast<double>(n > 0 ? n : 1)));
}

// Fixed-step bookkeeping.
template <class B>
void fixed_step_out(B& b, StepOut<B>& o, typename B::Val t, typename B::Val dt) {
  o.t_prop = t + dt;
  o.dt_next = dt;
  o.err = b.c(0.0);
  o.status = b.ci(kOK);
}

}  // namespace dynlib::kernels
