// Hand-written C++ versions of the benchmarked algorithms (bench/native_kernels.cpp is compiled with
// -O3 -march=native -ffp-contract=off). Each one performs the same floating-point operations in the
// same order as dynlib's kernels (src/kernels/stepper_explicit.hpp, stepper_rk45.hpp and the model
// expressions lowered left to right, x**k by repeated squaring), so the final states can be compared
// bit for bit with the interpreter and the JIT. Parameters are runtime arguments (as in the runner),
// not compile-time constants.
#pragma once
#include <cstdint>

namespace nk {

// Lorenz: p = {sigma, rho, beta}; y[3] advanced in place by `steps` RK4 steps of size dt.
void lorenz_rk4(double* y, const double* p, double dt, std::int64_t steps);

// Lorenz-96 with 40 states: dx_i = (x_{i+1} - x_{i-2})*x_{i-1} - x_i + F (indices mod 40).
void l96_40_rk4(double* y, double F, double dt, std::int64_t steps);

// Hodgkin-Huxley (models/ode/hodgkin-huxley.toml): y = {V, n, m, h}; p = the 25 params in file order.
// aux_out == nullptr: RK4 only. aux_out != nullptr (6 doubles): additionally evaluates the 6 aux
// variables after every step, as dynlib's runner does (update_aux), storing them there.
void hh_rk4(double* y, const double* p, double dt, std::int64_t steps, double* aux_out);

// Van der Pol with dynlib's rk45 (Dormand-Prince 5(4), no FSAL, kernels/stepper_rk45.hpp) and the runner's
// adaptive loop from t0 to t_end, starting from CompiledModel::initial_step's h (computed here the
// same way). cfg = {atol, rtol, safety, min_factor, max_factor, max_tries, min_step, dt_max}.
// Returns the number of accepted steps (-1 on step failure).
std::int64_t vdp_rk45(double* y, double mu, double t0, double t_end, const double* cfg);

// Maps, the plain loop a C++ programmer would write (state in locals, parameters runtime values), in
// the operation order of the model files: logistic x' = (r*x)*(1 - x); Henon x' = (1 - a*(x*x)) + y,
// y' = b*x; standard map (models/map/standard.toml, Python's floored %). y advanced in place by `steps`.
void logistic(double* y, double r, std::int64_t steps);
void henon(double* y, double a, double b, std::int64_t steps);
void standard(double* y, double K, std::int64_t steps);

}  // namespace nk
