// bdf: variable-order (1..5), variable-step BDF for stiff systems, in the quasi-constant step form
// with the numerical differentiation formulas (NDF) of Shampine and Reichelt (as in SciPy's BDF).
//
// The solution history is a backward-difference array D (rows 0..7, each n): D[0] = y_n, D[j] the
// j-th backward difference of the interpolating polynomial on the grid t_n, t_n - h, t_n - 2h, ...
// A step of order k:
//   predict  y_p = sum_{j<=k} D[j];  psi = sum_{1<=j<=k} gamma_j D[j] / alpha_k;  c = h / alpha_k
//   solve    (y - y_p) + psi = c f(t + h, y) by modified Newton with M = I - c J (LU kept and reused)
//   error    err = error_const_k * ||d||, d = y - y_p (RMS norm, scale atol + rtol |y|)
//   update   D[k+2] = d - D[k+1], D[k+1] = d, D[j] += D[j+1] for j = k..0
// A change of h by a factor r re-expresses D on the new grid (change_differences). After k+1 steps of
// equal size the order k-1, k or k+1 with the largest admissible step is chosen, and the step grows by
// at most 10x. J is re-evaluated only when Newton fails with a stale J (then the step is halved if it
// fails again); the LU is redone whenever h or J changes, except after an error-test failure, where the
// old factorization (for the previous h) is kept: modified Newton still converges with it.
// The first step (and the first after a restart) is order 1 with a step estimated from f, at most dt.
//
// Workspace (doubles): D (8n) | J (n^2) | LU (n^2) | y_pred, psi, y_new, d, f, dy, scale, y_tmp, f_tmp
// (9n) | h (the step D is scaled for), dense t, dense h (3).
// Int workspace: [0] steps in the history (0: restart from the current state), [1..3] work counters
// (rhs, jac, lu), [4] order, [5] steps taken with the current h and order, [6] LU valid, [7] J valid,
// [8..8+n) LU pivots. Everything read back from the workspace is range-checked first (it may come
// from a snapshot file): an invalid order or step restarts the method, invalid pivots refactor.
// Band mode (large models whose Jacobian is banded, kernels/band_lu.hpp use_band; chosen at code
// generation): J holds the band only, row i at J[i*(ml+mu+1) + (j - i + ml)], and LU the band factors
// (band_lu.hpp storage, band_lu_size); both fit in the n^2 slots of the dense layout. Finite
// differences then perturb every (ml+mu+1)-th column together (columns in one group share no row):
// ml+mu+2 rhs evaluations per J.
// Sparse mode (large models whose Jacobian is sparse but not banded, ModelIR::jacobian_sparse; chosen
// at code generation, kernels/sparse_lu.hpp): J holds the nonzeros (SparseLu::jrow order), LU the
// factors (SparseLu::col order) followed by a work vector of n, each region only that long (the
// workspace then takes ws_size_for(model) doubles, not n^2); finite differences perturb the groups of
// columns that share no row together (n_groups + 1 rhs evaluations per J); no pivots are stored.
// Config: atol, rtol, max_order, min_step, dt_max, max_tries, newton_max_iter, jac_eps, jacobian_mode.
#pragma once
#include <array>
#include <cmath>

#include "kernels/band_lu.hpp"
#include "kernels/linalg.hpp"
#include "kernels/sparse_lu.hpp"
#include "kernels/stepper_common.hpp"

namespace dynlib::kernels {

struct StepBDF {
  static constexpr bool kHistory = true;  // iws[0] = steps in the history; 0 = restart at order 1
  static constexpr bool kDense = true;
  static constexpr int kMaxOrder = 5;
  static constexpr int kRows = kMaxOrder + 3;
  static constexpr int kCounters = 1;  // iws index of the work counters
  enum Cfg : int {
    atol_i,
    rtol_i,
    max_order_i,
    min_step_i,
    dt_max_i,
    max_tries_i,
    newton_iter_i,
    jac_eps_i,
    jac_mode_i
  };
  enum IWs : int { hist_i = 0, order_i = 4, n_equal_i = 5, lu_valid_i = 6, jac_valid_i = 7, piv_i = 8 };

  static std::int64_t ws_size(std::int64_t n) { return (kRows + 9) * n + 2 * n * n + 3; }
  static std::int64_t iws_size(std::int64_t n) { return piv_i + n; }

  // The next step aims at a local error of 1/12 of the tolerance (1/20 for a raised order, whose
  // estimate from the highest difference is the least reliable), and not at 0.9^(k+1) (SciPy). Why: the
  // estimate is asymptotic and the fast transitions of relaxation oscillators (Oregonator, Van der Pol)
  // exceed it; their global error is the sum of many such local errors. Measured end errors, OREGO and
  // Van der Pol (mu = 1000), in tolerances at rtol = atol = 1e-8 / 1e-9 / 1e-10:
  //   aim 0.9^(k+1):  144 and 175 at 1e-8
  //   aim 1/6 (1/10): 56 / 80 / 132 and 88 / 125 / 110  (CVODE's biases; too much at tight tolerances)
  //   aim 1/12 (1/20): 33 / 49 / 75 and 45 / 54 / 58, for about 10% more steps than 1/6 and 1% more
  //   rhs evaluations (fewer rejected steps and Newton failures).
  // A plain BDF (kappa = 0) or a tighter Newton tolerance changed the error by less than 10-30%.
  static constexpr double kBiasLower = 12.0, kBiasSame = 12.0, kBiasHigher = 20.0;

