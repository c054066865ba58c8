// Rosenbrock–Wanner steppers: rodas5p (Steinebach's Rodas5P, 8 stages, order 5 with an embedded order-4
// estimate) and rodas4 (Hairer–Wanner's Rodas, 6 stages, 4(3)). Both are L-stable and stiffly accurate;
// one kernel runs either tableau.
//
// One step from (t, y) with the step h (identity mass matrix):
//   J = df/dy and ft = df/dt at (t, y), evaluated afresh every step: these are not W-methods, their
//   order relies on the true Jacobian. Retries of the same step (smaller h) reuse them.
//   E = I - h*gamma*J, factored once per try (LU) and reused by every stage.
//   stage i: u_i = y + sum_{j<i} A_ij k_j,
//            k_i = E^-1 (h*gamma*(f(t + c_i h, u_i) + h d_i ft + sum_{j<i} (C_ij/h) k_j))
//   y_new = u_s + k_s (stiffly accurate), and k_s is the error estimate (weighted RMS with the scale
//   atol + rtol*max(|y|, |y_new|)).
// This is the usual form with W = J - I/(h gamma) and k_i = -W^-1 r_i multiplied through by -h*gamma,
// so the factored matrix stays close to the identity for small h.
//
// Derivatives (jacobian_mode): external (1, the default) uses the exact Jacobian when the model has one
// (its own [equations.jacobian], else the symbolic one) and the symbolic df/dt; internal (0), or no exact
// one, uses forward differences: column j with eps_j = jac_eps*max(1, |y_j|), and in t with
// delta = jac_eps*max(1, |t|). A model whose rhs does not refer to t skips df/dt entirely.
//
// Step control: fac = clamp(safety*err^(-1/q), min_factor, max_factor) with q = embedded order + 1; after
// a rejection within the step the accepted step does not grow. An error above tolerance is never
// accepted: a step that would have to shrink below min_step fails (STEPFAIL), as does a Jacobian or
// df/dt that is not finite.
//
// Dense output: y(theta) = (1-theta) y0 + theta (y1 + (1-theta)(kappa_1 + theta (kappa_2 + theta kappa_3)))
// with kappa_j = sum_i H_ji k_i (rodas4 has no kappa_3).
//
// Config (packed): atol, rtol, safety, min_factor, max_factor, max_tries, min_step, dt_max, jacobian_mode,
// jac_eps.
// Workspace (doubles): J (n*n), E (n*n, its LU factors after a try), f0 = f(t, y), ft, u, k_1..k_s, then the
// dense output: y0, y1, kappa_1..kappa_m (each n). After an accepted step k_1..k_s are that step's stages.
// Int workspace: the work counters (rhs, jac, lu) at 0..2, the LU pivots at 3..3+n.
#pragma once
#include "kernels/linalg.hpp"
#include "kernels/stepper_common.hpp"

