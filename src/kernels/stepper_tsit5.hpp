// tsit5: Tsitouras' 5(4) explicit Runge–Kutta pair (7 stages, FSAL) with its free 4th-order interpolant.
// It advances with the 5th-order solution; the embedded 4th-order one only gives the error estimate.
// Per accepted step 6 new evaluations of f: the 7th stage, f(t + h, y1), is the next step's first stage
// (kernels/stepper_fsal.hpp says when it may be reused).
//
// Config (packed): atol, rtol, safety, min_factor, max_factor, max_tries, min_step, dt_max (as rk45).
// Step size: hnew = h * clamp(safety * err^(-1/5), min_factor, max_factor) after an accepted step,
// h * max(min_factor, safety * err^(-1/5)) for the retry after a rejected one. An error above the
// tolerance is never accepted: a step of min_step that still fails ends the run with STEPFAIL.
//
// Workspace (doubles): k1..k7 (7n), y_stage (n), fsal_y (n), dense_y0 (n), then fsal_t, dense_h.
// The stages k1..k7 of the last accepted step stay in place until the next step starts, which is what
// dense_prepare/dense_eval use. Int workspace: iws[0] = FSAL flag, iws[1..3] = work counters.
#pragma once
#include "kernels/stepper_fsal.hpp"

namespace dynlib::kernels {

namespace tsit5 {
// Tableau (c: nodes of stages 2..7; a: rows 2..7, row 7 being the 5th-order weights; btilde: the
// difference of the 4th- and 5th-order weights, so h*sum(btilde_j k_j) is the error estimate).
constexpr double c[8] = {0, 0, 0.161, 0.327, 0.9, 0.9800255409045097, 1.0, 1.0};
constexpr double a[8][7] = {
    {},
    {},
    {0.161},
    {-0.008480655492356989, 0.335480655492357},
    {2.8971530571054935, -6.359448489975075, 4.3622954328695815},
    {5.325864828439257, -11.748883564062828, 7.4955393428898365, -0.09249506636175525},
    {5.86145544294642, -12.92096931784711, 8.159367898576159, -0.071584973281401, -0.028269050394068383},
    {0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081, 2.324710524099774},
};
constexpr double btilde[7] = {-0.00178001105222577714, -0.0008164344596567469, 0.007880878010261995,
                              -0.1447110071732629,     0.5823571654525552,     -0.45808210592918697,
                              0.015151515151515152};
// Interpolant weights b_i(theta) = r[i][0]*theta + r[i][1]*theta^2 + r[i][2]*theta^3 + r[i][3]*theta^4.
constexpr double r[7][4] = {
    {1.0, -2.763706197274826, 2.9132554618219126, -1.0530884977290216},
    {0.0, 0.13169999999999998, -0.2234, 0.1017},
    {0.0, 3.9302962368947516, -5.941033872131505, 2.490627285651253},
    {0.0, -12.411077166933676, 30.33818863028232, -16.548102889244902},
    {0.0, 37.50931341651104, -88.1789048947664, 47.37952196281928},
    {0.0, -27.896526289197286, 65.09189467479366, -34.87065786149661},
    {0.0, 1.5, -4.0, 2.5},
};
constexpr int kCounters = 1;  // work counters at iws[1..3]
}  // namespace tsit5

struct StepTsit5 {
  static constexpr bool kHistory = true;  // iws[0] = FSAL flag; the runner clears it after event actions
  static constexpr bool kDense = true;

