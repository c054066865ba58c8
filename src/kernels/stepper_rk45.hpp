// rk45: Dormand–Prince 5(4) with the reference's accept/reject loop. FSAL: k7 = f(t + h, y5) of an
// accepted step is the next step's k1 while the runner's StepCtx::fsal_valid says that nothing changed
// (kernels/runner.hpp); otherwise k1 is evaluated. Either way k1 has the same bits.
// Config (packed): atol, rtol, safety, min_factor, max_factor, max_tries, min_step, dt_max.
// Workspace: y_stage, k1..k7, spare (each n). y5 is built in y_prop.
// Dense output (Shampine's 4th-order interpolant, as in Hairer's DOPRI5): dense_prepare turns the stages
// of the accepted step into r1..r5 in slots the next step does not read before writing them:
// r1 = y0 (spare, 8n), r2 = y1 - y0 (k3), r3 = h*k1 - r2 (y_stage), r4 = r2 - h*k7 - r3 (k4),
// r5 = h*(d1*k1 + d3*k3 + d4*k4 + d5*k5 + d6*k6 + d7*k7) (k2); k1 and k7 (FSAL) stay.
#pragma once
#include "kernels/stepper_common.hpp"

namespace dynlib::kernels {

struct StepRK45 {
  static constexpr bool kFsal = true;
  static constexpr bool kDense = true;

  template <class B>
  void operator()(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val dt, typename B::Arr y,
                  typename B::Arr y5, StepOut<B>& o) const {
    const int n = c.n;
    auto y_stage = c.ws;
    typename B::Arr k[8];
    for (int j = 1; j <= 7; ++j) k[j] = b.offset(c.ws, j * n);
    auto atol = c.cfg[0], rtol = c.cfg[1], safety = c.cfg[2], min_factor = c.cfg[3], max_factor = c.cfg[4];
    auto max_tries = b.to_int(c.cfg[5]);
    auto min_step = c.cfg[6], dt_max = c.cfg[7];
    const StepSizeLimits<B> limits{safety, min_factor, max_factor, min_step, dt_max};

    constexpr double c2 = 1.0 / 5.0, c3 = 3.0 / 10.0, c4 = 4.0 / 5.0, c5 = 8.0 / 9.0;
    constexpr double a21 = 1.0 / 5.0;
    constexpr double a31 = 3.0 / 40.0, a32 = 9.0 / 40.0;
    constexpr double a41 = 44.0 / 45.0, a42 = -56.0 / 15.0, a43 = 32.0 / 9.0;
    constexpr double a51 = 19372.0 / 6561.0, a52 = -25360.0 / 2187.0, a53 = 64448.0 / 6561.0,
                     a54 = -212.0 / 729.0;
    constexpr double a61 = 9017.0 / 3168.0, a62 = -355.0 / 33.0, a63 = 46732.0 / 5247.0, a64 = 49.0 / 176.0,
                     a65 = -5103.0 / 18656.0;
    constexpr double b1 = 35.0 / 384.0, b3 = 500.0 / 1113.0, b4 = 125.0 / 192.0, b5 = -2187.0 / 6784.0,
                     b6 = 11.0 / 84.0;
    constexpr double s1 = 5179.0 / 57600.0, s3 = 7571.0 / 16695.0, s4 = 393.0 / 640.0,
                     s5 = -92097.0 / 339200.0, s6 = 187.0 / 2100.0, s7 = 1.0 / 40.0;
    constexpr double e1 = b1 - s1, e3 = b3 - s3, e4 = b4 - s4, e5 = b5 - s5, e6 = b6 - s6;

    o.status = b.ci(kOK);
    o.err = b.c(0.0);
    o.t_prop = t;
    o.dt_next = dt;
    auto done = b.ivar(b.ci(0));
    auto first_stage = [&] {
      f_eval(b, c, t, y, k[1]);
      b.if_(b.lnot(all_finite(b, n, k[1])), [&] {
        o.err = b.c(1.0) / b.c(0.0);
        o.status = b.ci(kSTEPFAIL);
        done = b.ci(1);
      });
    };
    if (c.fsal_valid != nullptr)  // k7 of an accepted step is finite (checked below)
      b.if_(
          c.fsal_valid->get() != b.ci(0), [&] { for_states(b, n, [&](auto i) { k[1][i] = k[7][i]; }); },
          first_stage);
    else
      first_stage();
    auto h = b.var(b.fmin(dt, dt_max));
    auto tries = b.ivar(b.ci(0));
    auto ntries = b.iselect(max_tries < b.ci(1), b.ci(1), max_tries);
    b.while_([&] { return b.land(done.get() == b.ci(0), tries.get() < ntries); },
             [&] {
               tries = tries.get() + b.ci(1);
               auto hh = h.get();
               for_states(b, n, [&](auto i) { y_stage[i] = y[i] + hh * (b.c(a21) * k[1][i]); });
               f_eval(b, c, t + b.c(c2) * hh, y_stage, k[2]);
               for_states(
                   b, n, [&](auto i) { y_stage[i] = y[i] + hh * (b.c(a31) * k[1][i] + b.c(a32) * k[2][i]); });
               f_eval(b, c, t + b.c(c3) * hh, y_stage, k[3]);
               for_states(b, n, [&](auto i) {
                 y_stage[i] = y[i] + hh * (b.c(a41) * k[1][i] + b.c(a42) * k[2][i] + b.c(a43) * k[3][i]);
               });
               f_eval(b, c, t + b.c(c4) * hh, y_stage, k[4]);
               for_states(b, n, [&](auto i) {
                 y_stage[i] = y[i] + hh * (b.c(a51) * k[1][i] + b.c(a52) * k[2][i] + b.c(a53) * k[3][i] +
                                           b.c(a54) * k[4][i]);
               });
               f_eval(b, c, t + b.c(c5) * hh, y_stage, k[5]);
               for_states(b, n, [&](auto i) {
                 y_stage[i] = y[i] + hh * (b.c(a61) * k[1][i] + b.c(a62) * k[2][i] + b.c(a63) * k[3][i] +
                                           b.c(a64) * k[4][i] + b.c(a65) * k[5][i]);
               });
               f_eval(b, c, t + hh, y_stage, k[6]);
               for_states(b, n, [&](auto i) {
                 y5[i] = y[i] + hh * (b.c(b1) * k[1][i] + b.c(b3) * k[3][i] + b.c(b4) * k[4][i] +
                                      b.c(b5) * k[5][i] + b.c(b6) * k[6][i]);
               });
               f_eval(b, c, t + hh, y5, k[7]);
               auto acc = b.var(b.c(0.0));
               auto finite = b.ctrue();
               for (int j = 2; j <= 7; ++j) finite = b.land(finite, all_finite(b, n, k[j]));
               finite = b.land(finite, all_finite(b, n, y5));
               for_states(b, n, [&](auto i) {
                 auto ei = hh * b.fabs(b.c(e1) * k[1][i] + b.c(e3) * k[3][i] + b.c(e4) * k[4][i] +
                                       b.c(e5) * k[5][i] + b.c(e6) * k[6][i] - b.c(s7) * k[7][i]);
                 auto sc = atol + rtol * b.fmax(b.fabs(y[i]), b.fabs(y5[i]));
                 auto q = ei / sc;
                 acc = acc.get() + q * q;
               });
               auto err = b.sqrt(acc.get() / b.c(static_cast<double>(n > 0 ? n : 1)));
               finite = b.land(finite, b.isfinite(err));
               accept_or_shrink(b, o, h, done, b.lnot(finite), err, t, limits, -1.0 / 5.0, -1.0 / 4.0, [&] {
                 if (c.fsal_valid != nullptr) *c.fsal_valid = b.ci(1);
               });
             });
    b.if_(done.get() == b.ci(0), [&] { o.status = b.ci(kSTEPFAIL); });
  }

