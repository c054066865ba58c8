// radau5: the 3-stage Radau IIA collocation method (order 5) of Hairer & Wanner, with an embedded
// order-3 error estimate, simplified Newton iterations in the eigenbasis of the Butcher matrix and the
// collocation polynomial as dense output.
//
// One step from (t, y) with step h solves for the stage increments Z = (Z1, Z2, Z3) (Y_i = y + Z_i at
// t + c_i h). The Newton iteration runs on W = TI Z, which decouples the 3n-dimensional system into
// one real n x n system with (gamma/h I - J) and one complex n x n system with ((alpha + i beta)/h I - J);
// both matrices are factorized once (LU with partial pivoting, the complex one on pairs of doubles)
// and reused over iterations, steps and Jacobians as long as h is unchanged.
//
// Control (as in the Fortran code):
//  * tolerances: internally rtol' = 0.1 rtol^(2/3), atol' = rtol' * atol/rtol (the embedded estimate is
//    of order 3; this maps the user's tolerance to it). rtol below 10 machine epsilons counts as 10 eps.
//  * Newton: converged when faccon * |dW| <= newton_stop_tol (0: max(10 eps/rtol', min(0.03, sqrt rtol'))),
//    faccon = Theta/(1 - Theta) from the observed contraction Theta; Theta >= 0.99, newton_max_iter
//    iterations or a non-finite value: h /= 2 and retry; a predicted slow convergence shrinks h first.
//  * error: err = |(gamma/h I - J)^-1 (f(t,y) + (e1 Z1 + e2 Z2 + e3 Z3)/h)|; if err >= 1 on the first
//    step or after a rejection, it is recomputed once with f(t, y + err vector) (filters stiff parts).
//  * step: quot = clamp(err^(1/4)/fac, 1/max_factor, 1/min_factor), fac = min(safety,
//    safety(1 + 2 nit)/(newt + 2 nit)); hnew = h/quot, with Gustafsson's predictive controller after
//    the first accepted step. Accepted when err < 1. An error above tolerance at min_step: STEPFAIL.
//  * reuse: after an accepted step with Theta <= jac_reuse_theta the Jacobian is kept; if moreover
//    hnew/h lies in [step_keep_low, step_keep_high], h is kept too, and with it both LUs. A rejection
//    recomputes the Jacobian unless it was computed in this step already.
//  * starting values: the previous step's collocation polynomial, extrapolated (zero on a (re)start).
//  * Jacobian: jacobian_mode external (1, the default) uses the exact Jacobian when the model has one
//    (its own or the symbolic one), else forward differences eps_j = jac_eps * max(1, |y_j|).
//
// Work counters: rhs includes the finite-difference columns; jac counts Jacobian evaluations; lu counts
// every factorization (the real and the complex one are two).
//
// Config (packed): atol, rtol, safety, min_factor, max_factor, max_tries, min_step, dt_max,
//   newton_max_iter, newton_stop_tol, jac_eps, jacobian_mode, jac_reuse_theta, step_keep_low, step_keep_high.
// Workspace (doubles), in this order:
//   J, E1, E2r, E2i (n*n each, row-major: Jacobian, real LU, complex LU real/imaginary parts),
//   z1 z2 z3 w1 w2 w3 f0 scal tmp ftmp (n each),
//   cont0 cont1 cont2 cont3 (n each: the collocation polynomial of the last accepted step, see dense_eval),
//   h_old, h_acc, err_acc, faccon, lu_h (5 scalars).
// Int workspace: [0] accepted steps since the (re)start (0: start afresh), [1..3] work counters (rhs, jac,
//   lu), [4] Jacobian must be recomputed (!= 0), [5] LUs valid for h = lu_h (== 1), [6, 6+n) real pivots,
//   [6+n, 6+2n) complex pivots. Pivots are range-checked before use (the workspace may come from a file).
// Sparse mode (large models with ModelIR::jacobian_sparse; chosen at code generation, kernels/sparse_lu.hpp):
//   J holds the nonzeros (SparseLu::jrow order) and E1, E2r, E2i the factor values (SparseLu::col order),
//   each followed by a work vector of n (ws_size_for); J by differences over column groups; no pivots.
#pragma once
#include <cmath>

#include "kernels/sparse_lu.hpp"
#include "kernels/stepper_common.hpp"

