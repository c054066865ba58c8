// Newton machinery shared by sdirk2, bdf2, bdf2a and tr-bdf2a.
// Solves  G(Y) = Y - base - hf * f(tn, Y) = 0.
//  * iteration matrix M = I - hf * df/dy: external (jacobian_mode == 1 and an exact Jacobian exists:
//    the model's [equations.jacobian], else the symbolic one, ModelIR::exact_jacobian()): M = -hf*J,
//    M_ii += 1; otherwise forward differences
//    with eps_j = jac_eps * max(1, |Y_j|). A non-finite column/entry fails the solve.
//  * linear solve by Gaussian elimination with partial pivoting (linalg.hpp).
//  * convergence: max|r| <= tol*max(1, max_scale) and max_i |d_i|/max(1,|Y_i|) <= tol, where r is the
//    residual before the update, max_scale = max(|Y|, |base|) and d the update.
//  * modified Newton (M frozen at the initial guess) or full Newton (M rebuilt every iteration).
//  * work counters (NewtonCfg::work_at >= 0, stepper_common.hpp): every f evaluation is an rhs eval (an
//    FD iteration matrix adds n), every iteration matrix (FD or exact) a jac eval, every linear solve
//    (a fresh Gaussian elimination) an LU factorization.
#pragma once
#include "kernels/linalg.hpp"
#include "kernels/stepper_common.hpp"