  // NDF coefficients: kappa_k, gamma_k = sum_{j<=k} 1/j, alpha_k = (1 - kappa_k) gamma_k,
  // error_const_k = kappa_k gamma_k + 1/(k+1). Index 0 unused.
  static constexpr std::array<double, 7> kKappa{0.0, -0.1850, -1.0 / 9.0, -0.0823, -0.0415, 0.0, 0.0};
  static constexpr double gamma(int k) {
    double g = 0.0;
    for (int j = 1; j <= k; ++j) g += 1.0 / j;
    return g;
  }
  static constexpr double alpha(int k) { return (1.0 - kKappa[k]) * gamma(k); }
  static constexpr double error_const(int k) { return kKappa[k] * gamma(k) + 1.0 / (k + 1); }

  template <class B>
  struct Layout {
    typename B::Arr D, J, LU, yp, psi, Y, d, f, dy, scl, ytmp, ftmp, sc;
    typename B::IArr piv;
    Layout(B& b, const StepCtx<B>& c) {
      const int n = c.n;
      const ir::SparseLu* sp = sparse_plan(b.model(), n);
      int at = 0;
      auto next = [&](int len) {
        auto a = b.offset(c.ws, at);
        at += len;
        return a;
      };
      D = next(kRows * n);
      J = next(sp ? static_cast<int>(sp->nnz_jacobian()) : n * n);
      LU = next(sp ? static_cast<int>(sp->nnz_factors()) + n : n * n);
      yp = next(n), psi = next(n), Y = next(n), d = next(n), f = next(n), dy = next(n), scl = next(n);
      ytmp = next(n), ftmp = next(n), sc = next(3);
      piv = b.offset(c.iws, piv_i);
    }
  };

  // table[k] for a runtime k in 1..kMaxOrder (callers keep k in range).
  template <class B>
  static typename B::Val pick(B& b, typename B::Int k, double (*table)(int)) {
    auto v = b.c(table(kMaxOrder));
    for (int j = kMaxOrder - 1; j >= 1; --j) v = b.select(k == b.ci(j), b.c(table(j)), v);
    return v;
  }

  // Row `row` (runtime) component s of D.
  template <class B>
  static typename B::Int at(B& b, int n, typename B::Int row, typename B::Int s) {
    return row * b.ci(n) + s;
  }

  // sqrt(mean((v_i / scale_i)^2))
  template <class B>
  static typename B::Val rms(B& b, int n, typename B::Arr v, typename B::Int v_at, typename B::Arr scl) {
    using Int = typename B::Int;
    auto acc = b.var(b.c(0.0));
    b.for_(b.ci(0), b.ci(n), [&](Int s) {
      auto q = v[v_at + s] / scl[s];
      acc = acc.get() + q * q;
    });
    return b.sqrt(acc.get() / b.c(static_cast<double>(n > 0 ? n : 1)));
  }

  // Re-expresses D[0..order] (an interpolating polynomial on the grid of step h) on the grid of step
  // factor*h: D <- (R U)^T D with R_ij = prod_{l<=i} (l - 1 - factor j) / l and U = R at factor 1.
  template <class B>
  static void change_differences(B& b, int n, typename B::Arr D, typename B::Int order,
                                 typename B::Val factor) {
    using Val = typename B::Val;
    using Int = typename B::Int;
    constexpr int K = kMaxOrder + 1;
    std::array<std::array<double, K>, K> U{};
    std::array<std::array<Val, K>, K> R{}, RU{};
    for (int j = 0; j < K; ++j) {
      U[0][j] = 1.0;
      R[0][j] = b.c(1.0);
    }
    for (int i = 1; i < K; ++i)
      for (int j = 0; j < K; ++j) {
        U[i][j] = U[i - 1][j] * ((i - 1.0 - j) / i);
        R[i][j] = R[i - 1][j] * ((b.c(i - 1.0) - factor * b.c(j)) / b.c(i));
      }
    for (int i = 0; i < K; ++i)
      for (int j = 1; j < K; ++j) {  // U is upper triangular: k <= j
        Val s = R[i][0] * b.c(U[0][j]);
        for (int k = 1; k <= j; ++k) s = s + R[i][k] * b.c(U[k][j]);
        RU[i][j] = s;
      }
    std::array<typename B::Bool, K> in{};
    for (int i = 0; i < K; ++i) in[i] = b.ci(i) <= order;
    b.for_(b.ci(0), b.ci(n), [&](Int s) {
      std::array<Val, K> old{};
      for (int i = 0; i < K; ++i) old[i] = D[b.ci(i * n) + s];
      for (int j = 1; j < K; ++j) {
        Val acc = RU[0][j] * old[0];
        for (int i = 1; i < K; ++i) acc = acc + b.select(in[i], RU[i][j] * old[i], b.c(0.0));
        D[b.ci(j * n) + s] = b.select(in[j], acc, old[j]);
      }
    });
  }