namespace dynlib::kernels {

// Rodas5P (Steinebach 2023), full double precision.
struct Rodas5PTableau {
  static constexpr int s = 8;               // stages
  static constexpr int embedded_order = 4;  // the estimate's order: the controller's exponent is 1/5
  static constexpr int dense_terms = 3;     // kappa_1..kappa_3
  static constexpr double gamma = 0.21193756319429014;
  static constexpr double A[8][8] = {
      {0, 0, 0, 0, 0, 0, 0, 0},
      {3.0, 0, 0, 0, 0, 0, 0, 0},
      {2.849394379747939, 0.45842242204463923, 0, 0, 0, 0, 0, 0},
      {-6.954028509809101, 2.489845061869568, -10.358996098473584, 0, 0, 0, 0, 0},
      {2.8029986275628964, 0.5072464736228206, -0.3988312541770524, -0.04721187230404641, 0, 0, 0, 0},
      {-7.502846399306121, 2.561846144803919, -11.627539656261098, -0.18268767659942256, 0.030198172008377946,
       0, 0, 0},
      {-7.502846399306121, 2.561846144803919, -11.627539656261098, -0.18268767659942256, 0.030198172008377946,
       1, 0, 0},
      {-7.502846399306121, 2.561846144803919, -11.627539656261098, -0.18268767659942256, 0.030198172008377946,
       1, 1, 0}};
  static constexpr double C[8][8] = {
      {0, 0, 0, 0, 0, 0, 0, 0},
      {-14.155112264123755, 0, 0, 0, 0, 0, 0, 0},
      {-17.97296035885952, -2.859693295451294, 0, 0, 0, 0, 0, 0},
      {147.12150275711716, -1.41221402718213, 71.68940251302358, 0, 0, 0, 0, 0},
      {165.43517024871676, -0.4592823456491126, 42.90938336958603, -5.961986721573306, 0, 0, 0, 0},
      {24.854864614690072, -3.0009227002832186, 47.4931110020768, 5.5814197821558125, -0.6610691825249471, 0,
       0, 0},
      {30.91273214028599, -3.1208243349937974, 77.79954646070892, 34.28646028294783, -19.097331116725623,
       -28.087943162872662, 0, 0},
      {37.80277123390563, -3.2571969029072276, 112.26918849496327, 66.9347231244047, -40.06618937091002,
       -54.66780262877968, -9.48861652309627, 0}};
  static constexpr double c[8] = {
      0, 0.6358126895828704, 0.4095798393397535, 0.9769306725060716, 0.4288403609558664, 1, 1, 1};
  static constexpr double d[8] = {0.21193756319429014,
                                  -0.42387512638858027,
                                  -0.3384627126235924,
                                  1.8046452872882734,
                                  2.325825639765069,
                                  0,
                                  0,
                                  0};
  static constexpr double H[3][8] = {
      {25.948786856663858, -2.5579724845846235, 10.433815404888879, -2.3679251022685204, 0.524948541321073,
       1.1241088310450404, 0.4272876194431874, -0.17202221070155493},
      {-9.91568850695171, -0.9689944594115154, 3.0438037242978453, -24.495224566215796, 20.176138334709044,
       15.98066361424651, -6.789040303419874, -6.710236069923372},
      {11.419903575922262, 2.8879645146136994, 72.92137995996029, 80.12511834622643, -52.072871366152654,
       -59.78993625266729, -0.15582684282751913, 4.883087185713722}};
};

// Rodas4 (Hairer & Wanner, the rodas code's coefficient set 1).
struct Rodas4Tableau {
  static constexpr int s = 6;
  static constexpr int embedded_order = 3;  // exponent 1/4
  static constexpr int dense_terms = 2;
  static constexpr double gamma = 0.25;
  static constexpr double A[6][6] = {
      {0, 0, 0, 0, 0, 0},
      {1.544, 0, 0, 0, 0, 0},
      {0.9466785280815826, 0.2557011698983284, 0, 0, 0, 0},
      {3.314825187068521, 2.896124015972201, 0.9986419139977817, 0, 0, 0},
      {1.221224509226641, 6.019134481288629, 12.53708332932087, -0.687886036105895, 0, 0},
      {1.221224509226641, 6.019134481288629, 12.53708332932087, -0.687886036105895, 1, 0}};
  static constexpr double C[6][6] = {
      {0, 0, 0, 0, 0, 0},
      {-5.6688, 0, 0, 0, 0, 0},
      {-2.430093356833875, -0.2063599157091915, 0, 0, 0, 0},
      {-0.1073529058151375, -9.594562251023355, -20.47028614809616, 0, 0, 0},
      {7.496443313967647, -10.24680431464352, -33.99990352819905, 11.7089089320616, 0, 0},
      {8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136, -6.058818238834054, 0}};
  static constexpr double c[6] = {0, 0.386, 0.21, 0.63, 1, 1};
  static constexpr double d[6] = {0.25, -0.1043, 0.1035, -0.0362, 0, 0};
  static constexpr double H[2][6] = {
      {10.12623508344586, -7.487995877610167, -34.80091861555747, -7.992771707568823, 1.025137723295662, 0},
      {-0.6762803392801253, 6.087714651680015, 16.43084320892478, 24.76722511418386, -6.594389125716872, 0}};
};

template <class Tab>
struct StepRosenbrock {
  static constexpr bool kDense = true;
  static constexpr int kCounters = 0;  // iws index of the work counters
  static constexpr int kPivots = kCounters + kWorkCounterCount;

