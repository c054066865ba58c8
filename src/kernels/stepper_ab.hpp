// Adams–Bashforth 2 and 3 with Heun start-up. The history lives in the
// persistent workspace, so it survives re-entry and resume; iws[0] = step_index.
#pragma once
#include "kernels/stepper_common.hpp"

namespace dynlib::kernels {

// ab2. Workspace: f_prev, f_curr, f_next, y_stage (each n); iws: step_index.
struct StepAB2 {
  static constexpr bool kHistory = true;  // iws[0] = steps in the history; 0 = one-step start
  template <class B>
  void operator()(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val dt, typename B::Arr y,
                  typename B::Arr y_prop, StepOut<B>& o) const {
    const int n = c.n;
    auto f_prev = c.ws, f_curr = b.offset(c.ws, n), f_next = b.offset(c.ws, 2 * n),
         y_stage = b.offset(c.ws, 3 * n);
    auto idx = c.iws[0];
    b.if_(
        idx == b.ci(0),
        [&] {
          // Heun: k1 -> f_prev, k2 -> f_next, then recompute f_curr at the new point.
          f_eval(b, c, t, y, f_prev);
          for_states(b, n, [&](auto i) { y_stage[i] = y[i] + dt * f_prev[i]; });
          f_eval(b, c, t + dt, y_stage, f_next);
          for_states(b, n, [&](auto i) { y_prop[i] = y[i] + dt / b.c(2.0) * (f_prev[i] + f_next[i]); });
          f_eval(b, c, t + dt, y_prop, f_curr);
        },
        [&] {
          for_states(b, n,
                     [&](auto i) { y_prop[i] = y[i] + dt * (b.c(1.5) * f_curr[i] - b.c(0.5) * f_prev[i]); });
          f_eval(b, c, t + dt, y_prop, f_next);
          for_states(b, n, [&](auto i) {
            f_prev[i] = f_curr[i];
            f_curr[i] = f_next[i];
          });
        });
    c.iws[0] = c.iws[0] + b.ci(1);
    fixed_step_out(b, o, t, dt);
  }
};

// ab3. Workspace: f_nm2, f_nm1, f_n, f_next, y_stage (each n); iws: step_index.
struct StepAB3 {
  static constexpr bool kHistory = true;  // iws[0] = steps in the history; 0 = one-step start
  template <class B>
  void operator()(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val dt, typename B::Arr y,
                  typename B::Arr y_prop, StepOut<B>& o) const {
    const int n = c.n;
    auto f_nm2 = c.ws, f_nm1 = b.offset(c.ws, n), f_n = b.offset(c.ws, 2 * n), f_next = b.offset(c.ws, 3 * n),
         y_stage = b.offset(c.ws, 4 * n);
    auto idx = c.iws[0];
    auto rotate = [&] {
      for_states(b, n, [&](auto i) {
        f_nm2[i] = f_nm1[i];
        f_nm1[i] = f_n[i];
        f_n[i] = f_next[i];
      });
    };
    b.if_(
        idx == b.ci(0),
        [&] {
          f_eval(b, c, t, y, f_nm1);
          for_states(b, n, [&](auto i) { y_stage[i] = y[i] + dt * f_nm1[i]; });
          f_eval(b, c, t + dt, y_stage, f_next);
          for_states(b, n, [&](auto i) { y_prop[i] = y[i] + dt / b.c(2.0) * (f_nm1[i] + f_next[i]); });
          f_eval(b, c, t + dt, y_prop, f_n);
        },
        [&] {
          b.if_(
              idx == b.ci(1),
              [&] {
                for_states(
                    b, n, [&](auto i) { y_prop[i] = y[i] + dt * (b.c(1.5) * f_n[i] - b.c(0.5) * f_nm1[i]); });
                f_eval(b, c, t + dt, y_prop, f_next);
                rotate();
              },
              [&] {
                for_states(b, n, [&](auto i) {
                  y_prop[i] = y[i] + dt * (b.c(23.0 / 12.0) * f_n[i] - b.c(16.0 / 12.0) * f_nm1[i] +
                                           b.c(5.0 / 12.0) * f_nm2[i]);
                });
                f_eval(b, c, t + dt, y_prop, f_next);
                rotate();
              });
        });
    c.iws[0] = c.iws[0] + b.ci(1);
    fixed_step_out(b, o, t, dt);
  }
};

}  // namespace dynlib::kernels