  template <class B>
  void dense_prepare(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val h, typename B::Arr y0,
                     typename B::Arr y1) const {
    using Val = typename B::Val;
    (void)t;
    const int n = c.n;
    constexpr double d1 = -12715105075.0 / 11282082432.0, d3 = 87487479700.0 / 32700410799.0,
                     d4 = -10690763975.0 / 1880347072.0, d5 = 701980252875.0 / 199316789632.0,
                     d6 = -1453857185.0 / 822651844.0, d7 = 69997945.0 / 29380423.0;
    typename B::Arr k[8];
    for (int j = 1; j <= 7; ++j) k[j] = b.offset(c.ws, j * n);
    auto r1 = b.offset(c.ws, 8 * n), r2 = k[3], r3 = c.ws, r4 = k[4], r5 = k[2];
    for_states(b, n, [&](auto i) {
      Val k1 = k[1][i], k7 = k[7][i];
      Val s5 = h * (b.c(d1) * k1 + b.c(d3) * Val(k[3][i]) + b.c(d4) * Val(k[4][i]) + b.c(d5) * Val(k[5][i]) +
                    b.c(d6) * Val(k[6][i]) + b.c(d7) * k7);
      Val ydiff = Val(y1[i]) - Val(y0[i]);
      Val bspl = h * k1 - ydiff;
      r1[i] = y0[i];
      r2[i] = ydiff;
      r3[i] = bspl;
      r4[i] = ydiff - h * k7 - bspl;
      r5[i] = s5;
    });
  }

  // y0 + theta*(r2 + (1-theta)*(r3 + theta*(r4 + (1-theta)*r5))).
  template <class B>
  void dense_eval(B& b, const StepCtx<B>& c, typename B::Val theta, typename B::Arr out) const {
    using Val = typename B::Val;
    const int n = c.n;
    auto r1 = b.offset(c.ws, 8 * n), r2 = b.offset(c.ws, 3 * n), r3 = c.ws, r4 = b.offset(c.ws, 4 * n),
         r5 = b.offset(c.ws, 2 * n);
    Val th1 = b.c(1.0) - theta;
    for_states(b, n, [&](auto i) {
      out[i] =
          Val(r1[i]) + theta * (Val(r2[i]) + th1 * (Val(r3[i]) + theta * (Val(r4[i]) + th1 * Val(r5[i]))));
    });
  }
};

}  // namespace dynlib::kernels