  // The Jacobian's bandwidths when the band path is used, else {-1, -1} (dense). Code-generation time.
  template <class B>
  static Bandwidth band_of(B& b, int n) {
    Bandwidth bw = model_bandwidth(b.model());
    return use_band(n, bw) ? bw : Bandwidth{};
  }

  // The sparse structure when the sparse path is used (model/sparsity.hpp decides; never with a band
  // or an exact Jacobian), else null. Code-generation time.
  static const ir::SparseLu* sparse_plan(const ir::ModelIR& m, int n) {
    const auto& sp = m.jacobian_sparse;
    if (!sp || sp->n != n || use_band(n, model_bandwidth(m)) || m.exact_jacobian()) return nullptr;
    return sp.get();
  }
  template <class B>
  static const ir::SparseLu* sparse_of(B& b, int n) {
    return sparse_plan(b.model(), n);
  }

  // Doubles of the workspace for model m: the sparse path keeps J and LU at the size of their patterns.
  static std::int64_t ws_size_for(const ir::ModelIR& m) {
    const auto n = static_cast<std::int64_t>(m.n_states());
    const ir::SparseLu* sp = sparse_plan(m, static_cast<int>(n));
    return sp ? (kRows + 9) * n + sp->nnz_jacobian() + sp->nnz_factors() + n + 3 : ws_size(n);
  }

  // Sparse mode: J's nonzeros by finite differences, one rhs evaluation per group of columns that
  // share no row (SparseLu::group_start), eps_j as in the dense path.
  template <class B>
  static void jacobian_sparse(B& b, const StepCtx<B>& c, const Layout<B>& L, const ir::SparseLu& sp,
                              typename B::Val t, typename B::Arr y) {
    using Int = typename B::Int;
    const SparseArrays<B> a(b, sp);
    auto jac_eps = c.cfg[jac_eps_i];
    f_eval(b, c, t, y, L.f);
    b.for_(b.ci(0), b.ci(c.n), [&](Int s) { L.ytmp[s] = y[s]; });
    b.for_(b.ci(0), b.ci(sp.n_groups()), [&](Int g) {
      Int lo = a.group_start[g], hi = a.group_start[g + b.ci(1)];
      b.for_(lo, hi, [&](Int q) {
        Int j = a.group_cols[q];
        typename B::Val yj = y[j];
        L.ytmp[j] = yj + jac_eps * b.fmax(b.c(1.0), b.fabs(yj));
      });
      f_eval(b, c, t, L.ytmp, L.ftmp);
      b.for_(lo, hi, [&](Int q) {
        Int j = a.group_cols[q];
        typename B::Val yj = y[j];
        auto eps = jac_eps * b.fmax(b.c(1.0), b.fabs(yj));
        L.ytmp[j] = yj;
        b.for_(Int(a.jcol_start[j]), Int(a.jcol_start[j + b.ci(1)]), [&](Int e) {
          Int i = a.jrow[e];
          L.J[e] = (L.ftmp[i] - L.f[i]) / eps;
        });
      });
    });
    count_work(b, c, kCounters, WorkCounter::rhs, b.ci(sp.n_groups() + 1));
    count_work(b, c, kCounters, WorkCounter::jac, b.ci(1));
  }

  // J = df/dy at (t, y): the exact Jacobian when jacobian_mode is external and the model has one,
  // else forward differences with eps_j = jac_eps * max(1, |y_j|). Counts its work.
  template <class B>
  static void jacobian(B& b, const StepCtx<B>& c, const Layout<B>& L, typename B::Val t, typename B::Arr y) {
    using Int = typename B::Int;
    const int n_ = c.n;
    const Int n = b.ci(n_);
    auto fd = [&] {
      auto jac_eps = c.cfg[jac_eps_i];
      f_eval(b, c, t, y, L.f);
      b.for_(b.ci(0), n, [&](Int s) { L.ytmp[s] = y[s]; });
      b.for_(b.ci(0), n, [&](Int j) {
        typename B::Val yj = y[j];
        auto eps = jac_eps * b.fmax(b.c(1.0), b.fabs(yj));
        L.ytmp[j] = yj + eps;
        f_eval(b, c, t, L.ytmp, L.ftmp);
        L.ytmp[j] = yj;
        b.for_(b.ci(0), n, [&](Int i) { L.J[i * n + j] = (L.ftmp[i] - L.f[i]) / eps; });
      });
      count_work(b, c, kCounters, WorkCounter::rhs, b.ci(n_ + 1));
    };
    const Bandwidth bw = band_of(b, n_);
    if (bw.ml >= 0) {
      jacobian_band(b, c, L, bw, t, y);
      return;
    }
    if (const ir::SparseLu* sp = sparse_of(b, n_)) {
      jacobian_sparse(b, c, L, *sp, t, y);
      return;
    }
    if (b.has_model_jacobian()) {
      b.if_(
          c.cfg[jac_mode_i] == b.c(1.0), [&] { b.jacobian(t, y, L.J, c.params, c.lag_ring, c.lag_head); },
          fd);
    } else {
      fd();
    }
    count_work(b, c, kCounters, WorkCounter::jac, b.ci(1));
  }

