// Dense output: a continuous extension of the last accepted step of any ODE stepper.
//
// API (everything the runner or an event locator needs; maps have no dense output):
//
//   has_dense<S>()                      C++ bool: the stepper S has its own interpolant (S::kDense, with
//                                       members dense_prepare / dense_eval, see stepper_common context
//                                       below); every other ODE stepper gets cubic Hermite from the ends.
//   dense_ws_size(info, n)              doubles of the dense workspace for stepper `info` and n states
//                                       (0 for maps). The host allocates it (RunnerArgs::dense_ws, zeroed
//                                       at the start of every runner call sequence); it is NOT part of a
//                                       snapshot: everything in it is recomputed by the next prepare.
//   dense_output_prepare(b, stepper, sc, dws, counters_at, t0, t1, y0, y1)
//                                       after an accepted step (t0, y0) -> (t1, y1), BEFORE the end-phase
//                                       event actions change y1 and before the commit overwrites y0
//                                       (runner: y0 = a.y_curr, y1 = a.y_prop). Own interpolants: calls
//                                       stepper.dense_prepare(b, sc, t0, t1 - t0, y0, y1) (data stays in
//                                       the stepper workspace). Hermite: keeps y0, y1, f0 = f(t0, y0),
//                                       f1 = f(t1, y1) in dws; f0 is the previous f1 when that one was
//                                       evaluated at exactly (t0, y0) and nothing changed since (same
//                                       bits), else evaluated. Evaluations count in the work counters at
//                                       iws[counters_at + WorkCounter::rhs] when counters_at >= 0
//                                       (StepperInfo::work_counters_at, RunnerTraits::work_counters_at).
//   dense_output_eval(b, stepper, sc, dws, theta, out)
//                                       out[0..n) = the interpolant at t0 + theta*(t1 - t0), theta in
//                                       [0, 1]; pure arithmetic, may be called any number of times per step.
//                                       Hermite reproduces y0 at theta = 0 and y1 at theta = 1 exactly; own
//                                       interpolants up to rounding.
//   dense_theta(b, dws, t)              (t - t0)/(t1 - t0) for a time inside the prepared step (t1 -> 1
//                                       exactly, t0 -> 0).
//   dense_t0(b, dws), dense_t1(b, dws)  the ends of the prepared step.
//   dense_forget(b, dws)                after an event action changed the state or a parameter: the stored
//                                       f1 must not be reused as the next f0 (the runner calls it where it
//                                       restarts multistep histories).
//   dense_out(b, dws, n)                an n-double scratch array inside dws for the caller's `out`.
//
// How the runner calls it (kernels/runner.hpp, kernels/save_at.hpp): the runner owns one
// `DenseStep<B, Stepper> dense(b, a, stepper, sc, tr.work_counters_at)`; after the stepper accepted a
// step and the NaN guards passed (t_new known, y_prop the proposal, end-phase events not yet run) it calls
// `dense.reset()`, then every user of the step's dense output calls
// `dense.prepare_once(tc, t_new, a.y_curr, a.y_prop)` (prepares at most once per step) and
// `dense.eval_at(t, out)` for times t in [tc, t_new], with `out` e.g. dense_out(b, a.dense_ws, n).
// The host allocates RunnerArgs::dense_ws for every ODE runner call (Sim: run_detail::execute); other
// callers of CompiledModel::run may leave it null as long as nothing asks for dense output (no save_at
// and no root events: the runner then touches dense_ws only behind n_save_at > 0).
//
// The dense workspace (doubles), dws:
//   [0] t0, [1] t1, [2] 1.0 if f1 may be reused as the next f0 (checked again against t0 and y0: a value
//   that is not exactly 1.0 just means "evaluate"), [3] unused,
//   [4, 4+n) out scratch, then for Hermite only: y0, y1, f0, f1 (n each).
// Own interpolants keep their data in the stepper's workspace (layouts in the stepper headers), which a
// snapshot keeps; they are valid only right after the step (the next step overwrites the stages).
//
// The state at an interpolated time has the error of the interpolant: cubic Hermite is locally
// O(h^4), i.e. the global error of the stepper for steppers of order <= 3 and O(h^4) on top of it for rk4;
// own interpolants have the order documented in docs/steppers.md.
#pragma once
#include <cstdint>

#include "kernels/stepper_common.hpp"
#include "steppers_catalogue/stepper_registry.hpp"