  template <class B>
  void operator()(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val dt, typename B::Arr y,
                  typename B::Arr y1, StepOut<B>& o) const {
    using Val = typename B::Val;
    const int n = c.n;
    typename B::Arr k[8];
    for (int j = 1; j <= 7; ++j) k[j] = b.offset(c.ws, (j - 1) * n);
    auto y_stage = b.offset(c.ws, 7 * n), fsal_y = b.offset(c.ws, 8 * n), scal = b.offset(c.ws, 10 * n);
    auto atol = c.cfg[0], rtol = c.cfg[1], safety = c.cfg[2], min_factor = c.cfg[3], max_factor = c.cfg[4];
    auto max_tries = b.to_int(c.cfg[5]);
    auto min_step = c.cfg[6], dt_max = c.cfg[7];

    o.status = b.ci(kOK);
    o.err = b.c(0.0);
    o.t_prop = t;
    o.dt_next = dt;
    auto done = b.ivar(b.ci(0));
    fsal_first_stage(b, c, t, y, k[1], k[7], fsal_y, Val(scal[0]), tsit5::kCounters, o, done);
    auto h = b.var(b.fmin(dt, dt_max));
    auto tries = b.ivar(b.ci(0));
    auto ntries = b.iselect(max_tries < b.ci(1), b.ci(1), max_tries);
    b.while_([&] { return b.land(done.get() == b.ci(0), tries.get() < ntries); },
             [&] {
               tries = tries.get() + b.ci(1);
               Val hh = h.get();
               // Stages 2..6 from y_stage, then y1 = y + h * sum(a7j kj) and k7 = f(t + h, y1).
               for (int s = 2; s <= 7; ++s) {
                 auto dst = s < 7 ? y_stage : y1;
                 for_states(b, n, [&](auto i) {
                   Val acc = b.c(tsit5::a[s][0]) * k[1][i];
                   for (int j = 2; j < s; ++j) acc = acc + b.c(tsit5::a[s][j - 1]) * k[j][i];
                   dst[i] = y[i] + hh * acc;
                 });
                 f_eval(b, c, t + b.c(tsit5::c[s]) * hh, dst, k[s]);
               }
               count_work(b, c, tsit5::kCounters, WorkCounter::rhs, b.ci(6));
               auto finite = all_finite(b, n, y1);
               for (int j = 2; j <= 7; ++j) finite = b.land(finite, all_finite(b, n, k[j]));
               auto acc = b.var(b.c(0.0));
               for_states(b, n, [&](auto i) {
                 Val e = b.c(tsit5::btilde[0]) * k[1][i];
                 for (int j = 2; j <= 7; ++j) e = e + b.c(tsit5::btilde[j - 1]) * k[j][i];
                 auto sc = atol + rtol * b.fmax(b.fabs(y[i]), b.fabs(y1[i]));
                 auto q = hh * e / sc;
                 acc = acc.get() + q * q;
               });
               auto err = b.sqrt(acc.get() / b.c(static_cast<double>(n > 0 ? n : 1)));
               o.err = err;
               finite = b.land(finite, b.isfinite(err));
               auto retry_with = [&](Val h_new) { retry_or_fail(b, o, h, done, hh, h_new, min_step); };
               b.if_(
                   b.lnot(finite), [&] { retry_with(hh * min_factor); },
                   [&] {
                     b.if_(
                         err <= b.c(1.0),
                         [&] {
                           o.t_prop = t + hh;
                           auto fac =
                               b.fmin(b.fmax(safety * b.pow(err, b.c(-1.0 / 5.0)), min_factor), max_factor);
                           auto dn = b.select(err == b.c(0.0), hh * max_factor, hh * fac);
                           o.dt_next = b.fmin(dn, dt_max);
                           fsal_remember(b, c, t + hh, y1, fsal_y, scal);
                           done = b.ci(1);
                         },
                         [&] { retry_with(hh * b.fmax(min_factor, safety * b.pow(err, b.c(-1.0 / 5.0)))); });
                   });
             });
    b.if_(done.get() == b.ci(0), [&] { o.status = b.ci(kSTEPFAIL); });
  }

  // Dense output of the last accepted step (t, y0) -> (t + h, y1): keeps y0 and h next to the stages.
  template <class B>
  void dense_prepare(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val h, typename B::Arr y0,
                     typename B::Arr y1) const {
    (void)t;
    (void)y1;
    const int n = c.n;
    auto dense_y0 = b.offset(c.ws, 9 * n), scal = b.offset(c.ws, 10 * n);
    for_states(b, n, [&](auto i) { dense_y0[i] = y0[i]; });
    scal[1] = h;
  }

  // out = y0 + h * sum_i b_i(theta) k_i, the 4th-order interpolant at t + theta*h.
  template <class B>
  void dense_eval(B& b, const StepCtx<B>& c, typename B::Val theta, typename B::Arr out) const {
    using Val = typename B::Val;
    const int n = c.n;
    auto dense_y0 = b.offset(c.ws, 9 * n), scal = b.offset(c.ws, 10 * n);
    Val h = Val(scal[1]);
    typename B::Arr k[7];
    for (int j = 0; j < 7; ++j) k[j] = b.offset(c.ws, j * n);
    Val w[7];
    for (int i = 0; i < 7; ++i) {
      const auto& ri = tsit5::r[i];
      w[i] = theta * (b.c(ri[0]) + theta * (b.c(ri[1]) + theta * (b.c(ri[2]) + theta * b.c(ri[3]))));
    }
    for_states(b, n, [&](auto i) {
      Val acc = w[0] * k[0][i];
      for (int j = 1; j < 7; ++j) acc = acc + w[j] * k[j][i];
      out[i] = dense_y0[i] + h * acc;
    });
  }
};

}  // namespace dynlib::kernels
