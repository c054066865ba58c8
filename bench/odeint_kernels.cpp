// Boost.Odeint baselines; see odeint_kernels.hpp.
#include "odeint_kernels.hpp"

#include <array>
#include <boost/numeric/odeint.hpp>
#include <cmath>

namespace ok {
namespace odeint = boost::numeric::odeint;

namespace {
template <std::size_t N, class Sys>
void rk4_loop(const Sys& sys, double* yio, double dt, std::int64_t steps) {
  using State = std::array<double, N>;
  State x;
  for (std::size_t i = 0; i < N; ++i) x[i] = yio[i];
  odeint::runge_kutta4<State> st;
  for (std::int64_t s = 0; s < steps; ++s) st.do_step(sys, x, static_cast<double>(s) * dt, dt);
  for (std::size_t i = 0; i < N; ++i) yio[i] = x[i];
}
}  // namespace

void lorenz_rk4(double* y, const double* p, double dt, std::int64_t steps) {
  const double sigma = p[0], rho = p[1], beta = p[2];
  auto sys = [=](const std::array<double, 3>& x, std::array<double, 3>& d, double) {
    d[0] = sigma * (x[1] - x[0]);
    d[1] = x[0] * (rho - x[2]) - x[1];
    d[2] = x[0] * x[1] - beta * x[2];
  };
  rk4_loop<3>(sys, y, dt, steps);
}

void l96_40_rk4(double* y, double F, double dt, std::int64_t steps) {
  constexpr int n = 40;
  auto sys = [=](const std::array<double, n>& x, std::array<double, n>& d, double) {
    d[0] = (x[1] - x[n - 2]) * x[n - 1] - x[0] + F;
    d[1] = (x[2] - x[n - 1]) * x[0] - x[1] + F;
    for (int i = 2; i < n - 1; ++i) d[i] = (x[i + 1] - x[i - 2]) * x[i - 1] - x[i] + F;
    d[n - 1] = (x[0] - x[n - 3]) * x[n - 2] - x[n - 1] + F;
  };
  rk4_loop<n>(sys, y, dt, steps);
}

void hh_rk4(double* y, const double* p, double dt, std::int64_t steps) {
  auto boltzmann = [](double Vmid, double k, double V) { return 1.0 / (1.0 + std::exp((Vmid - V) / k)); };
  auto gaussian = [](double Vmax, double sigma, double Camp, double Cbase, double V) {
    const double d = Vmax - V;
    return Cbase + Camp * std::exp(-(d * d) / (sigma * sigma));
  };
  auto sys = [=](const std::array<double, 4>& x, std::array<double, 4>& d, double) {
    const double V = x[0], n = x[1], m = x[2], h = x[3];
    const double m_inf = boltzmann(p[8], p[9], V), h_inf = boltzmann(p[14], p[15], V),
                 n_inf = boltzmann(p[20], p[21], V);
    const double tau_m = gaussian(p[10], p[11], p[12], p[13], V),
                 tau_h = gaussian(p[16], p[17], p[18], p[19], V),
                 tau_n = gaussian(p[22], p[23], p[24], p[25], V);
    d[0] = (p[7] - p[4] * ((n * n) * (n * n)) * (V - p[1]) - p[5] * (m * m * m) * h * (V - p[2]) -
            p[6] * (V - p[3])) /
           p[0];
    d[1] = (n_inf - n) / tau_n;
    d[2] = (m_inf - m) / tau_m;
    d[3] = (h_inf - h) / tau_h;
  };
  rk4_loop<4>(sys, y, dt, steps);
}

std::int64_t vdp_dopri5(double* y, double mu, double t0, double t_end, double dt0, double atol, double rtol) {
  using State = std::array<double, 2>;
  State x{y[0], y[1]};
  auto sys = [=](const State& s, State& d, double) {
    d[0] = s[1];
    d[1] = mu * (1.0 - s[0] * s[0]) * s[1] - s[0];
  };
  auto stepper = odeint::make_controlled(atol, rtol, odeint::runge_kutta_dopri5<State>());
  const std::size_t steps = odeint::integrate_adaptive(stepper, sys, x, t0, t_end, dt0);
  y[0] = x[0];
  y[1] = x[1];
  return static_cast<std::int64_t>(steps);
}

}  // namespace ok