  // The band of J (band mode). The exact Jacobian is evaluated whole into LU (free until the next
  // factorization) and its band copied; differences perturb the columns j = g, g + w, g + 2w, ...
  // together (w = ml+mu+1): column j changes only rows j-mu..j+ml, so the groups do not mix.
  template <class B>
  static void jacobian_band(B& b, const StepCtx<B>& c, const Layout<B>& L, Bandwidth bw, typename B::Val t,
                            typename B::Arr y) {
    using Int = typename B::Int;
    const int n_ = c.n;
    const Int n = b.ci(n_), ml = b.ci(bw.ml), mu = b.ci(bw.mu), w = b.ci(bw.ml + bw.mu + 1);
    auto imin = [&](Int a, Int d) { return b.iselect(a < d, a, d); };
    auto imax = [&](Int a, Int d) { return b.iselect(a > d, a, d); };
    auto fd = [&] {
      auto jac_eps = c.cfg[jac_eps_i];
      f_eval(b, c, t, y, L.f);
      b.for_(b.ci(0), n, [&](Int s) { L.ytmp[s] = y[s]; });
      b.for_(b.ci(0), w, [&](Int g) {
        Int cols = (n - g + w - b.ci(1)) / w;  // g < w <= n: non-negative
        b.for_(b.ci(0), cols, [&](Int q) {
          Int j = g + q * w;
          typename B::Val yj = y[j];
          L.ytmp[j] = yj + jac_eps * b.fmax(b.c(1.0), b.fabs(yj));
        });
        f_eval(b, c, t, L.ytmp, L.ftmp);
        b.for_(b.ci(0), cols, [&](Int q) {
          Int j = g + q * w;
          typename B::Val yj = y[j];
          auto eps = jac_eps * b.fmax(b.c(1.0), b.fabs(yj));
          L.ytmp[j] = yj;
          b.for_(imax(b.ci(0), j - mu), imin(n, j + ml + b.ci(1)),
                 [&](Int i) { L.J[i * w + (j - i + ml)] = (L.ftmp[i] - L.f[i]) / eps; });
        });
      });
      count_work(b, c, kCounters, WorkCounter::rhs, b.ci(bw.ml + bw.mu + 2));
    };
    auto exact = [&] {
      b.jacobian(t, y, L.LU, c.params, c.lag_ring, c.lag_head);
      b.for_(b.ci(0), n, [&](Int i) {
        b.for_(imax(b.ci(0), i - ml), imin(n, i + mu + b.ci(1)),
               [&](Int j) { L.J[i * w + (j - i + ml)] = L.LU[i * n + j]; });
      });
    };
    if (b.has_model_jacobian()) {
      b.if_(c.cfg[jac_mode_i] == b.c(1.0), exact, fd);
    } else {
      fd();
    }
    count_work(b, c, kCounters, WorkCounter::jac, b.ci(1));
  }

  // M = I - cc J into LU and its factorization (dense or band, as band_of says).
  template <class B>
  static typename B::IVar factor_iteration_matrix(B& b, const StepCtx<B>& c, const Layout<B>& L,
                                                  typename B::Val cc) {
    using Int = typename B::Int;
    const int n_ = c.n;
    const Int n = b.ci(n_);
    if (const ir::SparseLu* sp = sparse_of(b, n_)) {
      const SparseArrays<B> a(b, *sp);
      sparse_iteration_matrix(b, *sp, a, cc, L.J, L.LU);
      return lu_sparse_factor(b, *sp, a, L.LU, b.offset(L.LU, static_cast<int>(sp->nnz_factors())));
    }
    const Bandwidth bw = band_of(b, n_);
    if (bw.ml < 0) {
      b.for_(b.ci(0), n, [&](Int i) {
        b.for_(b.ci(0), n, [&](Int j) {
          auto cj = cc * L.J[i * n + j];
          L.LU[i * n + j] = b.select(i == j, b.c(1.0) - cj, -cj);
        });
      });
      return lu_factor(b, n_, L.LU, L.piv);
    }
    const Int ml = b.ci(bw.ml), w = b.ci(bw.ml + bw.mu + 1), wl = b.ci(band_width_lu(bw));
    b.for_(b.ci(0), n, [&](Int i) {
      b.for_(b.ci(0), w, [&](Int q) {
        Int j = i - ml + q;
        auto cj = cc * L.J[i * w + q];
        auto in = b.land(j >= b.ci(0), j < n);
        L.LU[i * wl + q] = b.select(in, b.select(q == ml, b.c(1.0) - cj, -cj), b.c(0.0));
      });
      b.for_(w, wl, [&](Int q) { L.LU[i * wl + q] = b.c(0.0); });  // room for the fill-in
    });
    return lu_band_factor(b, n_, bw, L.LU, L.piv);
  }