namespace dynlib::kernels {

template <class S>
constexpr bool has_dense() {
  if constexpr (requires { S::kDense; })
    return S::kDense;
  else
    return false;
}

constexpr std::int64_t kDenseHeader = 4;

// Doubles of the dense workspace (see the layout above).
inline std::int64_t dense_ws_size(const StepperInfo& info, std::int64_t n) {
  if (info.kind == ir::Kind::map) return 0;
  return kDenseHeader + (info.dense_output ? 1 : 5) * n;
}

template <class B>
typename B::Arr dense_out(B& b, typename B::Arr dws, int n) {
  (void)n;
  return b.offset(dws, static_cast<int>(kDenseHeader));
}

template <class B>
typename B::Val dense_t0(B& b, typename B::Arr dws) {
  (void)b;
  return typename B::Val(dws[0]);
}

template <class B>
typename B::Val dense_t1(B& b, typename B::Arr dws) {
  (void)b;
  return typename B::Val(dws[1]);
}

template <class B>
typename B::Val dense_theta(B& b, typename B::Arr dws, typename B::Val t) {
  auto t0 = dense_t0(b, dws);
  return (t - t0) / (dense_t1(b, dws) - t0);
}

template <class B>
void dense_forget(B& b, typename B::Arr dws) {
  dws[2] = b.c(0.0);
}

namespace dense_detail {
template <class B>
struct HermiteLayout {
  typename B::Arr y0, y1, f0, f1;
  HermiteLayout(B& b, typename B::Arr dws, int n) {
    const int at = static_cast<int>(kDenseHeader) + n;
    y0 = b.offset(dws, at);
    y1 = b.offset(dws, at + n);
    f0 = b.offset(dws, at + 2 * n);
    f1 = b.offset(dws, at + 3 * n);
  }
};

// Was the stored f1 evaluated at exactly (t, y), with nothing changed since? With lags the rhs also reads
// the lag rings, which move after every commit: never.
template <class B>
typename B::Bool f1_reusable(B& b, typename B::Arr dws, const HermiteLayout<B>& L, int n, typename B::Val t,
                             typename B::Arr y) {
  if (!b.model().lags.empty()) return b.cfalse();
  auto ok = b.land(typename B::Val(dws[2]) == b.c(1.0), t == typename B::Val(dws[1]));
  if (unroll_states(b, n)) {
    for (int i = 0; i < n; ++i) ok = b.land(ok, typename B::Val(y[i]) == typename B::Val(L.y1[i]));
    return ok;
  }
  auto same = b.ivar(b.iselect(ok, b.ci(1), b.ci(0)));
  b.for_(b.ci(0), b.ci(n), [&](typename B::Int i) {
    same = b.iselect(typename B::Val(y[i]) == typename B::Val(L.y1[i]), same.get(), b.ci(0));
  });
  return same.get() != b.ci(0);
}
}  // namespace dense_detail

template <class B, class S>
void dense_output_prepare(B& b, const S& stepper, const StepCtx<B>& c, typename B::Arr dws, int counters_at,
                          typename B::Val t0, typename B::Val t1, typename B::Arr y0, typename B::Arr y1) {
  const int n = c.n;
  if constexpr (has_dense<S>()) {
    stepper.dense_prepare(b, c, t0, t1 - t0, y0, y1);
    dws[0] = t0;
    dws[1] = t1;
  } else {
    (void)stepper;
    dense_detail::HermiteLayout<B> L(b, dws, n);
    b.if_(
        dense_detail::f1_reusable(b, dws, L, n, t0, y0),
        [&] { for_states(b, n, [&](auto i) { L.f0[i] = L.f1[i]; }); },
        [&] {
          f_eval(b, c, t0, y0, L.f0);
          if (counters_at >= 0) count_work(b, c, counters_at, WorkCounter::rhs, b.ci(1));
        });
    for_states(b, n, [&](auto i) {
      L.y0[i] = y0[i];
      L.y1[i] = y1[i];
    });
    f_eval(b, c, t1, L.y1, L.f1);
    if (counters_at >= 0) count_work(b, c, counters_at, WorkCounter::rhs, b.ci(1));
    dws[0] = t0;
    dws[1] = t1;
    dws[2] = b.c(1.0);
  }
}

// Cubic Hermite in the basis form: at theta = 0 and 1 every other weight is exactly 0, so the ends are
// reproduced bit for bit.
template <class B, class S>
void dense_output_eval(B& b, const S& stepper, const StepCtx<B>& c, typename B::Arr dws,
                       typename B::Val theta, typename B::Arr out) {
  if constexpr (has_dense<S>()) {
    (void)dws;
    stepper.dense_eval(b, c, theta, out);
  } else {
    (void)stepper;
    using Val = typename B::Val;
    const int n = c.n;
    dense_detail::HermiteLayout<B> L(b, dws, n);
    Val h = dense_t1(b, dws) - dense_t0(b, dws);
    Val one = b.c(1.0), s1 = one - theta;
    Val w00 = (one + b.c(2.0) * theta) * (s1 * s1);
    Val w10 = theta * (s1 * s1) * h;
    Val w01 = (theta * theta) * (b.c(3.0) - b.c(2.0) * theta);
    Val w11 = (theta * theta) * (theta - one) * h;
    for_states(b, n, [&](auto i) {
      out[i] = w00 * Val(L.y0[i]) + w10 * Val(L.f0[i]) + w01 * Val(L.y1[i]) + w11 * Val(L.f1[i]);
    });
  }
}

}  // namespace dynlib::kernels