namespace dynlib::kernels {

namespace radau5_detail {

// Checked pivot row: ip[k] if it lies in [k, n), else k (no swap), so a corrupt value never indexes
// outside the matrix.
template <class B>
typename B::Int checked_pivot(B& b, typename B::IArr ip, typename B::Int k, typename B::Int n) {
  typename B::Int p = ip[k];
  return b.iselect(b.land(p >= k, p < n), p, k);
}

// LU factorization with partial pivoting of the row-major n x n matrix A in place (unit lower factor's
// multipliers below the diagonal, row interchanges applied to the columns k.. only). ip[k] = pivot row
// of column k. Returns 1, or 0 if a pivot is zero or not a number.
template <class B>
typename B::IVar lu_real(B& b, int n_, typename B::Arr A, typename B::IArr ip) {
  using Int = typename B::Int;
  const Int n = b.ci(n_);
  auto ok = b.ivar(b.ci(1));
  b.for_(b.ci(0), n, [&](Int k) {
    b.if_(ok.get() == b.ci(1), [&] {
      auto p = b.ivar(k);
      auto pmax = b.var(b.fabs(A[k * n + k]));
      b.for_(k + b.ci(1), n, [&](Int r) {
        auto v = b.fabs(A[r * n + k]);
        b.if_(v > pmax.get(), [&] {
          pmax = v;
          p = r;
        });
      });
      ip[k] = p.get();
      b.if_(
          b.lnot(pmax.get() > b.c(0.0)), [&] { ok = b.ci(0); },
          [&] {
            auto pr = p.get();
            b.if_(pr != k, [&] {
              b.for_(k, n, [&](Int j) {
                typename B::Val tmp = A[k * n + j];
                A[k * n + j] = A[pr * n + j];
                A[pr * n + j] = tmp;
              });
            });
            typename B::Val piv = A[k * n + k];
            b.for_(k + b.ci(1), n, [&](Int r) {
              auto l = A[r * n + k] / piv;
              A[r * n + k] = l;
              b.for_(k + b.ci(1), n, [&](Int j) { A[r * n + j] = A[r * n + j] - l * A[k * n + j]; });
            });
          });
    });
  });
  return ok;
}

// Solves A x = r with the factors of lu_real; x holds r on entry.
template <class B>
void lu_real_solve(B& b, int n_, typename B::Arr A, typename B::IArr ip, typename B::Arr x) {
  using Int = typename B::Int;
  const Int n = b.ci(n_);
  b.for_(b.ci(0), n, [&](Int k) {
    auto p = checked_pivot(b, ip, k, n);
    typename B::Val xp = x[p];
    x[p] = x[k];
    x[k] = xp;
    b.for_(k + b.ci(1), n, [&](Int r) { x[r] = x[r] - A[r * n + k] * xp; });
  });
  b.for_(b.ci(0), n, [&](Int kk) {
    auto k = n - b.ci(1) - kk;
    auto s = b.var(typename B::Val(x[k]));
    b.for_(k + b.ci(1), n, [&](Int j) { s = s.get() - A[k * n + j] * x[j]; });
    x[k] = s.get() / A[k * n + k];
  });
}

// The same for a complex matrix stored as real and imaginary parts (Ar, Ai); pivoting on |re| + |im|.
template <class B>
typename B::IVar lu_complex(B& b, int n_, typename B::Arr Ar, typename B::Arr Ai, typename B::IArr ip) {
  using Int = typename B::Int;
  using Val = typename B::Val;
  const Int n = b.ci(n_);
  auto ok = b.ivar(b.ci(1));
  b.for_(b.ci(0), n, [&](Int k) {
    b.if_(ok.get() == b.ci(1), [&] {
      auto p = b.ivar(k);
      auto pmax = b.var(b.fabs(Ar[k * n + k]) + b.fabs(Ai[k * n + k]));
      b.for_(k + b.ci(1), n, [&](Int r) {
        auto v = b.fabs(Ar[r * n + k]) + b.fabs(Ai[r * n + k]);
        b.if_(v > pmax.get(), [&] {
          pmax = v;
          p = r;
        });
      });
      ip[k] = p.get();
      b.if_(
          b.lnot(pmax.get() > b.c(0.0)), [&] { ok = b.ci(0); },
          [&] {
            auto pr = p.get();
            b.if_(pr != k, [&] {
              b.for_(k, n, [&](Int j) {
                Val tr = Ar[k * n + j];
                Val ti = Ai[k * n + j];
                Ar[k * n + j] = Ar[pr * n + j];
                Ai[k * n + j] = Ai[pr * n + j];
                Ar[pr * n + j] = tr;
                Ai[pr * n + j] = ti;
              });
            });
            Val qr = Ar[k * n + k];
            Val qi = Ai[k * n + k];
            auto den = qr * qr + qi * qi;
            b.for_(k + b.ci(1), n, [&](Int r) {
              Val ar = Ar[r * n + k];
              Val ai = Ai[r * n + k];
              auto lr = (ar * qr + ai * qi) / den;
              auto li = (ai * qr - ar * qi) / den;
              Ar[r * n + k] = lr;
              Ai[r * n + k] = li;
              b.for_(k + b.ci(1), n, [&](Int j) {
                Val ur = Ar[k * n + j];
                Val ui = Ai[k * n + j];
                Ar[r * n + j] = Ar[r * n + j] - (lr * ur - li * ui);
                Ai[r * n + j] = Ai[r * n + j] - (lr * ui + li * ur);
              });
            });
          });
    });
  });
  return ok;
}

// Solves (Ar + i Ai) (xr + i xi) = rhs with the factors of lu_complex; (xr, xi) hold the rhs on entry.
template <class B>
void lu_complex_solve(B& b, int n_, typename B::Arr Ar, typename B::Arr Ai, typename B::IArr ip,
                      typename B::Arr xr, typename B::Arr xi) {
  using Int = typename B::Int;
  using Val = typename B::Val;
  const Int n = b.ci(n_);
  b.for_(b.ci(0), n, [&](Int k) {
    auto p = checked_pivot(b, ip, k, n);
    Val pr = xr[p];
    Val pi = xi[p];
    xr[p] = xr[k];
    xi[p] = xi[k];
    xr[k] = pr;
    xi[k] = pi;
    b.for_(k + b.ci(1), n, [&](Int r) {
      Val lr = Ar[r * n + k];
      Val li = Ai[r * n + k];
      xr[r] = xr[r] - (lr * pr - li * pi);
      xi[r] = xi[r] - (lr * pi + li * pr);
    });
  });
  b.for_(b.ci(0), n, [&](Int kk) {
    auto k = n - b.ci(1) - kk;
    auto sr = b.var(Val(xr[k]));
    auto si = b.var(Val(xi[k]));
    b.for_(k + b.ci(1), n, [&](Int j) {
      Val ur = Ar[k * n + j];
      Val ui = Ai[k * n + j];
      Val vr = xr[j];
      Val vi = xi[j];
      sr = sr.get() - (ur * vr - ui * vi);
      si = si.get() - (ur * vi + ui * vr);
    });
    Val qr = Ar[k * n + k];
    Val qi = Ai[k * n + k];
    auto den = qr * qr + qi * qi;
    xr[k] = (sr.get() * qr + si.get() * qi) / den;
    xi[k] = (si.get() * qr - sr.get() * qi) / den;
  });
}

// Method constants (Hairer & Wanner's radau5.f, full precision there).
struct Consts {
  double c1, c2, c1m1, c2m1, c1mc2, dd1, dd2, dd3, u1, alph, beta;
  static Consts make() {
    const double sq6 = std::sqrt(6.0);
    Consts k{};
    k.c1 = (4.0 - sq6) / 10.0;
    k.c2 = (4.0 + sq6) / 10.0;
    k.c1m1 = k.c1 - 1.0;
    k.c2m1 = k.c2 - 1.0;
    k.c1mc2 = k.c1 - k.c2;
    k.dd1 = -(13.0 + 7.0 * sq6) / 3.0;
    k.dd2 = (-13.0 + 7.0 * sq6) / 3.0;
    k.dd3 = -1.0 / 3.0;
    const double r81 = std::pow(81.0, 1.0 / 3.0), r9 = std::pow(9.0, 1.0 / 3.0);
    const double u1 = (6.0 + r81 - r9) / 30.0;
    const double alph = (12.0 - r81 + r9) / 60.0;
    const double beta = (r81 + r9) * std::sqrt(3.0) / 60.0;
    const double cno = alph * alph + beta * beta;
    k.u1 = 1.0 / u1;  // the real eigenvalue of A^-1 (gamma)
    k.alph = alph / cno;
    k.beta = beta / cno;
    return k;
  }
};

// The transformation T (Z = T W) and its inverse TI, normalized as in radau5.f (T32 = 1, T33 = 0).
// These differ from SciPy's T/TI by a scaling of the complex pair; never mix the two sets.
constexpr double T11 = 9.1232394870892942792e-02, T12 = -0.14125529502095420843,
                 T13 = -3.0029194105147424492e-02;
constexpr double T21 = 0.24171793270710701896, T22 = 0.20412935229379993199, T23 = 0.38294211275726193779;
constexpr double T31 = 0.96604818261509293619;
constexpr double TI11 = 4.3255798900631553510, TI12 = 0.33919925181580986954, TI13 = 0.54177053993587487119;
constexpr double TI21 = -4.1787185915519047273, TI22 = -0.32768282076106238708, TI23 = 0.47662355450055045196;
constexpr double TI31 = -0.50287263494578687595, TI32 = 2.5719269498556054292, TI33 = -0.59603920482822492497;

constexpr double kEps = 2.220446049250313e-16;

}  // namespace radau5_detail

struct StepRadau5 {
  static constexpr bool kHistory = true;  // iws[0] = accepted steps since the (re)start
  static constexpr bool kDense = true;

