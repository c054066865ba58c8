// vern9: Verner's "most efficient" explicit Runge–Kutta 9(8) pair (16 stages). It advances with the
// 9th-order solution (stages 1 and 8..15); the embedded 8th-order one (stages 1, 8..13 and 16) only gives
// the error estimate. Not FSAL: the 16th stage is not f at the new point, so every step evaluates f 16
// times (the first stage, f(t, y), once per step; a rejected try reuses it). No own interpolant: the
// runner's cubic Hermite dense output (kernels/dense_output.hpp) serves events and save_at.
//
// Coefficients: Verner's published table, each value the double nearest to his exact expression (the
// order conditions up to order 9 and the row sums c_i = sum_j a_ij hold to rounding; see
// tests/runtime/test_stepper_vern9.cpp).
//
// Config (packed): atol, rtol, safety, min_factor, max_factor, beta, max_tries, min_step, dt_max.
// Error: err = sqrt(mean_i (h * sum_j e_j k_j,i / sk_i)^2), e = b - bhat, sk = atol + rtol*max(|y0|, |y1|).
// Step size as dop853's controller with the exponent of an error of order h^9 (facold = the error of the
// last accepted step, at least 1e-4; beta = 0 makes it a plain controller):
//   fac = err^(1/9 - 0.2*beta), q = clamp(fac / facold^beta / safety, 1/max_factor, 1/min_factor),
//   accepted: hnew = h/q, but not larger than h if this step had a rejected try before;
//   rejected: hnew = h / min(1/min_factor, fac/safety).
// An error above the tolerance is never accepted: a step of min_step that still fails is STEPFAIL.
//
// Workspace (doubles): k1..k16 (16n), y_stage (n), then facold. Int workspace: iws[0..2] = work counters.
#pragma once
#include "kernels/stepper_fsal.hpp"  // retry_or_fail