  // Solves M x = r with the factors of factor_iteration_matrix (r in x on entry).
  template <class B>
  static void solve_iteration_matrix(B& b, const StepCtx<B>& c, const Layout<B>& L, typename B::Arr x) {
    if (const ir::SparseLu* sp = sparse_of(b, c.n)) {
      const SparseArrays<B> a(b, *sp);
      lu_sparse_solve(b, *sp, a, L.LU, x, b.offset(L.LU, static_cast<int>(sp->nnz_factors())));
      return;
    }
    const Bandwidth bw = band_of(b, c.n);
    if (bw.ml < 0)
      lu_solve(b, c.n, L.LU, L.piv, x);
    else
      lu_band_solve(b, c.n, bw, L.LU, L.piv, x);
  }

  // Stored pivots (maybe from a snapshot file) in range for the factorization in use?
  template <class B>
  static typename B::IVar iteration_pivots_valid(B& b, const StepCtx<B>& c, const Layout<B>& L) {
    if (sparse_of(b, c.n)) return b.ivar(b.ci(1));  // no pivots: the order is a constant of the code
    const Bandwidth bw = band_of(b, c.n);
    return bw.ml < 0 ? lu_pivots_valid(b, c.n, L.piv) : lu_band_pivots_valid(b, c.n, bw, L.piv);
  }

  // Modified Newton for (y - y_p) + psi = c f(t_new, y) from y = y_p with the stored LU; y -> L.Y,
  // y - y_p -> L.d. Stops when the contraction rate predicts convergence (rate/(1-rate)*|dy| < tol) or
  // predicts failure within the remaining iterations.
  template <class B>
  static void newton(B& b, const StepCtx<B>& ctx, const Layout<B>& L, typename B::Val t_new,
                     typename B::Val cc, typename B::Val tol, typename B::Int max_iter,
                     typename B::IVar& conv, typename B::IVar& iters) {
    using Int = typename B::Int;
    const int n_ = ctx.n;
    const Int n = b.ci(n_);
    b.for_(b.ci(0), n, [&](Int s) {
      L.Y[s] = L.yp[s];
      L.d[s] = b.c(0.0);
    });
    auto k = b.ivar(b.ci(0));
    auto stop = b.ivar(b.ci(0));
    auto have_old = b.ivar(b.ci(0));
    auto norm_old = b.var(b.c(1.0));
    conv = b.ci(0);
    b.while_(
        [&] { return b.land(stop.get() == b.ci(0), k.get() < max_iter); },
        [&] {
          f_eval(b, ctx, t_new, L.Y, L.f);
          count_work(b, ctx, kCounters, WorkCounter::rhs, b.ci(1));
          b.if_(
              b.lnot(all_finite(b, n_, L.f)), [&] { stop = b.ci(1); },
              [&] {
                b.for_(b.ci(0), n, [&](Int s) { L.dy[s] = cc * L.f[s] - L.psi[s] - L.d[s]; });
                solve_iteration_matrix(b, ctx, L, L.dy);
                auto dyn = rms(b, n_, L.dy, b.ci(0), L.scl);
                auto rate = dyn / norm_old.get();
                auto old = have_old.get() == b.ci(1);
                auto diverging = b.land(
                    old, b.lor(rate >= b.c(1.0),
                               b.pow(rate, b.to_val(max_iter - k.get())) / (b.c(1.0) - rate) * dyn > tol));
                b.if_(
                    b.lor(diverging, b.lnot(b.isfinite(dyn))), [&] { stop = b.ci(1); },
                    [&] {
                      b.for_(b.ci(0), n, [&](Int s) {
                        L.Y[s] = L.Y[s] + L.dy[s];
                        L.d[s] = L.d[s] + L.dy[s];
                      });
                      b.if_(b.lor(dyn == b.c(0.0), b.land(old, rate / (b.c(1.0) - rate) * dyn < tol)), [&] {
                        conv = b.ci(1);
                        stop = b.ci(1);
                      });
                      norm_old = dyn;
                      have_old = b.ci(1);
                    });
              });
          k = k.get() + b.ci(1);
        });
    iters = k.get();
  }

