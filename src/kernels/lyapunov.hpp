// Built-in observers: Lyapunov MLE and spectrum (Benettin with modified Gram-Schmidt),
// written once for every backend. AnalysisHooks dispatches the observers of an
// AnalysisLayout (kernels/observer.hpp) at the runner's PRE and POST points.
//
// Tangent stepping (POST hook, after the state step is committed): V_{n+1} = Phi(t_n, y_n, dt) V_n
// where Phi is the stepper's own scheme applied to the variational equation dV/dt = J(t, y) V:
//   map    W = J(t_n, y_n) V                        (J at y_n, not y_{n+1}: docs/internals/differences.md)
//   euler  W = V + dt J(y_n) V
//   rk2    K1 = J(y_n) V; K2 = J(y_n + dt/2 f(y_n)) (V + dt/2 K1); W = V + dt K2
//   rk4    the classic tableau with J at the same stage states as the state step (where
//          the reference evaluates J only at y_n, which makes the tangent step first order)
//   ab2/3  Adams-Bashforth on G_n = J(y_n) V_n with the same Heun start-up; the history is
//          transformed with V at every re-orthonormalisation, so it stays consistent.
// y_n = y_prev (the committed state before the step, after the pre-phase events), t_n the step's start.
// Every renorm_every steps: modified Gram-Schmidt on W's columns in order, log_r_j += ln(norm_j) (a zero
// column is reseeded to e_{j mod n}, norm 1), V = W; denom += the time (flows) or steps (maps) since
// the last re-orthonormalisation. Estimates lambda_j = log_r_j / denom (denom <= 0 -> 1).
// The Jacobian is exact: the model's [equations.jacobian] (b.has_model_jacobian()), else the symbolic
// one derived from the lowered rhs (ModelIR::exact_jacobian(), evaluated entry by entry with b.eval);
// only if neither exists (derivation impossible, e.g. int64 dtype) central finite differences of the
// rhs with h_j = 6.0554544523933395e-06 * max(1, |y_j|) (cbrt of the double epsilon).
//
// Per observer (n states, k vectors), analysis_ws:
//   [0] initialised flag  [1] steps since renorm  [2] tangent step index (ab2/ab3)  [3] pending denom
//   V[n*k] W[n*k] J[n*n] ys[n] f1[n] yp[n] fp[n] fm[n] K1..K4[n*k] VS[n*k] G1[n*k] G2[n*k]
// (matrices row-major (n, k): column j of V is V[i*k + j]).
// analysis_out: [log_r_0 .. log_r_{k-1}, denom, steps, lambda_0 .. lambda_{k-1}]
//   (the MLE is k = 1: [log_growth, denom, steps, mle]).
// Trace columns: lambda_0 .. lambda_{k-1} ("mle" for the MLE).
#pragma once
#include "kernels/observer.hpp"
#include "kernels/stepper_common.hpp"

namespace dynlib::kernels {

constexpr double kFdJacStep = 6.0554544523933395e-06;

inline std::int64_t lyapunov_ws_size(std::int64_t n, std::int64_t k) { return 4 + 9 * n * k + n * n + 5 * n; }
inline std::int64_t lyapunov_out_size(std::int64_t k) { return 2 * k + 2; }

template <class B>
struct LyapunovKernel {
  using Val = typename B::Val;
  using Int = typename B::Int;
  using Arr = typename B::Arr;

  B& b;
  const RunnerView<B>& a;
  const ObserverSlot& s;
  int n, k;
  TangentScheme scheme;
  Arr ws, V, W, J, ys, f1, yp, fp, fm, K1, K2, K3, K4, VS, G1, G2, out;