namespace dynlib::kernels {

namespace vern9 {
// c: nodes; a[s][j]: stage s+1 from stage j+1 (0-based); b: 9th-order weights; btilde = b - bhat, the
// difference to the 8th-order weights.
constexpr double c[16] = {0.0,
                          0.03462,
                          0.09702435063878044,
                          0.14553652595817068,
                          0.561,
                          0.229007911590485,
                          0.544992088409515,
                          0.645,
                          0.48375,
                          0.06757,
                          0.25,
                          0.6590650618730999,
                          0.8206,
                          0.9012,
                          1.0,
                          1.0};
constexpr double a[16][16] = {
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {0.03462, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {-0.038933543885728734, 0.13595789452450918, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {0.03638413148954267, 0, 0.109152394468628, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {2.02576391439397, 0, -7.638023836496292, 6.173259922102322, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {0.05112275589406061, 0, 0, 0.17708237945550215, 0.0008027762409222502, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {0.13160063579752163, 0, 0, -0.29572762526696367, 0.08781378035642952, 0.6213052975225275, 0, 0, 0, 0, 0,
     0, 0, 0, 0, 0},
    {0.07166666666666667, 0, 0, 0, 0, 0.33055335789153195, 0.24277997544180138, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {0.071806640625, 0, 0, 0, 0, 0.3294380283228177, 0.11651900292718229, -0.034013671875, 0, 0, 0, 0, 0, 0,
     0, 0},
    {0.04836757646340647, 0, 0, 0, 0, 0.03928989925676164, 0.10547409458903446, -0.021438652846483126,
     -0.10412291746271944, 0, 0, 0, 0, 0, 0, 0},
    {-0.026645614872014785, 0, 0, 0, 0, 0.03333333333333333, -0.1631072244872467, 0.033960816841277615,
     0.1572319413814626, 0.21522674780318796, 0, 0, 0, 0, 0, 0},
    {0.036890092487086225, 0, 0, 0, 0, -0.1465181576725543, 0.22425777681720244, 0.022944057170660725,
     -0.003585005290572876, 0.08669223316444385, 0.43838406519683376, 0, 0, 0, 0, 0},
    {-0.48660122151133406, 0, 0, 0, 0, -6.304602650282853, -0.2812456182894726, -2.6790192362198493,
     0.5188156639241576, 1.3653531876033418, 5.8850910885039465, 2.8028087862720628, 0, 0, 0, 0},
    {0.41853674577534716, 0, 0, 0, 0, 6.724547581906459, -0.4254442801646118, 3.3432791530012658,
     0.6170816631175378, -0.9299661239399328, -6.099948804751011, -3.002206187889399, 0.2553202529443446, 0,
     0, 0},
    {-0.7793740861228846, 0, 0, 0, 0, -13.937342538107776, 1.2520488533793572, -14.69150040801687,
     -0.4947050585331417, 2.2429749091462368, 13.367893803828643, 14.396650486650687, -0.79758133317768,
     0.4409353709534278, 0, 0},
    {2.0580513374668863, 0, 0, 0, 0, 22.357937727968032, 0.9094981099755634, 35.89110098240264,
     -3.4425150276244536, -4.8654813580363685, -18.909803813543427, -34.26354448030452, 1.2647565216956427, 0,
     0, 0},
};
constexpr double b[16] = {0.014611976858423152,
                          0,
                          0,
                          0,
                          0,
                          0,
                          0,
                          -0.3915211862331339,
                          0.23109325002895065,
                          0.12747667699928525,
                          0.2246434176204158,
                          0.5684352689748513,
                          0.058258715572158275,
                          0.13643174034822156,
                          0.030570139830827976,
                          0};
constexpr double btilde[16] = {-0.005357988290444578,
                               0,
                               0,
                               0,
                               0,
                               0,
                               0,
                               -2.583020491182464,
                               0.14252253154686625,
                               0.013420653512688676,
                               -0.028672962914094935,
                               2.624999655215792,
                               -0.2825509643291537,
                               0.13643174034822156,
                               0.030570139830827976,
                               -0.048342313738239585};
constexpr int kCounters = 0;                // work counters at iws[0..2]
constexpr int kYStage = 16, kScalars = 17;  // slots of n doubles
}  // namespace vern9

struct StepVern9 {
  // dst = y + h * sum_j a[s][j] k_j, in stage order (zero coefficients skipped at code generation).
  template <class B>
  static void stage_point(B& b, int n, const typename B::Arr* k, int s, typename B::Arr y, typename B::Val h,
                          typename B::Arr dst) {
    for_states(b, n, [&](auto i) {
      typename B::Val acc = b.c(vern9::a[s][0]) * k[0][i];
      for (int j = 1; j < s; ++j)
        if (vern9::a[s][j] != 0.0) acc = acc + b.c(vern9::a[s][j]) * k[j][i];
      dst[i] = y[i] + h * acc;
    });
  }

  template <class B>
  void operator()(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val dt, typename B::Arr y,
                  typename B::Arr y1, StepOut<B>& o) const {
    using Val = typename B::Val;
    const int n = c.n;
    typename B::Arr k[16];
    for (int j = 0; j < 16; ++j) k[j] = b.offset(c.ws, j * n);
    auto y_stage = b.offset(c.ws, vern9::kYStage * n), scal = b.offset(c.ws, vern9::kScalars * n);
    auto atol = c.cfg[0], rtol = c.cfg[1], safety = c.cfg[2], min_factor = c.cfg[3], max_factor = c.cfg[4],
         beta = c.cfg[5];
    auto max_tries = b.to_int(c.cfg[6]);
    auto min_step = c.cfg[7], dt_max = c.cfg[8];

    o.status = b.ci(kOK);
    o.err = b.c(0.0);
    o.t_prop = t;
    o.dt_next = dt;
    auto done = b.ivar(b.ci(0));
    auto rejected = b.ivar(b.ci(0));
    f_eval(b, c, t, y, k[0]);
    count_work(b, c, vern9::kCounters, WorkCounter::rhs, b.ci(1));
    b.if_(b.lnot(all_finite(b, n, k[0])), [&] {
      o.err = b.c(1.0) / b.c(0.0);
      o.status = b.ci(kSTEPFAIL);
      done = b.ci(1);
    });
    // facold: a zero (fresh workspace) or NaN reads as the initial 1e-4.
    auto facold = b.fmax(Val(scal[0]), b.c(1e-4));
    auto expo1 = b.c(1.0 / 9.0) - beta * b.c(0.2);
    auto h = b.var(b.fmin(dt, dt_max));
    auto tries = b.ivar(b.ci(0));
    auto ntries = b.iselect(max_tries < b.ci(1), b.ci(1), max_tries);
    b.while_([&] { return b.land(done.get() == b.ci(0), tries.get() < ntries); },
             [&] {
               tries = tries.get() + b.ci(1);
               Val hh = h.get();
               for (int s = 1; s < 16; ++s) {
                 stage_point(b, n, k, s, y, hh, y_stage);
                 f_eval(b, c, t + b.c(vern9::c[s]) * hh, y_stage, k[s]);
               }
               count_work(b, c, vern9::kCounters, WorkCounter::rhs, b.ci(15));
               for_states(b, n, [&](auto i) {
                 Val acc = b.c(vern9::b[0]) * k[0][i];
                 for (int j = 1; j < 16; ++j)
                   if (vern9::b[j] != 0.0) acc = acc + b.c(vern9::b[j]) * k[j][i];
                 y1[i] = y[i] + hh * acc;
               });
               auto finite = all_finite(b, n, y1);
               for (int j = 1; j < 16; ++j) finite = b.land(finite, all_finite(b, n, k[j]));
               auto sum = b.var(b.c(0.0));
               for_states(b, n, [&](auto i) {
                 Val e = b.c(vern9::btilde[0]) * k[0][i];
                 for (int j = 1; j < 16; ++j)
                   if (vern9::btilde[j] != 0.0) e = e + b.c(vern9::btilde[j]) * k[j][i];
                 auto sk = atol + rtol * b.fmax(b.fabs(y[i]), b.fabs(y1[i]));
                 auto q = hh * e / sk;
                 sum = sum.get() + q * q;
               });
               auto err = b.sqrt(sum.get() / b.c(static_cast<double>(n > 0 ? n : 1)));
               o.err = err;
               finite = b.land(finite, b.isfinite(err));
               auto retry_with = [&](Val h_new) {
                 rejected = b.ci(1);
                 retry_or_fail(b, o, h, done, hh, h_new, min_step);
               };
               b.if_(
                   b.lnot(finite), [&] { retry_with(hh * min_factor); },
                   [&] {
                     auto fac = b.pow(err, expo1);
                     b.if_(
                         err <= b.c(1.0),
                         [&] {
                           // facold^beta is 1 for the default beta = 0: the call is skipped there.
                           auto facold_beta = b.var(b.c(1.0));
                           b.if_(beta != b.c(0.0), [&] { facold_beta = b.pow(facold, beta); });
                           auto q = b.fmax(b.c(1.0) / max_factor,
                                           b.fmin(b.c(1.0) / min_factor, fac / facold_beta.get() / safety));
                           auto hnew = hh / q;
                           hnew = b.select(rejected.get() != b.ci(0), b.fmin(hnew, hh), hnew);
                           o.t_prop = t + hh;
                           o.dt_next = b.fmin(hnew, dt_max);
                           scal[0] = b.fmax(err, b.c(1e-4));
                           done = b.ci(1);
                         },
                         [&] { retry_with(hh / b.fmin(b.c(1.0) / min_factor, fac / safety)); });
                   });
             });
    b.if_(done.get() == b.ci(0), [&] { o.status = b.ci(kSTEPFAIL); });
  }
};

}  // namespace dynlib::kernels
