// Sparse LU for large stiff systems whose Jacobian is sparse but not banded (a 2-D grid with periodic
// edges): the structure (ir::SparseLu: fill-reducing order, pattern of L+U, where each Jacobian entry
// goes) is fixed when the model is lowered (src/model/sparsity.hpp, docs/internals/sparse_lu.md); these
// kernels do the numeric work with runtime loops (b.for_) over its index arrays, which the backend holds
// as constants (b.const_iarr: never read from a workspace, so a snapshot file cannot change them).
//
// Values: J holds the Jacobian's nonzeros in the order of SparseLu::jrow (by columns), LU the entries of
// L+U in the order of SparseLu::col (by rows of the permuted matrix; L has a unit diagonal that is not
// stored). The factorization takes the pivots on the diagonal in the chosen order (no row exchanges:
// the pattern stays fixed); a pivot that is zero, not finite, or tiny against its row fails it.
#pragma once
#include <cstdint>

#include "kernels/backend.hpp"

namespace dynlib::kernels {

// The structure's index arrays as backend arrays (constants in the generated code).
template <class B>
struct SparseArrays {
  typename B::IArr jcol_start, jrow, jslot, group_start, group_cols, perm, row_start, col, diag;
  SparseArrays(B& b, const ir::SparseLu& s)
      : jcol_start(b.const_iarr(s.jcol_start)),
        jrow(b.const_iarr(s.jrow)),
        jslot(b.const_iarr(s.jslot)),
        group_start(b.const_iarr(s.group_start)),
        group_cols(b.const_iarr(s.group_cols)),
        perm(b.const_iarr(s.perm)),
        row_start(b.const_iarr(s.row_start)),
        col(b.const_iarr(s.col)),
        diag(b.const_iarr(s.diag)) {}
};

// A pivot smaller than this times the largest entry of its row (before elimination) fails the
// factorization: without row exchanges it would amplify rounding errors without bound.
inline constexpr double kSparsePivotTiny = 1e-13;

// LU = I - cc J on the pattern of the factors.
template <class B>
void sparse_iteration_matrix(B& b, const ir::SparseLu& s, const SparseArrays<B>& a, typename B::Val cc,
                             typename B::Arr J, typename B::Arr LU) {
  using Int = typename B::Int;
  b.for_(b.ci(0), b.ci(s.nnz_factors()), [&](Int p) { LU[p] = b.c(0.0); });
  b.for_(b.ci(0), b.ci(s.n), [&](Int k) { LU[Int(a.diag[k])] = b.c(1.0); });
  b.for_(b.ci(0), b.ci(s.nnz_jacobian()), [&](Int e) {
    Int p = a.jslot[e];
    LU[p] = LU[p] - cc * J[e];
  });
}

// Factors LU in place (row by row, each row scattered into the work vector w of n doubles). Returns 0
// in an IVar if a pivot is zero, not finite or tiny (kSparsePivotTiny).
template <class B>
typename B::IVar lu_sparse_factor(B& b, const ir::SparseLu& s, const SparseArrays<B>& a, typename B::Arr LU,
                                  typename B::Arr w) {
  using Int = typename B::Int;
  auto ok = b.ivar(b.ci(1));
  b.for_(b.ci(0), b.ci(s.n), [&](Int k) {
    Int lo = a.row_start[k], hi = a.row_start[k + b.ci(1)], dk = a.diag[k];
    auto big = b.var(b.c(0.0));
    b.for_(lo, hi, [&](Int p) {
      typename B::Val v = LU[p];
      w[Int(a.col[p])] = v;
      big = b.fmax(big.get(), b.fabs(v));
    });
    b.for_(lo, dk, [&](Int p) {
      Int j = a.col[p];
      auto l = w[j] / LU[Int(a.diag[j])];
      w[j] = l;
      b.for_(Int(a.diag[j]) + b.ci(1), Int(a.row_start[j + b.ci(1)]), [&](Int q) {
        Int c = a.col[q];
        w[c] = w[c] - l * LU[q];
      });
    });
    b.for_(lo, hi, [&](Int p) { LU[p] = w[Int(a.col[p])]; });
    auto piv = b.fabs(LU[dk]);
    b.if_(b.lor(b.lnot(b.isfinite(piv)), piv <= b.c(kSparsePivotTiny) * big.get()), [&] { ok = b.ci(0); });
  });
  return ok;
}

// Solves (I - cc J) x = r with the factors of lu_sparse_factor; x holds r on entry, the solution on
// exit; z is a work vector of n doubles.
template <class B>
void lu_sparse_solve(B& b, const ir::SparseLu& s, const SparseArrays<B>& a, typename B::Arr LU,
                     typename B::Arr x, typename B::Arr z) {
  using Int = typename B::Int;
  const Int n = b.ci(s.n);
  b.for_(b.ci(0), n, [&](Int k) { z[k] = x[Int(a.perm[k])]; });
  b.for_(b.ci(0), n, [&](Int k) {
    auto acc = b.var(typename B::Val(z[k]));
    b.for_(Int(a.row_start[k]), Int(a.diag[k]), [&](Int p) { acc = acc.get() - LU[p] * z[Int(a.col[p])]; });
    z[k] = acc.get();
  });
  b.for_(b.ci(0), n, [&](Int kk) {
    Int k = n - b.ci(1) - kk;
    Int dk = a.diag[k];
    auto acc = b.var(typename B::Val(z[k]));
    b.for_(dk + b.ci(1), Int(a.row_start[k + b.ci(1)]),
           [&](Int p) { acc = acc.get() - LU[p] * z[Int(a.col[p])]; });
    z[k] = acc.get() / LU[dk];
  });
  b.for_(b.ci(0), n, [&](Int k) { x[Int(a.perm[k])] = z[k]; });
}

// radau5's matrices on the same pattern: E = shift I - J (real), and its complex form
// (shift_r + i shift_i) I - J as real and imaginary value arrays.
template <class B>
void sparse_shifted_matrix(B& b, const ir::SparseLu& s, const SparseArrays<B>& a, typename B::Val shift,
                           typename B::Arr J, typename B::Arr E) {
  using Int = typename B::Int;
  b.for_(b.ci(0), b.ci(s.nnz_factors()), [&](Int p) { E[p] = b.c(0.0); });
  b.for_(b.ci(0), b.ci(s.n), [&](Int k) { E[Int(a.diag[k])] = shift; });
  b.for_(b.ci(0), b.ci(s.nnz_jacobian()), [&](Int e) {
    Int p = a.jslot[e];
    E[p] = E[p] - J[e];
  });
}

// Complex form of lu_sparse_factor (values Er + i Ei, work vectors wr, wi of n): the same order and
// pivot rule, with |re| + |im| as the magnitude.
template <class B>
typename B::IVar lu_sparse_factor_complex(B& b, const ir::SparseLu& s, const SparseArrays<B>& a,
                                          typename B::Arr Er, typename B::Arr Ei, typename B::Arr wr,
                                          typename B::Arr wi) {
  using Int = typename B::Int;
  using Val = typename B::Val;
  auto ok = b.ivar(b.ci(1));
  b.for_(b.ci(0), b.ci(s.n), [&](Int k) {
    Int lo = a.row_start[k], hi = a.row_start[k + b.ci(1)], dk = a.diag[k];
    auto big = b.var(b.c(0.0));
    b.for_(lo, hi, [&](Int p) {
      Val vr = Er[p];
      Val vi = Ei[p];
      Int c = a.col[p];
      wr[c] = vr;
      wi[c] = vi;
      big = b.fmax(big.get(), b.fabs(vr) + b.fabs(vi));
    });
    b.for_(lo, dk, [&](Int p) {
      Int j = a.col[p];
      Int dj = a.diag[j];
      Val qr = Er[dj];
      Val qi = Ei[dj];
      auto den = qr * qr + qi * qi;
      Val ar = wr[j];
      Val ai = wi[j];
      auto lr = (ar * qr + ai * qi) / den;
      auto li = (ai * qr - ar * qi) / den;
      wr[j] = lr;
      wi[j] = li;
      b.for_(dj + b.ci(1), Int(a.row_start[j + b.ci(1)]), [&](Int q) {
        Int c = a.col[q];
        Val ur = Er[q];
        Val ui = Ei[q];
        wr[c] = wr[c] - (lr * ur - li * ui);
        wi[c] = wi[c] - (lr * ui + li * ur);
      });
    });
    b.for_(lo, hi, [&](Int p) {
      Int c = a.col[p];
      Er[p] = wr[c];
      Ei[p] = wi[c];
    });
    auto piv = b.fabs(Er[dk]) + b.fabs(Ei[dk]);
    b.if_(b.lor(b.lnot(b.isfinite(piv)), piv <= b.c(kSparsePivotTiny) * big.get()), [&] { ok = b.ci(0); });
  });
  return ok;
}

// Solves with the factors of lu_sparse_factor_complex; (xr, xi) hold the rhs on entry; zr, zi are work
// vectors of n.
template <class B>
void lu_sparse_solve_complex(B& b, const ir::SparseLu& s, const SparseArrays<B>& a, typename B::Arr Er,
                             typename B::Arr Ei, typename B::Arr xr, typename B::Arr xi, typename B::Arr zr,
                             typename B::Arr zi) {
  using Int = typename B::Int;
  using Val = typename B::Val;
  const Int n = b.ci(s.n);
  b.for_(b.ci(0), n, [&](Int k) {
    Int p = a.perm[k];
    zr[k] = xr[p];
    zi[k] = xi[p];
  });
  b.for_(b.ci(0), n, [&](Int k) {
    auto sr = b.var(Val(zr[k]));
    auto si = b.var(Val(zi[k]));
    b.for_(Int(a.row_start[k]), Int(a.diag[k]), [&](Int p) {
      Int c = a.col[p];
      Val lr = Er[p];
      Val li = Ei[p];
      Val vr = zr[c];
      Val vi = zi[c];
      sr = sr.get() - (lr * vr - li * vi);
      si = si.get() - (lr * vi + li * vr);
    });
    zr[k] = sr.get();
    zi[k] = si.get();
  });
  b.for_(b.ci(0), n, [&](Int kk) {
    Int k = n - b.ci(1) - kk;
    Int dk = a.diag[k];
    auto sr = b.var(Val(zr[k]));
    auto si = b.var(Val(zi[k]));
    b.for_(dk + b.ci(1), Int(a.row_start[k + b.ci(1)]), [&](Int p) {
      Int c = a.col[p];
      Val ur = Er[p];
      Val ui = Ei[p];
      Val vr = zr[c];
      Val vi = zi[c];
      sr = sr.get() - (ur * vr - ui * vi);
      si = si.get() - (ur * vi + ui * vr);
    });
    Val qr = Er[dk];
    Val qi = Ei[dk];
    auto den = qr * qr + qi * qi;
    zr[k] = (sr.get() * qr + si.get() * qi) / den;
    zi[k] = (si.get() * qr - sr.get() * qi) / den;
  });
  b.for_(b.ci(0), n, [&](Int k) {
    Int p = a.perm[k];
    xr[p] = zr[k];
    xi[p] = zi[k];
  });
}

// The model's sparse structure for a stepper with a sparse path, or null (dense): never with an exact
// Jacobian (the sparse path differences by column groups) or for another state count.
inline const ir::SparseLu* sparse_plan_of(const ir::ModelIR& m, int n) {
  const auto& sp = m.jacobian_sparse;
  if (!sp || sp->n != n || m.exact_jacobian()) return nullptr;
  return sp.get();
}

}  // namespace dynlib::kernels
