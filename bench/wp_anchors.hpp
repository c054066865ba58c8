// The reference solvers ("anchors") of the work-precision bench: SUNDIALS CVODE (wp_cvode.cpp) and
// Boost.Odeint (wp_odeint.cpp). Each call is one complete solve from t = 0 to the problem's end time.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "wp_problems.hpp"

namespace wp {

using Clock = std::chrono::steady_clock;

// The clock of the timed solves ("time ms"): wall time by default; with --cpu-time the CPU time of the
// calling thread, which a busy machine changes much less (time waiting for a core is not counted).
// Every solver is timed around its solve call in the calling thread, so both measure the same work.
void use_thread_cpu_time(bool on);
double solve_clock_seconds();

struct SolveStats {
  std::string status;       // "" = reached the end time; else e.g. "TIMEOUT", "MAX_STEPS", "STEPFAIL"
  std::string detail;       // the solver's message, if any
  std::vector<double> y;    // state at the end time
  std::int64_t steps = -1;  // accepted steps (-1: unknown)
  std::int64_t rhs = -1;    // right-hand side evaluations, including those for difference Jacobians
  std::int64_t jac = -1;    // Jacobian evaluations
  std::int64_t lu = -1;     // LU factorizations (linear solver setups)
  double seconds = -1.0;    // time of the solve proper (solve_clock_seconds), if the solver measures it
};

struct Budget {
  Clock::time_point deadline;  // a solve still running then stops with status TIMEOUT
  std::int64_t max_steps = 0;  // then MAX_STEPS
};

// The right-hand side with a call counter and the deadline check (every 64 calls, so the check costs
// little against cheap right-hand sides).
struct CountedRhs {
  const Problem* p = nullptr;
  Clock::time_point deadline;
  std::int64_t calls = 0;
  bool expired = false;
  // false once the deadline has passed (the caller stops the solve)
  bool operator()(double t, const double* y, double* dy) {
    if (expired || ((++calls & 63) == 0 && Clock::now() > deadline)) {
      expired = true;  // stays: a solver that retries after a failed call fails again
      return false;
    }
    p->rhs(t, y, dy);
    return true;
  }
};

enum class CvodeMethod { bdf, adams };
enum class OdeintMethod { dopri5_controlled, dopri5_dense, rosenbrock4, bulirsch_stoer };

bool have_cvode();   // false: built without SUNDIALS
bool have_odeint();  // false: built without Boost
SolveStats cvode_solve(const Problem& p, CvodeMethod m, double rtol, double atol, const Budget& budget);
SolveStats odeint_solve(const Problem& p, OdeintMethod m, double rtol, double atol, const Budget& budget);

// Long double reference run for --make-reference: Boost.Odeint runge_kutta_fehlberg78 at atol = rtol = tol,
// piecewise between p.breaks. Empty if Boost is absent or the problem has no long double rhs.
std::vector<long double> reference_solve(const Problem& p, long double tol);

}  // namespace wp