  template <class B>
  void operator()(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val dt, typename B::Arr y,
                  typename B::Arr y_prop, StepOut<B>& o) const {
    using Val = typename B::Val;
    using Int = typename B::Int;
    const int n_ = c.n;
    const Int n = b.ci(n_);
    Layout<B> L(b, c);
    auto atol = c.cfg[atol_i], rtol = c.cfg[rtol_i], dt_max = c.cfg[dt_max_i];
    auto max_order =
        b.iselect(c.cfg[max_order_i] >= b.c(static_cast<double>(kMaxOrder)), b.ci(kMaxOrder),
                  b.iselect(c.cfg[max_order_i] >= b.c(1.0), b.to_int(c.cfg[max_order_i]), b.ci(1)));
    auto max_tries = b.to_int(c.cfg[max_tries_i]);
    auto max_iter = b.iselect(c.cfg[newton_iter_i] >= b.c(1.0),
                              b.to_int(b.fmin(c.cfg[newton_iter_i], b.c(1000.0))), b.ci(1));
    // Newton tolerance relative to the error tolerance (1 = error scale).
    auto eps = b.c(2.220446049250313e-16);
    Val newton_tol = b.fmax(b.c(10.0) * eps / rtol, b.fmin(b.c(0.03), b.sqrt(rtol)));
    // Smallest step: the setting, and never below 10 ulp of t (where t + h would stall).
    Val min_step = b.fmax(c.cfg[min_step_i], b.c(10.0) * eps * b.fabs(t));
    Val h_cap = b.fmin(dt, dt_max);

    o.status = b.ci(kOK);
    o.t_prop = t;
    o.dt_next = dt;
    o.err = b.c(0.0);

    // ---- validate the stored state (snapshot data is untrusted) ----
    Int ord0 = c.iws[order_i];
    Val h0 = L.sc[0];
    auto restart = b.lor(Int(c.iws[hist_i]) <= b.ci(0), b.lor(b.lor(ord0<b.ci(1), ord0> max_order),
                                                              b.lnot(b.land(h0 > b.c(0.0), b.isfinite(h0)))));
    b.if_(b.lnot(restart), [&] {
      b.if_(Int(c.iws[lu_valid_i]) == b.ci(1), [&] {
        auto okp = iteration_pivots_valid(b, c, L);
        c.iws[lu_valid_i] = okp.get();
      });
      b.if_(Int(c.iws[jac_valid_i]) != b.ci(1), [&] { c.iws[lu_valid_i] = b.ci(0); });
      b.if_(Int(c.iws[n_equal_i]) < b.ci(0), [&] { c.iws[n_equal_i] = b.ci(0); });
      // the runner's step (clipped to t_end, or a new dt) differs from the one D is scaled for
      b.if_(h0 != h_cap, [&] {
        change_differences(b, n_, L.D, ord0, h_cap / h0);
        L.sc[0] = h_cap;
        c.iws[n_equal_i] = b.ci(0);
        c.iws[lu_valid_i] = b.ci(0);
      });
    });
    b.if_(restart, [&] {
      // Order 1 from the current state; step estimate for a first-order method (at most dt).
      f_eval(b, c, t, y, L.f);
      b.for_(b.ci(0), n, [&](Int s) { L.scl[s] = atol + rtol * b.fabs(y[s]); });
      auto d0 = rms(b, n_, y, b.ci(0), L.scl);
      auto d1 = rms(b, n_, L.f, b.ci(0), L.scl);
      Val hs = b.fmin(b.select(b.lor(d0 < b.c(1e-5), d1 < b.c(1e-5)), b.c(1e-6), b.c(0.01) * d0 / d1), h_cap);
      b.for_(b.ci(0), n, [&](Int s) { L.ytmp[s] = y[s] + hs * L.f[s]; });
      f_eval(b, c, t + hs, L.ytmp, L.ftmp);
      count_work(b, c, kCounters, WorkCounter::rhs, b.ci(2));
      b.for_(b.ci(0), n, [&](Int s) { L.ytmp[s] = L.ftmp[s] - L.f[s]; });
      auto d2 = rms(b, n_, L.ytmp, b.ci(0), L.scl) / hs;
      Val h1 = b.select(b.land(d1 <= b.c(1e-15), d2 <= b.c(1e-15)), b.fmax(b.c(1e-6), hs * b.c(1e-3)),
                        b.sqrt(b.c(0.01) / b.fmax(d1, d2)));
      // never below min_step, unless the runner's step (to t_end) is shorter
      Val h = b.fmin(b.fmax(b.fmin(b.c(100.0) * hs, h1), min_step), h_cap);
      b.for_(b.ci(0), n, [&](Int s) {
        L.D[s] = y[s];
        L.D[n + s] = h * L.f[s];
      });
      b.for_(b.ci(2 * n_), b.ci(kRows * n_), [&](Int q) { L.D[q] = b.c(0.0); });
      b.for_(b.ci(0), n, [&](Int s) { L.piv[s] = s; });
      L.sc[0] = h;
      c.iws[hist_i] = b.ci(0);
      c.iws[order_i] = b.ci(1);
      c.iws[n_equal_i] = b.ci(0);
      c.iws[lu_valid_i] = b.ci(0);
      c.iws[jac_valid_i] = b.ci(0);
    });
    // D[0] is the committed state (it may have been rounded to the storage dtype).
    b.for_(b.ci(0), n, [&](Int s) { L.D[s] = y[s]; });
    auto cur_jac = b.ivar(b.ci(0));
    b.if_(Int(c.iws[jac_valid_i]) != b.ci(1), [&] {
      jacobian(b, c, L, t, y);
      c.iws[jac_valid_i] = b.ci(1);
      c.iws[lu_valid_i] = b.ci(0);
      cur_jac = b.ci(1);
    });

    auto h = b.var(L.sc[0]);
    auto ord = b.ivar(Int(c.iws[order_i]));
    auto neq = b.ivar(Int(c.iws[n_equal_i]));
    auto luv = b.ivar(Int(c.iws[lu_valid_i]));
    auto done = b.ivar(b.ci(0));
    auto tries = b.ivar(b.ci(0));
    auto shrink = [&](Val hh, Val factor) {
      h = hh * factor;
      change_differences(b, n_, L.D, ord.get(), factor);
      neq = b.ci(0);
    };
    b.while_([&] { return b.land(done.get() == b.ci(0), tries.get() < max_tries); },
             [&] {
               tries = tries.get() + b.ci(1);
               Val hh = h.get();
               Int k = ord.get();
               Val t_new = t + hh;
               Val cc = hh / pick(b, k, alpha);
               auto inv_alpha = b.c(1.0) / pick(b, k, alpha);
               b.for_(b.ci(0), n, [&](Int s) {
                 auto p = b.var(typename B::Val(L.D[s]));
                 auto q = b.var(b.c(0.0));
                 b.for_(b.ci(1), k + b.ci(1), [&](Int j) {
                   Val dj = L.D[at(b, n_, j, s)];
                   p = p.get() + dj;
                   q = q.get() + pick(b, j, gamma) * dj;
                 });
                 L.yp[s] = p.get();
                 L.psi[s] = q.get() * inv_alpha;
                 L.scl[s] = atol + rtol * b.fabs(p.get());
               });
               auto conv = b.ivar(b.ci(0));
               auto iters = b.ivar(b.ci(0));
               auto give_up = b.ivar(b.ci(0));
               b.while_([&] { return b.land(conv.get() == b.ci(0), give_up.get() == b.ci(0)); },
                        [&] {
                          b.if_(luv.get() != b.ci(1), [&] {
                            auto okf = factor_iteration_matrix(b, c, L, cc);
                            count_work(b, c, kCounters, WorkCounter::lu, b.ci(1));
                            luv = okf.get();
                          });
                          b.if_(luv.get() == b.ci(1),
                                [&] { newton(b, c, L, t_new, cc, newton_tol, max_iter, conv, iters); });
                          b.if_(conv.get() == b.ci(0), [&] {
                            b.if_(
                                cur_jac.get() == b.ci(1), [&] { give_up = b.ci(1); },
                                [&] {
                                  jacobian(b, c, L, t_new, L.yp);
                                  cur_jac = b.ci(1);
                                  luv = b.ci(0);
                                });
                          });
                        });
               b.if_(
                   conv.get() == b.ci(0),
                   [&] {
                     b.if_(
                         hh <= min_step,
                         [&] {
                           o.status = b.ci(kSTEPFAIL);
                           done = b.ci(1);
                         },
                         [&] {
                           shrink(hh, b.fmax(b.c(0.5), min_step / hh));
                           luv = b.ci(0);
                         });
                   },
                   [&] {
                     auto two_it = b.c(2.0) * b.to_val(max_iter);
                     // fewer steps when Newton needed many iterations (the step size bias is below)
                     Val safety = (two_it + b.c(1.0)) / (two_it + b.to_val(iters.get()));
                     b.for_(b.ci(0), n, [&](Int s) { L.scl[s] = atol + rtol * b.fabs(L.Y[s]); });
                     Val err = pick(b, k, error_const) * rms(b, n_, L.d, b.ci(0), L.scl);
                     o.err = err;
                     b.if_(
                         err <= b.c(1.0),
                         [&] {
                           done = b.ci(1);
                           accept(b, c, L, hh, err, safety, k, max_order, dt_max, min_step, h, ord, neq, luv);
                           b.for_(b.ci(0), n, [&](Int s) { y_prop[s] = L.Y[s]; });
                           o.t_prop = t_new;
                           o.dt_next = h.get();
                         },
                         [&] {
                           // An error above tolerance is never accepted: at the smallest step the step fails.
                           b.if_(
                               hh <= min_step,
                               [&] {
                                 o.status = b.ci(kSTEPFAIL);
                                 done = b.ci(1);
                               },
                               [&] {
                                 Val fac = b.fmax(
                                     b.c(0.2),
                                     safety * b.pow(b.c(kBiasSame) * err, b.c(-1.0) / b.to_val(k + b.ci(1))));
                                 shrink(hh, b.fmax(fac, min_step / hh));  // keeps the LU (see above)
                               });
                         });
                   });
             });
    b.if_(done.get() == b.ci(0), [&] { o.status = b.ci(kSTEPFAIL); });
    L.sc[0] = h.get();
    c.iws[order_i] = ord.get();
    c.iws[n_equal_i] = neq.get();
    c.iws[lu_valid_i] = luv.get();
  }