  // Packed config indices.
  enum Cfg : int {
    kAtol = 0,
    kRtol,
    kSafety,
    kMinFactor,
    kMaxFactor,
    kMaxTries,
    kMinStep,
    kDtMax,
    kNewtonMaxIter,
    kNewtonStopTol,
    kJacEps,
    kJacMode,
    kJacReuseTheta,
    kStepKeepLow,
    kStepKeepHigh
  };
  // Int workspace.
  static constexpr int kSteps = 0, kCounters = 1, kNeedJac = 4, kLuValid = 5, kPivots = 6;
  // Double workspace: vectors after the four matrices, then the scalars (indices into Layout::s).
  static constexpr int kVectors = 14, kScalars = 5;
  static constexpr int kHOld = 0, kHAcc = 1, kErrAcc = 2, kFaccon = 3, kLuH = 4;

  template <class B>
  struct Layout {
    typename B::Arr J, E1, E2r, E2i, z1, z2, z3, w1, w2, w3, f0, scal, tmp, ftmp, cont0, cont1, cont2, cont3,
        s;
    typename B::IArr ip1, ip2;
    static Layout at(B& b, const StepCtx<B>& c) {
      const int n = c.n, nn = n * n;
      // sparse path: J holds its nonzeros, E1/E2r/E2i the factor values and a work vector of n each
      const ir::SparseLu* sp = sparse_plan_of(b.model(), n);
      const int nj = sp ? static_cast<int>(sp->nnz_jacobian()) : nn;
      const int ne = sp ? static_cast<int>(sp->nnz_factors()) + n : nn;
      const int v = nj + 3 * ne;
      Layout L;
      L.J = c.ws;
      L.E1 = b.offset(c.ws, nj);
      L.E2r = b.offset(c.ws, nj + ne);
      L.E2i = b.offset(c.ws, nj + 2 * ne);
      typename B::Arr* vec[kVectors] = {&L.z1,   &L.z2,  &L.z3,   &L.w1,    &L.w2,    &L.w3,    &L.f0,
                                        &L.scal, &L.tmp, &L.ftmp, &L.cont0, &L.cont1, &L.cont2, &L.cont3};
      for (int k = 0; k < kVectors; ++k) *vec[k] = b.offset(c.ws, v + k * n);
      L.s = b.offset(c.ws, v + kVectors * n);
      L.ip1 = b.offset(c.iws, kPivots);
      L.ip2 = b.offset(c.iws, kPivots + n);
      return L;
    }
  };
  static std::int64_t ws_size(std::int64_t n) { return 4 * n * n + kVectors * n + kScalars; }
  // Doubles of the workspace for model m (smaller on the sparse path).
  static std::int64_t ws_size_for(const ir::ModelIR& m) {
    const auto n = static_cast<std::int64_t>(m.n_states());
    const ir::SparseLu* sp = sparse_plan_of(m, static_cast<int>(n));
    return sp ? sp->nnz_jacobian() + 3 * (sp->nnz_factors() + n) + kVectors * n + kScalars : ws_size(n);
  }
  static std::int64_t iws_size(std::int64_t n) { return kPivots + 2 * n; }

