// Banded matrices for large stiff systems whose Jacobian couples each state only to nearby states
// (reaction-diffusion on a grid with the states of a grid point next to each other): the bandwidths of
// the Jacobian (found when the model is lowered), and an LU factorization with partial pivoting that works
// inside the band (n*ml*(ml+mu) operations instead of n^3/3).
//
// Band storage (row-major): row i keeps columns j in [i-ml, i+ml+mu] at A[i*w + (j - i + ml)],
// w = 2*ml + mu + 1. Columns [i-ml, i+mu] hold the matrix; the ml extra upper diagonals take the
// fill-in of the row exchanges. After lu_band_factor, A(i, j) for j >= i is U, and A(r, k) for
// k < r <= k+ml is the multiplier of elimination step k (in the row order at that step: as LINPACK's
// dgbfa, the multipliers are not permuted by later exchanges, so the solve applies exchange k and then
// elimination k in turn). After the band, A[n*w + i] holds the end (exclusive) of row i of U: the
// columns beyond it are zero (as LAPACK's dgbtf2 tracks it), so a matrix that needs few row exchanges
// costs about n*ml*mu, not n*ml*(ml+mu). The storage takes n*w + n doubles. Runtime loops (b.for_)
// keep generated code small for large n.
#pragma once
#include <cstdint>

#include "kernels/backend.hpp"

namespace dynlib::kernels {

struct Bandwidth {
  int ml = -1;  // lower: d f_i / d y_j may be nonzero for i - j <= ml; -1: unknown (dense)
  int mu = -1;  // upper: ... for j - i <= mu
};

// The bandwidths lowering found for the model's Jacobian (ModelIR::jacobian_bandwidth).
inline Bandwidth model_bandwidth(const ir::ModelIR& m) { return {m.jacobian_ml, m.jacobian_mu}; }

// Worth a band factorization: the band is much narrower than the matrix (and the band storage of the
// factors, n*(2*ml+mu+1), then fits in the n*n a dense matrix takes).
inline bool use_band(int n, const Bandwidth& bw) {
  return n > 0 && bw.ml >= 0 && bw.mu >= 0 && (bw.ml + bw.mu + 1) * 4 < n;
}

inline int band_width_lu(const Bandwidth& bw) { return 2 * bw.ml + bw.mu + 1; }

// Doubles the band factors take (band and row ends).
inline std::int64_t band_lu_size(int n, const Bandwidth& bw) {
  return static_cast<std::int64_t>(n) * (band_width_lu(bw) + 1);
}

// Factors the band matrix A (storage above) in place with partial pivoting; piv[k] in [k, min(n-1, k+ml)]
// is the row exchanged with row k at step k. Returns 0 in an IVar if a pivot is zero or not finite.
template <class B>
typename B::IVar lu_band_factor(B& b, int n_, Bandwidth bw, typename B::Arr A, typename B::IArr piv) {
  using Int = typename B::Int;
  auto ok = b.ivar(b.ci(1));
  const Int n = b.ci(n_), w = b.ci(band_width_lu(bw)), ml = b.ci(bw.ml);
  auto el = [&](Int i, Int j) -> decltype(auto) { return A[i * w + (j - i + ml)]; };
  auto imin = [&](Int a, Int c) { return b.iselect(a < c, a, c); };
  auto ju = b.ivar(b.ci(0));  // end of the columns of U so far
  b.for_(b.ci(0), n, [&](Int k) {
    Int r_end = imin(n, k + ml + b.ci(1));
    auto p = b.ivar(k);
    auto pmax = b.var(b.fabs(el(k, k)));
    b.for_(k + b.ci(1), r_end, [&](Int r) {
      auto v = b.fabs(el(r, k));
      b.if_(v > pmax.get(), [&] {
        pmax = v;
        p = r;
      });
    });
    piv[k] = p.get();
    b.if_(b.lor(pmax.get() == b.c(0.0), b.lnot(b.isfinite(pmax.get()))), [&] { ok = b.ci(0); });
    b.if_(ok.get() == b.ci(1), [&] {
      auto pp = p.get();
      Int top = imin(n, pp + b.ci(bw.mu + 1));
      ju = b.iselect(top > ju.get(), top, ju.get());
      Int j_end = ju.get();
      A[n * w + k] = b.to_val(j_end);
      b.if_(pp != k, [&] {
        b.for_(k, j_end, [&](Int j) {
          typename B::Val tmp = el(k, j);
          el(k, j) = el(pp, j);
          el(pp, j) = tmp;
        });
      });
      b.for_(k + b.ci(1), r_end, [&](Int r) {
        auto l = el(r, k) / el(k, k);
        el(r, k) = l;
        b.for_(k + b.ci(1), j_end, [&](Int j) { el(r, j) = el(r, j) - l * el(k, j); });
      });
    });
  });
  return ok;
}

// Solves A x = r with the factors of lu_band_factor; x holds r on entry, the solution on exit. The
// pivots must be valid (lu_band_pivots_valid) when they may come from outside.
template <class B>
void lu_band_solve(B& b, int n_, Bandwidth bw, typename B::Arr A, typename B::IArr piv, typename B::Arr x) {
  using Int = typename B::Int;
  const Int n = b.ci(n_), w = b.ci(band_width_lu(bw)), ml = b.ci(bw.ml);
  auto el = [&](Int i, Int j) -> decltype(auto) { return A[i * w + (j - i + ml)]; };
  auto imin = [&](Int a, Int c) { return b.iselect(a < c, a, c); };
  b.for_(b.ci(0), n, [&](Int k) {
    Int p = piv[k];
    b.if_(p != k, [&] {
      typename B::Val tmp = x[k];
      x[k] = x[p];
      x[p] = tmp;
    });
    typename B::Val xk = x[k];
    b.for_(k + b.ci(1), imin(n, k + ml + b.ci(1)), [&](Int r) { x[r] = x[r] - el(r, k) * xk; });
  });
  b.for_(b.ci(0), n, [&](Int kk) {
    auto i = n - b.ci(1) - kk;
    auto s = b.var(typename B::Val(x[i]));
    // the row end stored by lu_band_factor, kept inside the band (it may come from a snapshot file)
    Int hi = imin(n, i + b.ci(bw.ml + bw.mu + 1));
    typename B::Val e = A[n * w + i];
    auto e_ok = b.land(b.isfinite(e), b.land(e >= b.to_val(i + b.ci(1)), e <= b.to_val(hi)));
    Int j_end = b.to_int(b.select(e_ok, e, b.to_val(hi)));
    b.for_(i + b.ci(1), j_end, [&](Int j) { s = s.get() - el(i, j) * x[j]; });
    x[i] = s.get() / el(i, i);
  });
}

// Every piv[k] in [k, min(n-1, k+ml)]? Pivots stored in a workspace may come from a snapshot file.
template <class B>
typename B::IVar lu_band_pivots_valid(B& b, int n_, Bandwidth bw, typename B::IArr piv) {
  using Int = typename B::Int;
  auto ok = b.ivar(b.ci(1));
  const Int n = b.ci(n_);
  b.for_(b.ci(0), n, [&](Int k) {
    Int p = piv[k];
    b.if_(b.lor(p < k, b.lor(p >= n, p > k + b.ci(bw.ml))), [&] { ok = b.ci(0); });
  });
  return ok;
}

}  // namespace dynlib::kernels