  // After an accepted step: update the differences, then (after order+1 equal steps) choose the
  // order and the next step.
  template <class B>
  static void accept(B& b, const StepCtx<B>& c, const Layout<B>& L, typename B::Val hh, typename B::Val err,
                     typename B::Val safety, typename B::Int k, typename B::Int max_order,
                     typename B::Val dt_max, typename B::Val min_step, typename B::Var& h,
                     typename B::IVar& ord, typename B::IVar& neq, typename B::IVar& luv) {
    using Val = typename B::Val;
    using Int = typename B::Int;
    const int n_ = c.n;
    const Int n = b.ci(n_);
    neq = neq.get() + b.ci(1);
    c.iws[hist_i] = Int(c.iws[hist_i]) + b.ci(1);
    b.for_(b.ci(0), n, [&](Int s) {
      Val dk1 = L.D[at(b, n_, k + b.ci(1), s)];
      L.D[at(b, n_, k + b.ci(2), s)] = L.d[s] - dk1;
      L.D[at(b, n_, k + b.ci(1), s)] = L.d[s];
      b.for_(b.ci(0), k + b.ci(1), [&](Int jj) {
        auto j = k - jj;
        L.D[at(b, n_, j, s)] = L.D[at(b, n_, j, s)] + L.D[at(b, n_, j + b.ci(1), s)];
      });
      L.D[s] = L.Y[s];  // exact, so that the interpolant ends on y_new
    });
    b.if_(neq.get() >= k + b.ci(1), [&] {
      auto inf = b.c(HUGE_VAL);
      auto err_m = b.var(inf), err_p = b.var(inf);
      b.if_(k > b.ci(1), [&] { err_m = pick(b, k - b.ci(1), error_const) * rms(b, n_, L.D, k * n, L.scl); });
      b.if_(k < max_order,
            [&] { err_p = pick(b, k + b.ci(1), error_const) * rms(b, n_, L.D, (k + b.ci(2)) * n, L.scl); });
      auto nonneg = [&](Val v) { return b.select(v >= b.c(0.0), v, b.c(0.0)); };  // NaN -> 0
      Val km = b.to_val(k);
      Val fm = nonneg(b.pow(b.c(kBiasLower) * err_m.get(), b.c(-1.0) / km));
      Val f0 = nonneg(b.pow(b.c(kBiasSame) * err, b.c(-1.0) / (km + b.c(1.0))));
      Val fp = nonneg(b.pow(b.c(kBiasHigher) * err_p.get(), b.c(-1.0) / (km + b.c(2.0))));
      // the first of the largest (lower order on ties)
      auto lower = b.land(fm >= f0, fm >= fp);
      auto higher = b.land(b.lnot(lower), fp > f0);
      Int delta = b.iselect(lower, b.ci(-1), b.iselect(higher, b.ci(1), b.ci(0)));
      Val best = b.fmax(fm, b.fmax(f0, fp));
      ord = k + delta;
      Val factor = b.fmax(b.fmin(b.fmin(b.c(10.0), safety * best), dt_max / hh), min_step / hh);
      h = hh * factor;
      change_differences(b, n_, L.D, ord.get(), factor);
      neq = b.ci(0);
      luv = b.ci(0);
    });
  }

