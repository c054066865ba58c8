// Explicit fixed-step steppers: map, euler, rk2, rk4.
#pragma once
#include "kernels/stepper_common.hpp"

namespace dynlib::kernels {

// map: y_prop = f(t, y). Workspace: y_next[n].
struct StepMap {
  template <class B>
  void operator()(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val dt, typename B::Arr y,
                  typename B::Arr y_prop, StepOut<B>& o) const {
    const int n = c.n;
    auto y_next = c.ws;
    f_eval(b, c, t, y, y_next);
    for_states(b, n, [&](auto i) { y_prop[i] = y_next[i]; });
    fixed_step_out(b, o, t, dt);
  }
};

// euler: y' = y + dt*f(t,y). Workspace: dy[n], kv[n].
struct StepEuler {
  template <class B>
  void operator()(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val dt, typename B::Arr y,
                  typename B::Arr y_prop, StepOut<B>& o) const {
    const int n = c.n;
    auto dy = c.ws;
    f_eval(b, c, t, y, dy);
    for_states(b, n, [&](auto i) { y_prop[i] = y[i] + dt * dy[i]; });
    fixed_step_out(b, o, t, dt);
  }
};

// rk2 (explicit midpoint): k1 = f(t,y); k2 = f(t+dt/2, y + 0.5*dt*k1); y' = y + dt*k2.
// Workspace: y_stage, k1, k2, v_stage, kv1, kv2 (each n).
struct StepRK2 {
  template <class B>
  void operator()(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val dt, typename B::Arr y,
                  typename B::Arr y_prop, StepOut<B>& o) const {
    const int n = c.n;
    auto y_stage = c.ws, k1 = b.offset(c.ws, n), k2 = b.offset(c.ws, 2 * n);
    f_eval(b, c, t, y, k1);
    for_states(b, n, [&](auto i) { y_stage[i] = y[i] + b.c(0.5) * dt * k1[i]; });
    f_eval(b, c, t + b.c(0.5) * dt, y_stage, k2);
    for_states(b, n, [&](auto i) { y_prop[i] = y[i] + dt * k2[i]; });
    fixed_step_out(b, o, t, dt);
  }
};

// rk4, classic tableau c=(0,1/2,1/2,1), b=(1,2,2,1)/6.
// Workspace: y_stage, k1, k2, k3, k4, v_stage, kv1..kv4 (each n).
struct StepRK4 {
  template <class B>
  void operator()(B& b, const StepCtx<B>& c, typename B::Val t, typename B::Val dt, typename B::Arr y,
                  typename B::Arr y_prop, StepOut<B>& o) const {
    const int n = c.n;
    auto y_stage = c.ws, k1 = b.offset(c.ws, n), k2 = b.offset(c.ws, 2 * n), k3 = b.offset(c.ws, 3 * n),
         k4 = b.offset(c.ws, 4 * n);
    auto half = b.c(0.5);
    f_eval(b, c, t, y, k1);
    for_states(b, n, [&](auto i) { y_stage[i] = y[i] + half * dt * k1[i]; });
    f_eval(b, c, t + half * dt, y_stage, k2);
    for_states(b, n, [&](auto i) { y_stage[i] = y[i] + half * dt * k2[i]; });
    f_eval(b, c, t + half * dt, y_stage, k3);
    for_states(b, n, [&](auto i) { y_stage[i] = y[i] + dt * k3[i]; });
    f_eval(b, c, t + dt, y_stage, k4);
    auto two = b.c(2.0);
    for_states(b, n, [&](auto i) {
      y_prop[i] = y[i] + (dt / b.c(6.0)) * (k1[i] + two * k2[i] + two * k3[i] + k4[i]);
    });
    fixed_step_out(b, o, t, dt);
  }
};

}  // namespace dynlib::kernels