  // Workspace sizes (the registry's ws_size / iws_size).
  static constexpr std::int64_t ws_size(std::int64_t n) {
    return 2 * n * n + (5 + Tab::s + Tab::dense_terms) * n;
  }
  static constexpr std::int64_t iws_size(std::int64_t n) { return kPivots + n; }

  template <class B>
  struct Layout {
    typename B::Arr J, E, f0, ft, u, k[Tab::s], y0, y1, kappa[Tab::dense_terms];
    typename B::IArr piv;
    Layout(B& b, const StepCtx<B>& c) {
      const int n = c.n;
      int at = 0;
      auto next = [&](int len) {
        auto a = b.offset(c.ws, at);
        at += len;
        return a;
      };
      J = next(n * n);
      E = next(n * n);
      f0 = next(n);
      ft = next(n);
      u = next(n);
      for (auto& ki : k) ki = next(n);
      y0 = next(n);
      y1 = next(n);
      for (auto& kj : kappa) kj = next(n);
      piv = b.offset(c.iws, kPivots);
    }
  };

  template <class B>
  void operator()(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val dt, typename B::Arr y,
                  typename B::Arr y_new, StepOut<B>& o) const {
    using Val = typename B::Val;
    using Int = typename B::Int;
    const int n = c.n;
    const Int nn = b.ci(n);
    Layout<B> w(b, c);
    auto atol = c.cfg[0], rtol = c.cfg[1], safety = c.cfg[2], min_factor = c.cfg[3], max_factor = c.cfg[4];
    auto max_tries = b.to_int(c.cfg[5]);
    auto min_step = c.cfg[6], dt_max = c.cfg[7], jac_mode = c.cfg[8], jac_eps = c.cfg[9];
    const ir::ModelIR& model = b.model();
    const bool time_dependent = model.rhs_refers_to_time;

    o.status = b.ci(kOK);
    o.err = b.c(0.0);
    o.t_prop = t;
    o.dt_next = dt;
    auto done = b.ivar(b.ci(0));
    auto fail = [&] {
      o.status = b.ci(kSTEPFAIL);
      done = b.ci(1);
    };

    // f0, J and ft at (t, y): once per step.
    f_eval(b, c, t, y, w.f0);
    count_work(b, c, kCounters, WorkCounter::rhs, b.ci(1));
    b.if_(b.lnot(all_finite(b, n, w.f0)), fail);
    b.if_(done.get() == b.ci(0), [&] {
      auto ok = b.ivar(b.ci(1));
      auto fd_jacobian = [&] {
        auto tmp = w.k[0];
        for_states(b, n, [&](auto i) { w.u[i] = y[i]; });
        b.for_(b.ci(0), nn, [&](Int j) {
          Val yj = y[j];
          auto eps = jac_eps * b.fmax(b.c(1.0), b.fabs(yj));
          w.u[j] = yj + eps;
          f_eval(b, c, t, w.u, tmp);
          w.u[j] = yj;
          b.for_(b.ci(0), nn, [&](Int i) { w.J[i * nn + j] = (tmp[i] - w.f0[i]) / eps; });
        });
        count_work(b, c, kCounters, WorkCounter::rhs, nn);
      };
      if (b.has_model_jacobian()) {
        b.if_(
            jac_mode == b.c(1.0), [&] { b.jacobian(t, y, w.J, c.params, c.lag_ring, c.lag_head); },
            fd_jacobian);
      } else {
        fd_jacobian();
      }
      count_work(b, c, kCounters, WorkCounter::jac, b.ci(1));
      b.for_(b.ci(0), nn * nn, [&](Int q) { b.if_(b.lnot(b.isfinite(w.J[q])), [&] { ok = b.ci(0); }); });
      if (time_dependent) {
        auto fd_time = [&] {
          auto tmp = w.k[0];
          auto t_del = t + jac_eps * b.fmax(b.c(1.0), b.fabs(t));
          auto del = t_del - t;  // the increment actually applied
          f_eval(b, c, t_del, y, tmp);
          count_work(b, c, kCounters, WorkCounter::rhs, b.ci(1));
          for_states(b, n, [&](auto i) { w.ft[i] = (tmp[i] - w.f0[i]) / del; });
        };
        if (const auto* dfdt = model.derived_time_derivative ? &*model.derived_time_derivative : nullptr) {
          b.if_(
              jac_mode == b.c(1.0),
              [&] {
                EvalCtx<B> ctx{t, y, c.params, c.lag_ring, c.lag_head, 0};
                for (int i = 0; i < n; ++i) w.ft[i] = b.eval((*dfdt)[static_cast<std::size_t>(i)], ctx);
              },
              fd_time);
        } else {
          fd_time();
        }
        b.if_(b.lnot(all_finite(b, n, w.ft)), [&] { ok = b.ci(0); });
      }
      b.if_(ok.get() == b.ci(0), fail);
    });

    auto h = b.var(b.fmin(dt, dt_max));
    auto tries = b.ivar(b.ci(0));
    auto rejected = b.ivar(b.ci(0));
    auto ntries = b.iselect(max_tries < b.ci(1), b.ci(1), max_tries);
    const double expo = -1.0 / (Tab::embedded_order + 1);
    b.while_([&] { return b.land(done.get() == b.ci(0), tries.get() < ntries); },
             [&] {
               tries = tries.get() + b.ci(1);
               auto hh = h.get();
               auto hg = hh * b.c(Tab::gamma);
               // E = I - h*gamma*J, factored.
               b.for_(b.ci(0), nn, [&](Int i) {
                 b.for_(b.ci(0), nn, [&](Int j) {
                   auto eij = -hg * w.J[i * nn + j];
                   w.E[i * nn + j] = b.select(i == j, eij + b.c(1.0), eij);
                 });
               });
               auto lu_ok = lu_factor(b, n, w.E, w.piv);
               count_work(b, c, kCounters, WorkCounter::lu, b.ci(1));
               auto err = b.var(b.c(1.0) / b.c(0.0));  // stays inf if the matrix is singular
               b.if_(lu_ok.get() == b.ci(1), [&] {
                 for (int st = 0; st < Tab::s; ++st) {
                   auto ks = w.k[st];
                   if (st == 0) {
                     for_states(b, n, [&](auto i) { ks[i] = w.f0[i]; });
                   } else {
                     for_states(b, n, [&](auto i) {
                       auto acc = b.var(typename B::Val(y[i]));
                       for (int j = 0; j < st; ++j)
                         if (Tab::A[st][j] != 0.0) acc = acc.get() + b.c(Tab::A[st][j]) * w.k[j][i];
                       w.u[i] = acc.get();
                     });
                     f_eval(b, c, t + b.c(Tab::c[st]) * hh, w.u, ks);
                   }
                   // r = f + h d ft + sum (C/h) k, scaled by h*gamma; then k = E^-1 (h gamma r).
                   const bool with_ft = time_dependent && Tab::d[st] != 0.0;
                   auto hd = hh * b.c(Tab::d[st]);
                   Val dtC[Tab::s];
                   for (int j = 0; j < st; ++j)
                     if (Tab::C[st][j] != 0.0) dtC[j] = b.c(Tab::C[st][j]) / hh;
                   for_states(b, n, [&](auto i) {
                     auto acc = b.var(typename B::Val(ks[i]));
                     if (with_ft) acc = acc.get() + hd * w.ft[i];
                     for (int j = 0; j < st; ++j)
                       if (Tab::C[st][j] != 0.0) acc = acc.get() + dtC[j] * w.k[j][i];
                     ks[i] = hg * acc.get();
                   });
                   lu_solve(b, n, w.E, w.piv, ks);
                 }
                 count_work(b, c, kCounters, WorkCounter::rhs, b.ci(Tab::s - 1));
                 // y_new = u_s + k_s; the error estimate is k_s.
                 auto kl = w.k[Tab::s - 1];
                 auto acc = b.var(b.c(0.0));
                 for_states(b, n, [&](auto i) {
                   Val yi = w.u[i] + kl[i];
                   y_new[i] = yi;
                   auto q = kl[i] / (atol + rtol * b.fmax(b.fabs(y[i]), b.fabs(yi)));
                   acc = acc.get() + q * q;
                 });
                 auto e = b.sqrt(acc.get() / b.c(static_cast<double>(n > 0 ? n : 1)));
                 err = b.select(b.land(all_finite(b, n, y_new), b.isfinite(e)), e, b.c(1.0) / b.c(0.0));
               });
               o.err = err.get();
               b.if_(
                   b.lnot(b.isfinite(err.get())),
                   [&] {
                     rejected = b.ci(1);
                     b.if_(hh <= min_step, fail, [&] { h = b.fmax(hh * min_factor, min_step); });
                   },
                   [&] {
                     b.if_(
                         err.get() <= b.c(1.0),
                         [&] {
                           o.t_prop = t + hh;
                           auto cap = b.select(rejected.get() != b.ci(0), b.c(1.0), max_factor);
                           auto fac = b.fmin(b.fmax(safety * b.pow(err.get(), b.c(expo)), min_factor), cap);
                           auto dn = b.select(err.get() == b.c(0.0), hh * cap, hh * fac);
                           o.dt_next = b.fmin(dn, dt_max);
                           done = b.ci(1);
                         },
                         [&] {
                           rejected = b.ci(1);
                           h = hh * b.fmax(min_factor, safety * b.pow(err.get(), b.c(expo)));
                           b.if_(h.get() < min_step, fail);
                         });
                   });
             });
    b.if_(done.get() == b.ci(0), [&] { o.status = b.ci(kSTEPFAIL); });
  }

