// Implicit steppers: sdirk2, bdf2 (fixed step), bdf2a, tr-bdf2a (adaptive).
// Workspace layout: the Newton scratch (newton.hpp, 5n + 2n^2) first, then the stepper's vectors.
// Int workspace: iws[0] = steps in the history (bdf2, bdf2a, tr-bdf2a; unused by sdirk2), iws[1..3] = the
// work counters (rhs, jac, LU; stepper_common.hpp), counted by every f evaluation here and in newton.hpp.
#pragma once
#include <cmath>

#include "kernels/newton.hpp"

namespace dynlib::kernels {

// Config of sdirk2 / bdf2: newton_tol, newton_max_iter, jac_eps, jacobian_mode.
// Adaptive (bdf2a, tr-bdf2a): atol, rtol, safety, min_factor, max_factor, max_tries, min_step,
// newton_tol, newton_max_iter, jac_eps, dt_max, jacobian_mode.
inline constexpr int kImplicitWorkAt = 1;  // iws index of the work counters
inline constexpr NewtonCfg kFixedNewton{0, 1, 2, 3, kImplicitWorkAt};
inline constexpr NewtonCfg kAdaptiveNewton{7, 8, 9, 11, kImplicitWorkAt};

// One f evaluation of the stepper itself (outside the Newton solves), counted.
template <class B>
void counted_f(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Arr y, typename B::Arr out) {
  f_eval(b, c, t, y, out);
  count_work(b, c, kImplicitWorkAt, WorkCounter::rhs, b.ci(1));
}

// sdirk2 (Alexander, gamma = (2-sqrt 2)/2), modified Newton per stage.
// Workspace after the Newton scratch: k1, Y (each n).
struct StepSDIRK2 {
  template <class B>
  void operator()(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val dt, typename B::Arr y,
                  typename B::Arr y_prop, StepOut<B>& o) const {
    const int n = c.n;
    const double gamma = (2.0 - std::sqrt(2.0)) / 2.0;
    auto nw = NewtonWS<B>::at(b, c.ws, n);
    const int base = NewtonWS<B>::size(n);
    auto k1 = b.offset(c.ws, base), Y = b.offset(c.ws, base + n);
    fixed_step_out(b, o, t, dt);
    auto hf = dt * b.c(gamma);
    // Stage 1
    for (int i = 0; i < n; ++i) {
      Y[i] = y[i];
      nw.base[i] = y[i];
    }
    auto t1 = t + b.c(gamma) * dt;
    auto ok = newton_solve(b, c, nw, kFixedNewton, t1, hf, Y, true);
    b.if_(ok.get() == b.ci(1), [&] {
      counted_f(b, c, t1, Y, k1);
      // Stage 2
      for (int i = 0; i < n; ++i) {
        nw.base[i] = y[i] + dt * b.c(1.0 - gamma) * k1[i];
        Y[i] = nw.base[i];
      }
      auto ok2 = newton_solve(b, c, nw, kFixedNewton, t + dt, hf, Y, true);
      ok = ok2.get();
    });
    b.if_(
        ok.get() == b.ci(1),
        [&] {
          for (int i = 0; i < n; ++i) y_prop[i] = Y[i];
        },
        [&] { o.status = b.ci(kSTEPFAIL); });
  }
};

// bdf2 (fixed step), full Newton. BE on step 0.
// Workspace after the Newton scratch: y_nm1, Y (each n). iws[0] = step_index.
struct StepBDF2 {
  static constexpr bool kHistory = true;  // iws[0] = steps in the history; 0 = one-step start
  template <class B>
  void operator()(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val dt, typename B::Arr y,
                  typename B::Arr y_prop, StepOut<B>& o) const {
    const int n = c.n;
    auto nw = NewtonWS<B>::at(b, c.ws, n);
    const int base = NewtonWS<B>::size(n);
    auto y_nm1 = b.offset(c.ws, base), Y = b.offset(c.ws, base + n);
    fixed_step_out(b, o, t, dt);
    auto f0 = nw.f_tmp;
    counted_f(b, c, t, y, f0);
    auto hf = b.var(dt);
    b.if_(
        c.iws[0] == b.ci(0),
        [&] {
          for (int i = 0; i < n; ++i) {
            Y[i] = y[i] + dt * f0[i];
            nw.base[i] = y[i];
          }
        },
        [&] {
          for (int i = 0; i < n; ++i) {
            Y[i] = b.c(4.0 / 3.0) * y[i] - b.c(1.0 / 3.0) * y_nm1[i] + b.c(2.0 / 3.0) * dt * f0[i];
            nw.base[i] = b.c(4.0 / 3.0) * y[i] - b.c(1.0 / 3.0) * y_nm1[i];
          }
          hf = b.c(2.0 / 3.0) * dt;
        });
    auto ok = newton_solve(b, c, nw, kFixedNewton, t + dt, hf.get(), Y, false);
    b.if_(
        ok.get() == b.ci(1),
        [&] {
          for (int i = 0; i < n; ++i) {
            y_nm1[i] = y[i];
            y_prop[i] = Y[i];
          }
          c.iws[0] = c.iws[0] + b.ci(1);
        },
        [&] { o.status = b.ci(kSTEPFAIL); });
  }
};

// Accept/reject control shared by bdf2a and tr-bdf2a (exponent -1/2; stepper_common.hpp).
template <class B, class OnAccept>
void adaptive_control(B& b, const StepCtx<B>& c, StepOut<B>& o, typename B::Var& h, typename B::IVar& done,
                      typename B::IVar& newton_ok, typename B::Val err, typename B::Val t,
                      OnAccept on_accept) {
  const StepSizeLimits<B> k{c.cfg[2], c.cfg[3], c.cfg[4], c.cfg[6], c.cfg[10]};
  accept_or_shrink(b, o, h, done, b.lor(newton_ok.get() == b.ci(0), b.lnot(b.isfinite(err))), err, t, k, -0.5,
                   -0.5, on_accept);
}

// bdf2a: variable-step BDF2 with a BE error estimate; step doubling on step 0. Full Newton.
// Workspace after the Newton scratch: y_nm1, Y, y_alt, f_n, spare (each n), dt_nm1 (1). iws[0] = step_index.
struct StepBDF2A {
  static constexpr bool kHistory = true;  // iws[0] = steps in the history; 0 = one-step start
  template <class B>
  void operator()(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val dt, typename B::Arr y,
                  typename B::Arr y_prop, StepOut<B>& o) const {
    const int n = c.n;
    auto nw = NewtonWS<B>::at(b, c.ws, n);
    const int base = NewtonWS<B>::size(n);
    auto y_nm1 = b.offset(c.ws, base), Y = b.offset(c.ws, base + n), y_alt = b.offset(c.ws, base + 2 * n),
         f_n = b.offset(c.ws, base + 3 * n), dt_nm1 = b.offset(c.ws, base + 5 * n);
    auto atol = c.cfg[0], rtol = c.cfg[1], dt_max = c.cfg[10];
    auto max_tries = b.to_int(c.cfg[5]);
    o.status = b.ci(kOK);
    o.t_prop = t;
    o.dt_next = dt;
    o.err = b.c(0.0);
    auto done = b.ivar(b.ci(0));
    counted_f(b, c, t, y, f_n);
    b.if_(b.lnot(all_finite(b, n, f_n)), [&] {
      o.status = b.ci(kSTEPFAIL);
      done = b.ci(1);
    });
    auto h = b.var(b.fmin(dt, dt_max));
    auto tries = b.ivar(b.ci(0));
    auto half = b.c(0.5);
    b.while_([&] { return b.land(done.get() == b.ci(0), tries.get() < max_tries); },
             [&] {
               tries = tries.get() + b.ci(1);
               auto hh = h.get();
               auto ok = b.ivar(b.ci(1));
               b.if_(
                   c.iws[0] == b.ci(0),
                   [&] {
                     // coarse BE over h -> y_alt
                     for (int i = 0; i < n; ++i) {
                       Y[i] = y[i] + hh * f_n[i];
                       nw.base[i] = y[i];
                     }
                     auto okc = newton_solve(b, c, nw, kAdaptiveNewton, t + hh, hh, Y, false);
                     ok = okc.get();
                     for (int i = 0; i < n; ++i) y_alt[i] = Y[i];
                     // two BE half steps -> y_prop (fine)
                     b.if_(ok.get() == b.ci(1), [&] {
                       auto h2 = hh * half;
                       for (int i = 0; i < n; ++i) {
                         Y[i] = y[i] + h2 * f_n[i];
                         nw.base[i] = y[i];
                       }
                       auto ok1 = newton_solve(b, c, nw, kAdaptiveNewton, t + h2, h2, Y, false);
                       ok = ok1.get();
                       b.if_(ok.get() == b.ci(1), [&] {
                         counted_f(b, c, t + h2, Y, nw.f_tmp);
                         for (int i = 0; i < n; ++i) {
                           nw.base[i] = Y[i];
                           Y[i] = Y[i] + h2 * nw.f_tmp[i];
                         }
                         auto ok2 = newton_solve(b, c, nw, kAdaptiveNewton, t + hh, h2, Y, false);
                         ok = ok2.get();
                       });
                     });
                   },
                   [&] {
                     typename B::Val dprev = dt_nm1[0];
                     auto rho = b.select(dprev <= b.c(0.0), b.c(1.0), hh / dprev);
                     auto one = b.c(1.0), two = b.c(2.0);
                     auto den = one + two * rho;
                     auto c_curr = (one + rho) * (one + rho) / den;
                     auto c_prev = rho * rho / den;
                     auto c_beta = (one + rho) / den;
                     for (int i = 0; i < n; ++i) {
                       Y[i] = (one + rho) * y[i] - rho * y_nm1[i];
                       nw.base[i] = c_curr * y[i] - c_prev * y_nm1[i];
                     }
                     auto okb = newton_solve(b, c, nw, kAdaptiveNewton, t + hh, c_beta * hh, Y, false);
                     ok = okb.get();
                     b.if_(ok.get() == b.ci(1), [&] {
                       for (int i = 0; i < n; ++i) {
                         y_alt[i] = Y[i];  // y_bdf2
                         nw.base[i] = y[i];
                       }
                       auto oke =
                           newton_solve(b, c, nw, kAdaptiveNewton, t + hh, hh, Y, false);  // BE from y_bdf2
                       ok = oke.get();
                       // swap roles so that Y = accepted (y_bdf2) and y_alt = comparison (y_be)
                       for (int i = 0; i < n; ++i) {
                         typename B::Val tmp = Y[i];
                         Y[i] = y_alt[i];
                         y_alt[i] = tmp;
                       }
                     });
                   });
               auto err = wrms_diff(b, n, Y, y_alt, y, Y, atol, rtol);
               adaptive_control(b, c, o, h, done, ok, err, t, [&] {
                 for (int i = 0; i < n; ++i) {
                   y_prop[i] = Y[i];
                   y_nm1[i] = y[i];
                 }
                 dt_nm1[0] = hh;
                 c.iws[0] = c.iws[0] + b.ci(1);
               });
             });
    b.if_(done.get() == b.ci(0), [&] { o.status = b.ci(kSTEPFAIL); });
  }
};

// tr-bdf2a: TR stage to t+gamma*h, BDF2 stage to t+h, embedded BE for the error. Modified Newton.
// Workspace after the Newton scratch: Ys, Y, y_be, f_n (each n). iws[0] = step_index (bookkeeping).
struct StepTRBDF2A {
  static constexpr bool kHistory = true;  // iws[0] = steps in the history; 0 = one-step start
  template <class B>
  void operator()(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val dt, typename B::Arr y,
                  typename B::Arr y_prop, StepOut<B>& o) const {
    const int n = c.n;
    const double gamma = 2.0 - std::sqrt(2.0);
    const double gamma2 = (1.0 - gamma) / (2.0 - gamma);
    const double gamma3 = 1.0 / (gamma * (2.0 - gamma));
    const double theta = gamma / 2.0;
    auto nw = NewtonWS<B>::at(b, c.ws, n);
    const int base = NewtonWS<B>::size(n);
    auto Ys = b.offset(c.ws, base), Y = b.offset(c.ws, base + n), y_be = b.offset(c.ws, base + 2 * n),
         f_n = b.offset(c.ws, base + 3 * n);
    auto atol = c.cfg[0], rtol = c.cfg[1], dt_max = c.cfg[10];
    auto max_tries = b.to_int(c.cfg[5]);
    o.status = b.ci(kOK);
    o.t_prop = t;
    o.dt_next = dt;
    o.err = b.c(0.0);
    auto done = b.ivar(b.ci(0));
    counted_f(b, c, t, y, f_n);
    b.if_(b.lnot(all_finite(b, n, f_n)), [&] {
      o.status = b.ci(kSTEPFAIL);
      done = b.ci(1);
    });
    auto h = b.var(b.fmin(dt, dt_max));
    auto tries = b.ivar(b.ci(0));
    b.while_([&] { return b.land(done.get() == b.ci(0), tries.get() < max_tries); },
             [&] {
               tries = tries.get() + b.ci(1);
               auto hh = h.get();
               auto ok = b.ivar(b.ci(1));
               auto gh = b.c(gamma) * hh, th = b.c(theta) * hh;
               for (int i = 0; i < n; ++i) {
                 Ys[i] = y[i] + gh * f_n[i];
                 nw.base[i] = y[i] + th * f_n[i];
               }
               auto ok1 = newton_solve(b, c, nw, kAdaptiveNewton, t + gh, th, Ys, true);
               ok = ok1.get();
               b.if_(ok.get() == b.ci(1), [&] {
                 for (int i = 0; i < n; ++i) {
                   Y[i] = Ys[i];
                   nw.base[i] = b.c(1.0 - gamma3) * y[i] + b.c(gamma3) * Ys[i];
                 }
                 auto ok2 = newton_solve(b, c, nw, kAdaptiveNewton, t + hh, b.c(gamma2) * hh, Y, true);
                 ok = ok2.get();
               });
               b.if_(ok.get() == b.ci(1), [&] {
                 for (int i = 0; i < n; ++i) {
                   y_be[i] = Y[i];
                   nw.base[i] = y[i];
                 }
                 auto ok3 = newton_solve(b, c, nw, kAdaptiveNewton, t + hh, hh, y_be, true);
                 ok = ok3.get();
               });
               auto err = wrms_diff(b, n, Y, y_be, y, Y, atol, rtol);
               adaptive_control(b, c, o, h, done, ok, err, t, [&] {
                 for (int i = 0; i < n; ++i) y_prop[i] = Y[i];
                 c.iws[0] = c.iws[0] + b.ci(1);
               });
             });
    b.if_(done.get() == b.ci(0), [&] { o.status = b.ci(kSTEPFAIL); });
  }
};

}  // namespace dynlib::kernels
