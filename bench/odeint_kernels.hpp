// Boost.Odeint versions of the benchmarked problems (bench/odeint_kernels.cpp, compiled with the same
// -O3 -march=native -ffp-contract=off as the hand-written kernels). Same right-hand sides; odeint's own
// RK4 / Dormand-Prince arithmetic order, so the results are close to, not bit-equal with, dynlib's.
#pragma once
#include <cstdint>

namespace ok {

void lorenz_rk4(double* y, const double* p, double dt, std::int64_t steps);  // runge_kutta4
void l96_40_rk4(double* y, double F, double dt, std::int64_t steps);         // runge_kutta4
void hh_rk4(double* y, const double* p, double dt, std::int64_t steps);      // runge_kutta4
// integrate_adaptive(make_controlled(atol, rtol, runge_kutta_dopri5), ...) from t0 to t_end starting
// with dt0. Returns the number of steps odeint reports.
std::int64_t vdp_dopri5(double* y, double mu, double t0, double t_end, double dt0, double atol, double rtol);

}  // namespace ok