  // Dense output: the interpolating polynomial in D (after the step; re-expressed if h or the order
  // changed, it still passes through y_new and the previous points).
  template <class B>
  void dense_prepare(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val h, typename B::Arr y0,
                     typename B::Arr y1) const {
    (void)y0;
    (void)y1;
    Layout<B> L(b, c);
    L.sc[1] = t;
    L.sc[2] = h;
  }

  template <class B>
  void dense_eval(B& b, const StepCtx<B>& c, typename B::Val theta, typename B::Arr out) const {
    using Val = typename B::Val;
    using Int = typename B::Int;
    const int n_ = c.n;
    Layout<B> L(b, c);
    Int k0 = c.iws[order_i];
    Int k = b.iselect(k0 < b.ci(1), b.ci(1), b.iselect(k0 > b.ci(kMaxOrder), b.ci(kMaxOrder), k0));
    Val hd = L.sc[0];
    Val step = L.sc[2];
    Val s_off = (theta - b.c(1.0)) * step;  // t - t_new
    b.for_(b.ci(0), b.ci(n_), [&](Int s) {
      auto p = b.var(b.c(1.0));
      auto acc = b.var(b.c(0.0));
      b.for_(b.ci(0), k, [&](Int j) {
        auto jv = b.to_val(j);
        p = p.get() * ((s_off + jv * hd) / ((jv + b.c(1.0)) * hd));
        acc = acc.get() + L.D[at(b, n_, j + b.ci(1), s)] * p.get();
      });
      out[s] = acc.get() + L.D[s];
    });
  }
};

}  // namespace dynlib::kernels
