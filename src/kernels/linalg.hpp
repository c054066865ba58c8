// Dense Gaussian elimination with partial pivoting, in place: one-shot solves for the Newton iterations
// (newton.hpp) and a factor/solve pair for steppers that reuse one factorisation.
// Runtime loops (b.for_) so that large n stays compact in generated code.
#pragma once
#include "kernels/backend.hpp"

namespace dynlib::kernels {

// Solves A x = r; A (row-major n*n) is destroyed, x holds r on entry and the solution on exit.
// Returns a Bool var: false if a pivot |p| <= 1e-14 (singular).
template <class B>
typename B::IVar gauss_solve(B& b, int n_, typename B::Arr A, typename B::Arr x) {
  using Int = typename B::Int;
  auto ok = b.ivar(b.ci(1));
  const Int n = b.ci(n_);
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
      b.if_(
          pmax.get() <= b.c(1e-14), [&] { ok = b.ci(0); },
          [&] {
            auto pp = p.get();
            b.if_(pp != k, [&] {
              b.for_(b.ci(0), n, [&](Int j) {
                typename B::Val tmp = A[k * n + j];
                A[k * n + j] = A[pp * n + j];
                A[pp * n + j] = tmp;
              });
              typename B::Val tx = x[k];
              x[k] = x[pp];
              x[pp] = tx;
            });
            b.for_(k + b.ci(1), n, [&](Int r) {
              auto f = A[r * n + k] / A[k * n + k];
              b.for_(k + b.ci(1), n, [&](Int j) { A[r * n + j] = A[r * n + j] - f * A[k * n + j]; });
              x[r] = x[r] - f * x[k];
            });
          });
    });
  });
  b.if_(ok.get() == b.ci(1), [&] {
    b.for_(b.ci(0), n, [&](Int kk) {
      auto k = n - b.ci(1) - kk;
      auto s = b.var(typename B::Val(x[k]));
      b.for_(k + b.ci(1), n, [&](Int j) { s = s.get() - A[k * n + j] * x[j]; });
      x[k] = s.get() / A[k * n + k];
    });
  });
  return ok;
}

// The same elimination split in two, for steppers that solve several systems with one matrix (one
// factorisation per step, reused for every stage). lu_factor overwrites A (row-major n*n) with U and,
// below the diagonal, the multipliers of each elimination step (left in place when later steps swap
// rows, so lu_solve replays the swaps and eliminations in gauss_solve's order), and stores in piv[k]
// the row swapped with row k at step k.
// Returns an IVar: 0 if a pivot |p| <= 1e-14 (singular; meant for matrices scaled like I - h*g*J).
template <class B>
typename B::IVar lu_factor(B& b, int n_, typename B::Arr A, typename B::IArr piv) {
  using Int = typename B::Int;
  auto ok = b.ivar(b.ci(1));
  const Int n = b.ci(n_);
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
      piv[k] = p.get();
      b.if_(
          pmax.get() <= b.c(1e-14), [&] { ok = b.ci(0); },
          [&] {
            auto pp = p.get();
            b.if_(pp != k, [&] {
              b.for_(k, n, [&](Int j) {  // columns < k hold multipliers: they stay with their row
                typename B::Val tmp = A[k * n + j];
                A[k * n + j] = A[pp * n + j];
                A[pp * n + j] = tmp;
              });
            });
            b.for_(k + b.ci(1), n, [&](Int r) {
              auto f = A[r * n + k] / A[k * n + k];
              A[r * n + k] = f;
              b.for_(k + b.ci(1), n, [&](Int j) { A[r * n + j] = A[r * n + j] - f * A[k * n + j]; });
            });
          });
    });
  });
  return ok;
}

// Solves A x = r with the factors of lu_factor (which must have succeeded); x holds r on entry and the
// solution on exit. The pivots may come from a workspace restored from a file: an index outside
// [k, n) is treated as "no swap" instead of being used.
template <class B>
void lu_solve(B& b, int n_, typename B::Arr A, typename B::IArr piv, typename B::Arr x) {
  using Int = typename B::Int;
  const Int n = b.ci(n_);
  b.for_(b.ci(0), n, [&](Int k) {
    auto p0 = Int(piv[k]);
    auto pp = b.iselect(b.land(p0 > k, p0 < n), p0, k);
    b.if_(pp != k, [&] {
      typename B::Val tx = x[k];
      x[k] = x[pp];
      x[pp] = tx;
    });
    b.for_(k + b.ci(1), n, [&](Int r) { x[r] = x[r] - A[r * n + k] * x[k]; });
  });
  b.for_(b.ci(0), n, [&](Int kk) {
    auto k = n - b.ci(1) - kk;
    auto s = b.var(typename B::Val(x[k]));
    b.for_(k + b.ci(1), n, [&](Int j) { s = s.get() - A[k * n + j] * x[j]; });
    x[k] = s.get() / A[k * n + k];
  });
}

// Every piv[k] in [k, n)? Pivots stored in a workspace may come from a snapshot file: a stepper that
// keeps a factorization across steps checks them and refactors instead of trusting them.
template <class B>
typename B::IVar lu_pivots_valid(B& b, int n_, typename B::IArr piv) {
  using Int = typename B::Int;
  auto ok = b.ivar(b.ci(1));
  const Int n = b.ci(n_);
  b.for_(b.ci(0), n, [&](Int k) {
    Int p = piv[k];
    b.if_(b.lor(p < k, p >= n), [&] { ok = b.ci(0); });
  });
  return ok;
}

}  // namespace dynlib::kernels
