// Dense LU factorization with partial pivoting that is kept and reused: factor once, solve many times
// (the variable-order BDF reuses one factorization of its iteration matrix over several steps).
// Row-major n*n, runtime loops (b.for_) so that large n stays compact in generated code.
#pragma once
#include "kernels/backend.hpp"

namespace dynlib::kernels {

// Factors A = P*L*U in place (L unit lower, U upper, both in A). piv[k] is the row exchanged with row k
// at elimination step k (piv[k] in [k, n)). Returns 0 in an IVar if a pivot is zero or not finite.
template <class B>
typename B::IVar lu_pivoted_factor(B& b, int n_, typename B::Arr A, typename B::IArr piv) {
  using Int = typename B::Int;
  auto ok = b.ivar(b.ci(1));
  const Int n = b.ci(n_);
  b.for_(b.ci(0), n, [&](Int k) {
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
    b.if_(b.lor(pmax.get() == b.c(0.0), b.lnot(b.isfinite(pmax.get()))), [&] { ok = b.ci(0); });
    b.if_(ok.get() == b.ci(1), [&] {
      auto pp = p.get();
      b.if_(pp != k, [&] {
        b.for_(b.ci(0), n, [&](Int j) {
          typename B::Val tmp = A[k * n + j];
          A[k * n + j] = A[pp * n + j];
          A[pp * n + j] = tmp;
        });
      });
      b.for_(k + b.ci(1), n, [&](Int r) {
        auto l = A[r * n + k] / A[k * n + k];
        A[r * n + k] = l;
        b.for_(k + b.ci(1), n, [&](Int j) { A[r * n + j] = A[r * n + j] - l * A[k * n + j]; });
      });
    });
  });
  return ok;
}

// Solves A x = r with the factors of lu_pivoted_factor; x holds r on entry, the solution on exit. The pivots
// must be valid (lu_pivots_valid) when they may come from outside.
template <class B>
void lu_pivoted_solve(B& b, int n_, typename B::Arr A, typename B::IArr piv, typename B::Arr x) {
  using Int = typename B::Int;
  const Int n = b.ci(n_);
  b.for_(b.ci(0), n, [&](Int k) {
    Int p = piv[k];
    b.if_(p != k, [&] {
      typename B::Val tmp = x[k];
      x[k] = x[p];
      x[p] = tmp;
    });
  });
  b.for_(b.ci(0), n, [&](Int i) {
    auto s = b.var(typename B::Val(x[i]));
    b.for_(b.ci(0), i, [&](Int j) { s = s.get() - A[i * n + j] * x[j]; });
    x[i] = s.get();
  });
  b.for_(b.ci(0), n, [&](Int kk) {
    auto i = n - b.ci(1) - kk;
    auto s = b.var(typename B::Val(x[i]));
    b.for_(i + b.ci(1), n, [&](Int j) { s = s.get() - A[i * n + j] * x[j]; });
    x[i] = s.get() / A[i * n + i];
  });
}

// Every piv[k] in [k, n)? Pivots stored in a workspace may come from a snapshot file.
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