  LyapunovKernel(B& b_, const RunnerView<B>& a_, const ObserverSlot& s_, int n_, TangentScheme sch)
      : b(b_), a(a_), s(s_), n(n_), k(s_.cfg.k), scheme(sch) {
    const int nk = n * k;
    ws = b.offset(a.an_ws, static_cast<int>(s.ws_off));
    int o = 4;
    auto take = [&](int len) {
      Arr p = b.offset(ws, o);
      o += len;
      return p;
    };
    V = take(nk);
    W = take(nk);
    J = take(n * n);
    ys = take(n);
    f1 = take(n);
    yp = take(n);
    fp = take(n);
    fm = take(n);
    K1 = take(nk);
    K2 = take(nk);
    K3 = take(nk);
    K4 = take(nk);
    VS = take(nk);
    G1 = take(nk);
    G2 = take(nk);
    out = b.offset(a.an_out, static_cast<int>(s.out_off));
  }

  void rhs(Val t, Arr y, Arr dst) { b.rhs(t, y, dst, a.params, a.lag_ring, a.lag_head); }

  // J(t, y) -> J (row-major n*n).
  void jac(Val t, Arr y) {
    if (b.has_model_jacobian()) {
      b.jacobian(t, y, J, a.params, a.lag_ring, a.lag_head);
      return;
    }
    if (const auto* ej = b.model().exact_jacobian()) {  // the symbolic one (src/model/derive.*)
      EvalCtx<B> ctx{t, y, a.params, a.lag_ring, a.lag_head, 0};
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j)
          J[i * n + j] = b.eval((*ej)[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)], ctx);
      return;
    }
    for (int i = 0; i < n; ++i) yp[i] = Val(y[i]);
    for (int j = 0; j < n; ++j) {
      Val yj = y[j];
      auto h = b.c(kFdJacStep) * b.fmax(b.c(1.0), b.fabs(yj));
      Val up = yj + h;
      Val dn = yj - h;
      yp[j] = up;
      rhs(t, yp, fp);
      yp[j] = dn;
      rhs(t, yp, fm);
      yp[j] = yj;
      auto width = up - dn;
      for (int i = 0; i < n; ++i) J[i * n + j] = (Val(fp[i]) - Val(fm[i])) / width;
    }
  }

  // Y = J X for (n, k) matrices (runtime loops keep large n compact in generated code).
  void jmul(Arr X, Arr Y) {
    const Int N = b.ci(n), Kc = b.ci(k);
    b.for_(b.ci(0), N, [&](Int i) {
      b.for_(b.ci(0), Kc, [&](Int j) {
        auto acc = b.var(Val(J[i * N]) * Val(X[j]));
        b.for_(b.ci(1), N, [&](Int l) { acc = acc.get() + Val(J[i * N + l]) * Val(X[l * Kc + j]); });
        Y[i * Kc + j] = acc.get();
      });
    });
  }

  // Z = X + c * Y elementwise over n*k.
  void axpy(Arr Z, Arr X, Val c, Arr Y) {
    b.for_(b.ci(0), b.ci(n * k), [&](Int e) { Z[e] = Val(X[e]) + c * Val(Y[e]); });
  }

  void pre(const HookArgs<B>&) {
    b.if_(Val(ws[0]) == b.c(0.0), [&] {
      b.for_(b.ci(0), b.ci(n * k), [&](Int e) {
        V[e] = b.c(0.0);
        G1[e] = b.c(0.0);
        G2[e] = b.c(0.0);
      });
      for (int j = 0; j < k && j < n; ++j) V[j * k + j] = b.c(1.0);
      for (int q = 0; q < 2 * k + 2; ++q) out[q] = b.c(0.0);
      ws[1] = b.c(0.0);
      ws[2] = b.c(0.0);
      ws[3] = b.c(0.0);
      ws[0] = b.c(1.0);
    });
  }

  // W = Phi V (see the header comment). y = y_n.
  void tangent_step(Val t, Val dt, Arr y) {
    auto half = b.c(0.5);
    switch (scheme) {
      case TangentScheme::map:
        jac(t, y);
        jmul(V, W);
        break;
      case TangentScheme::euler:
        jac(t, y);
        jmul(V, K1);
        axpy(W, V, dt, K1);
        break;
      case TangentScheme::rk2:
        jac(t, y);
        jmul(V, K1);
        rhs(t, y, f1);
        for (int i = 0; i < n; ++i) ys[i] = Val(y[i]) + half * dt * Val(f1[i]);
        axpy(VS, V, half * dt, K1);
        jac(t + half * dt, ys);
        jmul(VS, K2);
        axpy(W, V, dt, K2);
        break;
      case TangentScheme::rk4: {
        jac(t, y);
        jmul(V, K1);
        rhs(t, y, f1);
        for (int i = 0; i < n; ++i) ys[i] = Val(y[i]) + half * dt * Val(f1[i]);
        axpy(VS, V, half * dt, K1);
        jac(t + half * dt, ys);
        jmul(VS, K2);
        rhs(t + half * dt, ys, f1);
        for (int i = 0; i < n; ++i) ys[i] = Val(y[i]) + half * dt * Val(f1[i]);
        axpy(VS, V, half * dt, K2);
        jac(t + half * dt, ys);
        jmul(VS, K3);
        rhs(t + half * dt, ys, f1);
        for (int i = 0; i < n; ++i) ys[i] = Val(y[i]) + dt * Val(f1[i]);
        axpy(VS, V, dt, K3);
        jac(t + dt, ys);
        jmul(VS, K4);
        auto two = b.c(2.0);
        auto c6 = dt / b.c(6.0);
        b.for_(b.ci(0), b.ci(n * k), [&](Int e) {
          W[e] = Val(V[e]) + c6 * (Val(K1[e]) + two * Val(K2[e]) + two * Val(K3[e]) + Val(K4[e]));
        });
        break;
      }
      case TangentScheme::ab2:
      case TangentScheme::ab3: {
        // K1 = G_n = J(y_n) V_n; G1 = G_{n-1}; G2 = G_{n-2}.
        jac(t, y);
        jmul(V, K1);
        Val idx = ws[2];
        auto heun = [&] {
          rhs(t, y, f1);
          for (int i = 0; i < n; ++i) ys[i] = Val(y[i]) + dt * Val(f1[i]);
          axpy(VS, V, dt, K1);
          jac(t + dt, ys);
          jmul(VS, K2);
          b.for_(b.ci(0), b.ci(n * k),
                 [&](Int e) { W[e] = Val(V[e]) + dt / b.c(2.0) * (Val(K1[e]) + Val(K2[e])); });
        };
        auto ab2 = [&] {
          b.for_(b.ci(0), b.ci(n * k),
                 [&](Int e) { W[e] = Val(V[e]) + dt * (b.c(1.5) * Val(K1[e]) - b.c(0.5) * Val(G1[e])); });
        };
        if (scheme == TangentScheme::ab2) {
          b.if_(idx == b.c(0.0), heun, ab2);
        } else {
          b.if_(idx == b.c(0.0), heun, [&] {
            b.if_(idx == b.c(1.0), ab2, [&] {
              b.for_(b.ci(0), b.ci(n * k), [&](Int e) {
                W[e] = Val(V[e]) + dt * (b.c(23.0 / 12.0) * Val(K1[e]) - b.c(16.0 / 12.0) * Val(G1[e]) +
                                         b.c(5.0 / 12.0) * Val(G2[e]));
              });
            });
          });
        }
        // history shift: G2 = G1, G1 = G_n
        b.for_(b.ci(0), b.ci(n * k), [&](Int e) {
          G2[e] = Val(G1[e]);
          G1[e] = Val(K1[e]);
        });
        ws[2] = idx + b.c(1.0);
        break;
      }
    }
  }

  // Modified Gram-Schmidt on W's columns (the AB history follows the same column operations);
  // log_r_j += ln(norm_j).
  void reorthonormalise() {
    const bool hist = scheme == TangentScheme::ab2 || scheme == TangentScheme::ab3;
    const Int N = b.ci(n), Kc = b.ci(k);
    b.for_(b.ci(0), Kc, [&](Int j) {
      b.for_(b.ci(0), j, [&](Int i) {
        auto r = b.var(Val(W[i]) * Val(W[j]));
        b.for_(b.ci(1), N, [&](Int l) { r = r.get() + Val(W[l * Kc + i]) * Val(W[l * Kc + j]); });
        Val rv = r.get();
        b.for_(b.ci(0), N, [&](Int l) {
          W[l * Kc + j] = Val(W[l * Kc + j]) - rv * Val(W[l * Kc + i]);
          if (hist) {
            G1[l * Kc + j] = Val(G1[l * Kc + j]) - rv * Val(G1[l * Kc + i]);
            G2[l * Kc + j] = Val(G2[l * Kc + j]) - rv * Val(G2[l * Kc + i]);
          }
        });
      });
      auto ss = b.var(Val(W[j]) * Val(W[j]));
      b.for_(b.ci(1), N, [&](Int l) { ss = ss.get() + Val(W[l * Kc + j]) * Val(W[l * Kc + j]); });
      Val norm = b.sqrt(ss.get());
      b.if_(
          norm > b.c(0.0),
          [&] {
            b.for_(b.ci(0), N, [&](Int l) {
              W[l * Kc + j] = Val(W[l * Kc + j]) / norm;
              if (hist) {
                G1[l * Kc + j] = Val(G1[l * Kc + j]) / norm;
                G2[l * Kc + j] = Val(G2[l * Kc + j]) / norm;
              }
            });
            out[j] = Val(out[j]) + b.log(norm);
          },
          [&] {
            auto e = j % N;
            b.for_(b.ci(0), N, [&](Int l) {
              W[l * Kc + j] = b.select(l == e, b.c(1.0), b.c(0.0));
              if (hist) {
                G1[l * Kc + j] = b.c(0.0);
                G2[l * Kc + j] = b.c(0.0);
              }
            });
          });
    });
  }

  void post(const HookArgs<B>& h, bool is_map) {
    tangent_step(h.t_prev, h.dt, a.y_prev);
    const int iden = k, istp = k + 1;
    out[istp] = Val(out[istp]) + b.c(1.0);
    Val inc = is_map ? b.c(1.0) : h.dt;
    auto finish = [&](Val pending) {
      reorthonormalise();
      b.for_(b.ci(0), b.ci(n * k), [&](Int e) { V[e] = Val(W[e]); });
      Val den = Val(out[iden]) + pending;
      out[iden] = den;
      Val dsafe = b.select(den > b.c(0.0), den, b.c(1.0));
      for (int j = 0; j < k; ++j) out[k + 2 + j] = Val(out[j]) / dsafe;
    };
    if (s.cfg.renorm_every <= 1) {
      finish(inc);
    } else {
      Val cnt = Val(ws[1]) + b.c(1.0);
      Val pend = Val(ws[3]) + inc;
      b.if_(
          cnt >= b.c(static_cast<double>(s.cfg.renorm_every)),
          [&] {
            finish(pend);
            ws[1] = b.c(0.0);
            ws[3] = b.c(0.0);
          },
          [&] {
            b.for_(b.ci(0), b.ci(n * k), [&](Int e) { V[e] = Val(W[e]); });
            ws[1] = cnt;
            ws[3] = pend;
          });
    }
    if (trace_width_ > 0) {
      b.if_(h.trace_row_ok, [&] {
        for (int j = 0; j < k; ++j)
          a.an_trace[h.trace_row * b.ci(trace_width_) + b.ci(s.tr_off + j)] = Val(out[k + 2 + j]);
      });
    }
  }

  std::int64_t trace_width_ = 0;
};

// The hooks of the ANALYSIS runner for one AnalysisLayout.
struct AnalysisHooks {
  static constexpr bool enabled = true;
  const AnalysisLayout* L = nullptr;

  std::int64_t trace_width() const { return L->trace_width; }

  template <class B>
  void pre(B& b, const RunnerView<B>& a, const HookArgs<B>& h) const {
    for (const auto& s : L->slots) {
      LyapunovKernel<B> K(b, a, s, L->n, L->scheme);
      K.pre(h);
    }
  }
  template <class B>
  void post(B& b, const RunnerView<B>& a, const HookArgs<B>& h) const {
    for (const auto& s : L->slots) {
      LyapunovKernel<B> K(b, a, s, L->n, L->scheme);
      K.trace_width_ = L->trace_width;
      K.post(h, L->is_map);
    }
  }
};

}  // namespace dynlib::kernels