namespace dynlib::kernels {

// Scratch used by the Newton solver: 5 vectors + 2 matrices = 5n + 2n^2 doubles.
template <class B>
struct NewtonWS {
  typename B::Arr f_val, f_tmp, x, y_tmp, base, M, M_base;
  static constexpr int vectors = 5;
  static NewtonWS at(B& b, typename B::Arr ws, int n) {
    return {ws,
            b.offset(ws, n),
            b.offset(ws, 2 * n),
            b.offset(ws, 3 * n),
            b.offset(ws, 4 * n),
            b.offset(ws, 5 * n),
            b.offset(ws, 5 * n + n * n)};
  }
  static int size(int n) { return 5 * n + 2 * n * n; }
};

struct NewtonCfg {
  int tol = 0, max_iter = 1, jac_eps = 2, jac_mode = 3;  // indices into the packed config
  int work_at = -1;  // iws index of the stepper's work counters; -1: not counted
};

// count_work when the stepper counts its work (k.work_at >= 0).
template <class B>
void count_newton_work(B& b, const StepCtx<B>& c, const NewtonCfg& k, WorkCounter which,
                       std::int64_t amount) {
  if (k.work_at >= 0) count_work(b, c, k.work_at, which, b.ci(amount));
}

// Builds M = I - hf*J at (tn, Y) into `M`; f0 = f(tn, Y) must already be in nw.f_val. Returns ok.
template <class B>
typename B::IVar build_iteration_matrix(B& b, const StepCtx<B>& c, const NewtonWS<B>& nw, const NewtonCfg& k,
                                        typename B::Val tn, typename B::Val hf, typename B::Arr Y,
                                        typename B::Arr M) {
  using Int = typename B::Int;
  const int n_ = c.n;
  const Int n = b.ci(n_);
  auto ok = b.ivar(b.ci(1));
  count_newton_work(b, c, k, WorkCounter::jac, 1);
  auto fd = [&] {
    count_newton_work(b, c, k, WorkCounter::rhs, n_);  // one f per column
    auto jac_eps = c.cfg[k.jac_eps];
    for (int i = 0; i < n_; ++i) nw.y_tmp[i] = Y[i];
    b.for_(b.ci(0), n, [&](Int j) {
      typename B::Val yj = Y[j];
      auto eps = jac_eps * b.fmax(b.c(1.0), b.fabs(yj));
      nw.y_tmp[j] = yj + eps;
      f_eval(b, c, tn, nw.y_tmp, nw.f_tmp);
      nw.y_tmp[j] = yj;
      b.for_(b.ci(0), n, [&](Int i) {
        auto d = (nw.f_tmp[i] - nw.f_val[i]) / eps;
        b.if_(b.lnot(b.isfinite(d)), [&] { ok = b.ci(0); });
        auto mij = -hf * d;
        M[i * n + j] = b.select(i == j, mij + b.c(1.0), mij);
      });
    });
  };
  if (b.has_model_jacobian()) {
    b.if_(
        c.cfg[k.jac_mode] == b.c(1.0),
        [&] {
          b.jacobian(tn, Y, M, c.params, c.lag_ring, c.lag_head);
          b.for_(b.ci(0), n, [&](Int i) {
            b.for_(b.ci(0), n, [&](Int j) {
              auto mij = -hf * M[i * n + j];
              b.if_(b.lnot(b.isfinite(mij)), [&] { ok = b.ci(0); });
              M[i * n + j] = b.select(i == j, mij + b.c(1.0), mij);
            });
          });
        },
        fd);
  } else {
    fd();
  }
  return ok;
}

// Newton solve of Y - base - hf*f(tn,Y) = 0. Y holds the guess on entry, the solution on success.
// nw.base must hold `base`. Returns ok (1) / failed (0).
template <class B>
typename B::IVar newton_solve(B& b, const StepCtx<B>& c, const NewtonWS<B>& nw, const NewtonCfg& k,
                              typename B::Val tn, typename B::Val hf, typename B::Arr Y, bool modified) {
  using Int = typename B::Int;
  const int n_ = c.n;
  const Int n = b.ci(n_);
  auto tol = c.cfg[k.tol];
  auto max_iter = b.to_int(c.cfg[k.max_iter]);
  auto ok = b.ivar(b.ci(1));
  auto conv = b.ivar(b.ci(0));
  auto it = b.ivar(b.ci(0));
  if (modified) {
    f_eval(b, c, tn, Y, nw.f_val);
    count_newton_work(b, c, k, WorkCounter::rhs, 1);
    b.if_(b.lnot(all_finite(b, n_, nw.f_val)), [&] { ok = b.ci(0); });
    b.if_(ok.get() == b.ci(1), [&] {
      auto okm = build_iteration_matrix(b, c, nw, k, tn, hf, Y, nw.M_base);
      ok = okm.get();
    });
  }
  b.while_([&] { return b.land(b.land(ok.get() == b.ci(1), conv.get() == b.ci(0)), it.get() < max_iter); },
           [&] {
             it = it.get() + b.ci(1);
             f_eval(b, c, tn, Y, nw.f_val);
             count_newton_work(b, c, k, WorkCounter::rhs, 1);
             auto rmax = b.c(0.0);
             auto scale = b.c(0.0);
             auto fin = b.ctrue();
             for (int i = 0; i < n_; ++i) {
               auto r = Y[i] - nw.base[i] - hf * nw.f_val[i];
               fin = b.land(fin, b.isfinite(r));
               rmax = b.fmax(rmax, b.fabs(r));
               scale = b.fmax(scale, b.fmax(b.fabs(Y[i]), b.fabs(nw.base[i])));
               nw.x[i] = -r;
             }
             b.if_(b.lnot(fin), [&] { ok = b.ci(0); });
             b.if_(ok.get() == b.ci(1), [&] {
               if (modified) {
                 b.for_(b.ci(0), n * n, [&](Int q) { nw.M[q] = nw.M_base[q]; });
               } else {
                 auto okm = build_iteration_matrix(b, c, nw, k, tn, hf, Y, nw.M);
                 ok = okm.get();
               }
             });
             b.if_(ok.get() == b.ci(1), [&] {
               count_newton_work(b, c, k, WorkCounter::lu, 1);
               auto oks = gauss_solve(b, n_, nw.M, nw.x);
               ok = oks.get();
             });
             b.if_(ok.get() == b.ci(1), [&] {
               auto dmax = b.c(0.0);
               for (int i = 0; i < n_; ++i) {
                 dmax = b.fmax(dmax, b.fabs(nw.x[i]) / b.fmax(b.c(1.0), b.fabs(Y[i])));
                 Y[i] = Y[i] + nw.x[i];
               }
               b.if_(b.land(rmax <= tol * b.fmax(b.c(1.0), scale), dmax <= tol), [&] { conv = b.ci(1); });
             });
           });
  b.if_(conv.get() == b.ci(0), [&] { ok = b.ci(0); });
  return ok;
}

}  // namespace dynlib::kernels