  // After an accepted step (t, y0) -> (t + h, y1): keeps y0, y1 and kappa_j = sum_i H_ji k_i.
  template <class B>
  void dense_prepare(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val h, typename B::Arr y0,
                     typename B::Arr y1) const {
    (void)t;
    (void)h;
    Layout<B> w(b, c);
    for_states(b, c.n, [&](auto i) {
      w.y0[i] = typename B::Val(y0[i]);
      w.y1[i] = typename B::Val(y1[i]);
      for (int j = 0; j < Tab::dense_terms; ++j) {
        auto acc = b.var(b.c(0.0));
        for (int st = 0; st < Tab::s; ++st)
          if (Tab::H[j][st] != 0.0) acc = acc.get() + b.c(Tab::H[j][st]) * w.k[st][i];
        w.kappa[j][i] = acc.get();
      }
    });
  }

  // out = the interpolant at t + theta*h.
  template <class B>
  void dense_eval(B& b, const StepCtx<B>& c, typename B::Val theta, typename B::Arr out) const {
    Layout<B> w(b, c);
    auto one = b.c(1.0);
    auto th1 = one - theta;
    for_states(b, c.n, [&](auto i) {
      typename B::Val inner = w.kappa[Tab::dense_terms - 1][i];
      for (int j = Tab::dense_terms - 2; j >= 0; --j) inner = w.kappa[j][i] + theta * inner;
      out[i] = th1 * w.y0[i] + theta * (w.y1[i] + th1 * inner);
    });
  }
};

using StepRodas5P = StepRosenbrock<Rodas5PTableau>;
using StepRodas4 = StepRosenbrock<Rodas4Tableau>;

}  // namespace dynlib::kernels