  template <class B>
  void operator()(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val dt, typename B::Arr y,
                  typename B::Arr y_prop, StepOut<B>& o) const;

  // The collocation polynomial of the last accepted step (t, y0) -> (t + h, y1): cont0 = y1; cont1..3
  // were stored by the step itself.
  template <class B>
  void dense_prepare(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val h, typename B::Arr y0,
                     typename B::Arr y1) const {
    (void)t;
    (void)h;
    (void)y0;
    auto L = Layout<B>::at(b, c);
    for_states(b, c.n, [&](auto i) { L.cont0[i] = y1[i]; });
  }

  // out = u(t + theta*h): with s = theta - 1 (s = 0 at the step's end),
  // u = cont0 + s (cont1 + (s - c2 + 1)(cont2 + (s - c1 + 1) cont3)).
  template <class B>
  void dense_eval(B& b, const StepCtx<B>& c, typename B::Val theta, typename B::Arr out) const {
    const auto k = radau5_detail::Consts::make();
    auto L = Layout<B>::at(b, c);
    auto s = theta - b.c(1.0);
    auto a2 = s - b.c(k.c2m1), a1 = s - b.c(k.c1m1);
    for_states(b, c.n,
               [&](auto i) { out[i] = L.cont0[i] + s * (L.cont1[i] + a2 * (L.cont2[i] + a1 * L.cont3[i])); });
  }
};

template <class B>
void StepRadau5::operator()(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val dt,
                            typename B::Arr y, typename B::Arr y_prop, StepOut<B>& o) const {
  using namespace radau5_detail;
  using Int = typename B::Int;
  using Val = typename B::Val;
  const int n_ = c.n;
  const Int n = b.ci(n_);
  const auto k = Consts::make();
  auto L = Layout<B>::at(b, c);
  auto one = b.c(1.0), zero = b.c(0.0);

  // Settings and the transformed tolerances.
  Val rtol_user = b.fmax(c.cfg[kRtol], b.c(10.0 * kEps));
  Val atol_user = c.cfg[kAtol];
  auto rtol = b.c(0.1) * b.pow(rtol_user, b.c(2.0 / 3.0));
  auto atol = rtol * (atol_user / rtol_user);
  Val stop_tol_cfg = c.cfg[kNewtonStopTol];
  auto fnewt = b.select(stop_tol_cfg > zero, stop_tol_cfg,
                        b.fmax(b.c(10.0 * kEps) / rtol, b.fmin(b.c(0.03), b.sqrt(rtol))));
  auto nit = b.to_int(c.cfg[kNewtonMaxIter]);
  Val safe = c.cfg[kSafety];
  auto facl = one / c.cfg[kMinFactor];  // bound of h/hnew
  auto facr = one / c.cfg[kMaxFactor];
  Val thet = c.cfg[kJacReuseTheta];
  Val quot1 = c.cfg[kStepKeepLow], quot2 = c.cfg[kStepKeepHigh];
  Val min_step = c.cfg[kMinStep], dt_max = c.cfg[kDtMax];
  auto cfac = safe * (one + b.c(2.0) * b.to_val(nit));
  auto max_tries = b.to_int(c.cfg[kMaxTries]);
  auto ntries = b.iselect(max_tries < b.ci(1), b.ci(1), max_tries);
  auto counter = [&](WorkCounter w, Int amount) { count_work(b, c, kCounters, w, amount); };

  o.status = b.ci(kOK);
  o.t_prop = t;
  o.dt_next = dt;
  o.err = zero;
  auto done = b.ivar(b.ci(0));

  // A (re)start: no polynomial to extrapolate, no previous step for the predictive controller, and a
  // Jacobian from another state (or from a file): recompute it.
  b.if_(Int(c.iws[kSteps]) <= b.ci(0), [&] {
    c.iws[kSteps] = b.ci(0);
    c.iws[kNeedJac] = b.ci(1);
    L.s[kFaccon] = one;
  });
  const ir::SparseLu* sp = sparse_plan_of(b.model(), n_);
  // Pivots from a snapshot file may be out of range: then the LUs are recomputed. (The sparse path has
  // none: its order is a constant of the code.)
  if (!sp)
    b.if_(Int(c.iws[kLuValid]) == b.ci(1), [&] {
      b.for_(b.ci(0), n, [&](Int i) {
        Int p1 = L.ip1[i];
        Int p2 = L.ip2[i];
        auto bad = b.lor(b.lor(p1 < i, p1 >= n), b.lor(p2 < i, p2 >= n));
        b.if_(bad, [&] { c.iws[kLuValid] = b.ci(0); });
      });
    });

  f_eval(b, c, t, y, L.f0);
  counter(WorkCounter::rhs, b.ci(1));
  b.if_(b.lnot(all_finite(b, n_, L.f0)), [&] {
    o.status = b.ci(kSTEPFAIL);
    done = b.ci(1);
  });
  for_states(b, n_, [&](auto i) { L.scal[i] = atol + rtol * b.fabs(y[i]); });

  auto h = b.var(b.fmin(dt, dt_max));
  auto tries = b.ivar(b.ci(0));
  auto jac_fresh = b.ivar(b.ci(0));  // the Jacobian was computed at (t, y) in this call
  auto reject = b.ivar(b.ci(0));     // a try of this step was rejected

  // The Jacobian at (t, y) into J; returns ok (all entries finite).
  auto compute_jacobian = [&] {
    auto okj = b.ivar(b.ci(1));
    auto fd = [&] {
      Val jac_eps = c.cfg[kJacEps];
      for_states(b, n_, [&](auto i) { L.tmp[i] = y[i]; });
      b.for_(b.ci(0), n, [&](Int j) {
        Val yj = y[j];
        auto eps = jac_eps * b.fmax(one, b.fabs(yj));
        L.tmp[j] = yj + eps;
        f_eval(b, c, t, L.tmp, L.ftmp);
        L.tmp[j] = yj;
        b.for_(b.ci(0), n, [&](Int i) {
          auto d = (L.ftmp[i] - L.f0[i]) / eps;
          b.if_(b.lnot(b.isfinite(d)), [&] { okj = b.ci(0); });
          L.J[i * n + j] = d;
        });
      });
      counter(WorkCounter::rhs, n);
    };
    if (sp) {  // the nonzeros, by groups of columns that share no row
      const SparseArrays<B> a(b, *sp);
      Val jac_eps = c.cfg[kJacEps];
      for_states(b, n_, [&](auto i) { L.tmp[i] = y[i]; });
      b.for_(b.ci(0), b.ci(sp->n_groups()), [&](Int g) {
        Int lo = a.group_start[g], hi = a.group_start[g + b.ci(1)];
        b.for_(lo, hi, [&](Int q) {
          Int j = a.group_cols[q];
          Val yj = y[j];
          L.tmp[j] = yj + jac_eps * b.fmax(one, b.fabs(yj));
        });
        f_eval(b, c, t, L.tmp, L.ftmp);
        b.for_(lo, hi, [&](Int q) {
          Int j = a.group_cols[q];
          Val yj = y[j];
          auto eps = jac_eps * b.fmax(one, b.fabs(yj));
          L.tmp[j] = yj;
          b.for_(Int(a.jcol_start[j]), Int(a.jcol_start[j + b.ci(1)]), [&](Int e) {
            Int i = a.jrow[e];
            auto d = (L.ftmp[i] - L.f0[i]) / eps;
            b.if_(b.lnot(b.isfinite(d)), [&] { okj = b.ci(0); });
            L.J[e] = d;
          });
        });
      });
      counter(WorkCounter::rhs, b.ci(sp->n_groups()));
    } else if (b.has_model_jacobian()) {
      b.if_(
          c.cfg[kJacMode] == one,
          [&] {
            b.jacobian(t, y, L.J, c.params, c.lag_ring, c.lag_head);
            b.for_(b.ci(0), n * n, [&](Int q) { b.if_(b.lnot(b.isfinite(L.J[q])), [&] { okj = b.ci(0); }); });
          },
          fd);
    } else {
      fd();
    }
    counter(WorkCounter::jac, b.ci(1));
    return okj;
  };

  // E1 = gamma/h I - J and E2 = (alpha + i beta)/h I - J, factorized. Returns ok.
  auto factorize = [&](Val hh) {
    auto fac1 = b.c(k.u1) / hh, alphn = b.c(k.alph) / hh, betan = b.c(k.beta) / hh;
    if (sp) {
      const SparseArrays<B> a(b, *sp);
      const int nf = static_cast<int>(sp->nnz_factors());
      sparse_shifted_matrix(b, *sp, a, fac1, L.J, L.E1);
      sparse_shifted_matrix(b, *sp, a, alphn, L.J, L.E2r);
      b.for_(b.ci(0), b.ci(nf), [&](Int p) { L.E2i[p] = zero; });
      b.for_(b.ci(0), n, [&](Int q) { L.E2i[Int(a.diag[q])] = betan; });
      auto ok1 = lu_sparse_factor(b, *sp, a, L.E1, b.offset(L.E1, nf));
      auto ok2 = lu_sparse_factor_complex(b, *sp, a, L.E2r, L.E2i, b.offset(L.E2r, nf), b.offset(L.E2i, nf));
      counter(WorkCounter::lu, b.ci(2));
      auto okf = b.ivar(b.iselect(b.land(ok1.get() == b.ci(1), ok2.get() == b.ci(1)), b.ci(1), b.ci(0)));
      c.iws[kLuValid] = okf.get();
      L.s[kLuH] = hh;
      return okf;
    }
    b.for_(b.ci(0), n, [&](Int i) {
      b.for_(b.ci(0), n, [&](Int j) {
        Val jij = L.J[i * n + j];
        auto mj = -jij;
        auto diag = i == j;
        L.E1[i * n + j] = b.select(diag, mj + fac1, mj);
        L.E2r[i * n + j] = b.select(diag, mj + alphn, mj);
        L.E2i[i * n + j] = b.select(diag, betan, zero);
      });
    });
    auto ok1 = lu_real(b, n_, L.E1, L.ip1);
    auto ok2 = lu_complex(b, n_, L.E2r, L.E2i, L.ip2);
    counter(WorkCounter::lu, b.ci(2));
    auto okf = b.ivar(b.iselect(b.land(ok1.get() == b.ci(1), ok2.get() == b.ci(1)), b.ci(1), b.ci(0)));
    c.iws[kLuValid] = okf.get();
    L.s[kLuH] = hh;
    return okf;
  };

  // Solves with the factors of factorize (dense or sparse).
  auto solve_real = [&](typename B::Arr x) {
    if (sp) {
      const SparseArrays<B> a(b, *sp);
      lu_sparse_solve(b, *sp, a, L.E1, x, b.offset(L.E1, static_cast<int>(sp->nnz_factors())));
    } else {
      lu_real_solve(b, n_, L.E1, L.ip1, x);
    }
  };
  auto solve_complex = [&](typename B::Arr xr, typename B::Arr xi) {
    if (sp) {
      const SparseArrays<B> a(b, *sp);
      const int nf = static_cast<int>(sp->nnz_factors());
      lu_sparse_solve_complex(b, *sp, a, L.E2r, L.E2i, xr, xi, b.offset(L.E2r, nf), b.offset(L.E2i, nf));
    } else {
      lu_complex_solve(b, n_, L.E2r, L.E2i, L.ip2, xr, xi);
    }
  };

  // A failed try (singular matrix, Newton divergence, non-finite values): retry with h_next, or fail at
  // min_step. The Jacobian is recomputed unless it is already the one at (t, y).
  auto retry = [&](Val hh, Val h_next) {
    reject = b.ci(1);
    b.if_(jac_fresh.get() == b.ci(0), [&] { c.iws[kNeedJac] = b.ci(1); });
    b.if_(
        hh <= min_step,
        [&] {
          o.status = b.ci(kSTEPFAIL);
          done = b.ci(1);
        },
        [&] { h = b.fmax(h_next, min_step); });
  };

  b.while_(
      [&] { return b.land(done.get() == b.ci(0), tries.get() < ntries); },
      [&] {
        tries = tries.get() + b.ci(1);
        Val hh = h.get();
        auto ok = b.ivar(b.ci(1));
        b.if_(Int(c.iws[kNeedJac]) != b.ci(0), [&] {
          auto okj = compute_jacobian();
          jac_fresh = b.ci(1);
          c.iws[kNeedJac] = b.ci(0);
          c.iws[kLuValid] = b.ci(0);
          ok = okj.get();
        });
        b.if_(b.land(ok.get() == b.ci(1), b.lor(Int(c.iws[kLuValid]) != b.ci(1), Val(L.s[kLuH]) != hh)), [&] {
          auto okf = factorize(hh);
          ok = okf.get();
        });

        // ---- simplified Newton iteration on W = TI Z ----
        auto fac1 = b.c(k.u1) / hh, alphn = b.c(k.alph) / hh, betan = b.c(k.beta) / hh;
        auto newt = b.ivar(b.ci(0));
        auto conv = b.ivar(b.ci(0));
        auto slow = b.ivar(b.ci(0));  // slow convergence predicted: h was reduced
        auto theta = b.var(b.fabs(thet));
        auto h_slow = b.var(hh);
        b.if_(ok.get() == b.ci(1), [&] {
          // starting values
          b.if_(
              Int(c.iws[kSteps]) == b.ci(0),
              [&] {
                for_states(b, n_, [&](auto i) {
                  L.z1[i] = zero;
                  L.z2[i] = zero;
                  L.z3[i] = zero;
                  L.w1[i] = zero;
                  L.w2[i] = zero;
                  L.w3[i] = zero;
                });
              },
              [&] {
                auto c3q = hh / L.s[kHOld];
                auto c1q = b.c(k.c1) * c3q, c2q = b.c(k.c2) * c3q;
                for_states(b, n_, [&](auto i) {
                  Val ak1 = L.cont1[i];
                  Val ak2 = L.cont2[i];
                  Val ak3 = L.cont3[i];
                  auto z1i = c1q * (ak1 + (c1q - b.c(k.c2m1)) * (ak2 + (c1q - b.c(k.c1m1)) * ak3));
                  auto z2i = c2q * (ak1 + (c2q - b.c(k.c2m1)) * (ak2 + (c2q - b.c(k.c1m1)) * ak3));
                  auto z3i = c3q * (ak1 + (c3q - b.c(k.c2m1)) * (ak2 + (c3q - b.c(k.c1m1)) * ak3));
                  L.z1[i] = z1i;
                  L.z2[i] = z2i;
                  L.z3[i] = z3i;
                  L.w1[i] = b.c(TI11) * z1i + b.c(TI12) * z2i + b.c(TI13) * z3i;
                  L.w2[i] = b.c(TI21) * z1i + b.c(TI22) * z2i + b.c(TI23) * z3i;
                  L.w3[i] = b.c(TI31) * z1i + b.c(TI32) * z2i + b.c(TI33) * z3i;
                });
              });
          L.s[kFaccon] = b.pow(b.fmax(Val(L.s[kFaccon]), b.c(kEps)), b.c(0.8));
          auto dynold = b.var(one);
          auto thqold = b.var(one);
          b.while_(
              [&] {
                return b.land(b.land(ok.get() == b.ci(1), conv.get() == b.ci(0)), slow.get() == b.ci(0));
              },
              [&] {
                b.if_(
                    newt.get() >= nit, [&] { ok = b.ci(0); },
                    [&] {
                      // f at the three stages, then the transformed residuals
                      for_states(b, n_, [&](auto i) { L.tmp[i] = y[i] + L.z1[i]; });
                      f_eval(b, c, t + b.c(k.c1) * hh, L.tmp, L.z1);
                      for_states(b, n_, [&](auto i) { L.tmp[i] = y[i] + L.z2[i]; });
                      f_eval(b, c, t + b.c(k.c2) * hh, L.tmp, L.z2);
                      for_states(b, n_, [&](auto i) { L.tmp[i] = y[i] + L.z3[i]; });
                      f_eval(b, c, t + hh, L.tmp, L.z3);
                      counter(WorkCounter::rhs, b.ci(3));
                      for_states(b, n_, [&](auto i) {
                        Val a1 = L.z1[i];
                        Val a2 = L.z2[i];
                        Val a3 = L.z3[i];
                        Val w2i = L.w2[i];
                        Val w3i = L.w3[i];
                        auto s2 = -w2i, s3 = -w3i;
                        L.z1[i] = b.c(TI11) * a1 + b.c(TI12) * a2 + b.c(TI13) * a3 - L.w1[i] * fac1;
                        L.z2[i] = b.c(TI21) * a1 + b.c(TI22) * a2 + b.c(TI23) * a3 + s2 * alphn - s3 * betan;
                        L.z3[i] = b.c(TI31) * a1 + b.c(TI32) * a2 + b.c(TI33) * a3 + s3 * alphn + s2 * betan;
                      });
                      solve_real(L.z1);
                      solve_complex(L.z2, L.z3);
                      newt = newt.get() + b.ci(1);
                      auto acc = b.var(zero);
                      for_states(b, n_, [&](auto i) {
                        Val d = L.scal[i];
                        auto q1 = L.z1[i] / d, q2 = L.z2[i] / d, q3 = L.z3[i] / d;
                        acc = acc.get() + q1 * q1 + q2 * q2 + q3 * q3;
                      });
                      auto dyno = b.sqrt(acc.get() / b.c(3.0 * (n_ > 0 ? n_ : 1)));
                      b.if_(b.lnot(b.isfinite(dyno)), [&] { ok = b.ci(0); });
                      // contraction rate and the predicted convergence
                      b.if_(b.land(ok.get() == b.ci(1), b.land(newt.get() > b.ci(1), newt.get() < nit)), [&] {
                        auto thq = dyno / dynold.get();
                        theta = b.select(newt.get() == b.ci(2), thq, b.sqrt(thq * thqold.get()));
                        thqold = thq;
                        b.if_(
                            theta.get() < b.c(0.99),
                            [&] {
                              auto th = theta.get();
                              L.s[kFaccon] = th / (one - th);
                              auto left = nit - b.ci(1) - newt.get();
                              auto dyth = L.s[kFaccon] * dyno * b.pow(th, b.to_val(left)) / fnewt;
                              b.if_(dyth >= one, [&] {
                                auto qnewt = b.fmax(b.c(1.0e-4), b.fmin(b.c(20.0), dyth));
                                auto hhfac = b.c(0.8) * b.pow(qnewt, -one / (b.c(4.0) + b.to_val(left)));
                                h_slow = hhfac * hh;
                                slow = b.ci(1);
                              });
                            },
                            [&] { ok = b.ci(0); });
                      });
                      b.if_(b.land(ok.get() == b.ci(1), slow.get() == b.ci(0)), [&] {
                        dynold = b.fmax(dyno, b.c(kEps));
                        for_states(b, n_, [&](auto i) {
                          Val f1i = L.w1[i] + L.z1[i];
                          Val f2i = L.w2[i] + L.z2[i];
                          Val f3i = L.w3[i] + L.z3[i];
                          L.w1[i] = f1i;
                          L.w2[i] = f2i;
                          L.w3[i] = f3i;
                          L.z1[i] = b.c(T11) * f1i + b.c(T12) * f2i + b.c(T13) * f3i;
                          L.z2[i] = b.c(T21) * f1i + b.c(T22) * f2i + b.c(T23) * f3i;
                          L.z3[i] = b.c(T31) * f1i + f2i;
                        });
                        b.if_(b.lnot(Val(L.s[kFaccon]) * dyno > fnewt), [&] { conv = b.ci(1); });
                      });
                    });
              });
        });

        b.if_(
            ok.get() == b.ci(0), [&] { retry(hh, b.c(0.5) * hh); },
            [&] {
              b.if_(
                  slow.get() == b.ci(1), [&] { retry(hh, h_slow.get()); },
                  [&] {
                    // ---- error estimate ----
                    auto hee1 = b.c(k.dd1) / hh, hee2 = b.c(k.dd2) / hh, hee3 = b.c(k.dd3) / hh;
                    for_states(b, n_, [&](auto i) {
                      Val f2i = hee1 * L.z1[i] + hee2 * L.z2[i] + hee3 * L.z3[i];
                      L.w2[i] = f2i;
                      L.tmp[i] = f2i + L.f0[i];
                    });
                    solve_real(L.tmp);
                    auto scaled_norm = [&] {
                      auto acc = b.var(zero);
                      for_states(b, n_, [&](auto i) {
                        auto q = L.tmp[i] / L.scal[i];
                        acc = acc.get() + q * q;
                      });
                      return b.fmax(b.sqrt(acc.get() / b.c(static_cast<double>(n_ > 0 ? n_ : 1))),
                                    b.c(1e-10));
                    };
                    auto err = b.var(scaled_norm());
                    b.if_(b.land(b.lnot(err.get() < one),
                                 b.lor(Int(c.iws[kSteps]) == b.ci(0), reject.get() == b.ci(1))),
                          [&] {
                            for_states(b, n_, [&](auto i) { L.tmp[i] = y[i] + L.tmp[i]; });
                            f_eval(b, c, t, L.tmp, L.w1);
                            counter(WorkCounter::rhs, b.ci(1));
                            for_states(b, n_, [&](auto i) { L.tmp[i] = L.w1[i] + L.w2[i]; });
                            solve_real(L.tmp);
                            err = scaled_norm();
                          });
                    o.err = err.get();
                    b.if_(
                        b.lnot(b.isfinite(err.get())), [&] { retry(hh, b.c(0.5) * hh); },
                        [&] {
                          auto e = err.get();
                          auto fac = b.fmin(safe, cfac / b.to_val(newt.get() + b.ci(2) * nit));
                          auto quot = b.var(b.fmax(facr, b.fmin(facl, b.pow(e, b.c(0.25)) / fac)));
                          b.if_(
                              e < one,
                              [&] {
                                // accepted
                                b.if_(Int(c.iws[kSteps]) >= b.ci(1), [&] {
                                  // Gustafsson's predictive controller
                                  auto facgus =
                                      (Val(L.s[kHAcc]) / hh) * b.pow(e * e / L.s[kErrAcc], b.c(0.25)) / safe;
                                  facgus = b.fmax(facr, b.fmin(facl, facgus));
                                  quot = b.fmax(quot.get(), facgus);
                                });
                                L.s[kHAcc] = hh;
                                L.s[kErrAcc] = b.fmax(b.c(1.0e-2), e);
                                L.s[kHOld] = hh;
                                for_states(b, n_, [&](auto i) {
                                  Val z1i = L.z1[i];
                                  Val z2i = L.z2[i];
                                  Val z3i = L.z3[i];
                                  y_prop[i] = y[i] + z3i;
                                  Val ct1 = (z2i - z3i) / b.c(k.c2m1);
                                  auto ak = (z1i - z2i) / b.c(k.c1mc2);
                                  auto acont3 = (ak - z1i / b.c(k.c1)) / b.c(k.c2);
                                  Val ct2 = (ak - ct1) / b.c(k.c1m1);
                                  L.cont1[i] = ct1;
                                  L.cont2[i] = ct2;
                                  L.cont3[i] = ct2 - acont3;
                                });
                                auto hnew = b.fmin(hh / quot.get(), dt_max);
                                hnew = b.select(reject.get() == b.ci(1), b.fmin(hnew, hh), hnew);
                                auto qt = hnew / hh;
                                auto jac_ok = theta.get() <= thet;
                                auto keep = b.land(jac_ok, b.land(qt >= quot1, qt <= quot2));
                                o.dt_next = b.select(keep, hh, hnew);
                                c.iws[kNeedJac] = b.iselect(jac_ok, b.ci(0), b.ci(1));
                                c.iws[kSteps] = Int(c.iws[kSteps]) + b.ci(1);
                                o.t_prop = t + hh;
                                done = b.ci(1);
                              },
                              [&] {
                                // rejected: an error above tolerance is never accepted
                                auto h_next =
                                    b.select(Int(c.iws[kSteps]) == b.ci(0), b.c(0.1) * hh, hh / quot.get());
                                retry(hh, h_next);
                              });
                        });
                  });
            });
      });
  b.if_(done.get() == b.ci(0), [&] { o.status = b.ci(kSTEPFAIL); });
}

}  // namespace dynlib::kernels
