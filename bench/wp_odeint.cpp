// Boost.Odeint anchors of the work-precision bench; see wp_anchors.hpp. Built without Boost, the functions
// report that Odeint is absent.
#include <cmath>
#include <exception>
#include <limits>

#include "wp_anchors.hpp"

#if DYNLIB_WP_HAVE_ODEINT
#include <boost/numeric/odeint.hpp>
#endif

namespace wp {

#if DYNLIB_WP_HAVE_ODEINT
namespace odeint = boost::numeric::odeint;

namespace {

struct BudgetExceeded {};

using State = std::vector<double>;
using UVec = boost::numeric::ublas::vector<double>;
using UMat = boost::numeric::ublas::matrix<double>;

// Initial step handed to Odeint (its steppers adapt it); dynlib gets the same cap.
constexpr double kFirstStep = 1e-6;

struct System {
  CountedRhs* f;
  void operator()(const State& x, State& d, double t) const {
    if (!(*f)(t, x.data(), d.data())) throw BudgetExceeded{};
  }
};

// rosenbrock4 works on ublas vectors and needs df/dy and df/dt: central differences here (a Rosenbrock
// method's order needs an accurate Jacobian; forward differences cost it about half the digits at tight
// tolerances), counted as right-hand side evaluations.
struct UblasSystem {
  CountedRhs* f;
  void operator()(const UVec& x, UVec& d, double t) const {
    if (!(*f)(t, &x[0], &d[0])) throw BudgetExceeded{};
  }
};
struct UblasJacobian {
  CountedRhs* f;
  std::int64_t* jac;
  void operator()(const UVec& x, UMat& J, double t, UVec& dfdt) const {
    const std::size_t n = x.size();
    UVec fp(n), fm(n), xp = x;
    const double cb = std::cbrt(std::numeric_limits<double>::epsilon());
    for (std::size_t j = 0; j < n; ++j) {
      const double h = cb * std::max(std::fabs(x[j]), 1e-3);
      xp[j] = x[j] + h;
      if (!(*f)(t, &xp[0], &fp[0])) throw BudgetExceeded{};
      xp[j] = x[j] - h;
      if (!(*f)(t, &xp[0], &fm[0])) throw BudgetExceeded{};
      for (std::size_t i = 0; i < n; ++i) J(i, j) = (fp[i] - fm[i]) / (2.0 * h);
      xp[j] = x[j];
    }
    const double ht = cb * std::max(std::fabs(t), 1.0);
    if (!(*f)(t + ht, &x[0], &fp[0])) throw BudgetExceeded{};
    if (!(*f)(t - ht, &x[0], &fm[0])) throw BudgetExceeded{};
    for (std::size_t i = 0; i < n; ++i) dfdt[i] = (fp[i] - fm[i]) / (2.0 * ht);
    ++*jac;
  }
};

}  // namespace

bool have_odeint() { return true; }

SolveStats odeint_solve(const Problem& p, OdeintMethod m, double rtol, double atol, const Budget& budget) {
  SolveStats s;
  CountedRhs f{&p, budget.deadline};
  const double t0 = 0.0, t1 = p.t_end;
  const double start = solve_clock_seconds();
  try {
    std::size_t steps = 0;
    if (m == OdeintMethod::rosenbrock4) {
      UVec x(p.y0.size());
      for (std::size_t i = 0; i < x.size(); ++i) x[i] = p.y0[i];
      std::int64_t jac = 0;
      auto st = odeint::make_controlled(atol, rtol, odeint::rosenbrock4<double>());
      steps = odeint::integrate_adaptive(st, std::make_pair(UblasSystem{&f}, UblasJacobian{&f, &jac}), x, t0,
                                         t1, kFirstStep);
      s.y.assign(x.begin(), x.end());
      s.jac = jac;
      s.lu = -1;  // one per attempted step; odeint does not report attempts
    } else {
      State x = p.y0;
      if (m == OdeintMethod::dopri5_controlled) {
        auto st = odeint::make_controlled(atol, rtol, odeint::runge_kutta_dopri5<State>());
        steps = odeint::integrate_adaptive(st, System{&f}, x, t0, t1, kFirstStep);
      } else if (m == OdeintMethod::dopri5_dense) {
        auto st = odeint::make_dense_output(atol, rtol, odeint::runge_kutta_dopri5<State>());
        steps = odeint::integrate_adaptive(st, System{&f}, x, t0, t1, kFirstStep);
      } else {
        odeint::bulirsch_stoer<State> st(atol, rtol);
        steps = odeint::integrate_adaptive(st, System{&f}, x, t0, t1, kFirstStep);
      }
      s.y = x;
    }
    s.steps = static_cast<std::int64_t>(steps);
    if (static_cast<std::int64_t>(steps) > budget.max_steps) s.status = "MAX_STEPS";
  } catch (const BudgetExceeded&) {
    s.status = "TIMEOUT";
  } catch (const std::exception& e) {
    s.status = "STEPFAIL";
    s.detail = e.what();
  }
  s.seconds = solve_clock_seconds() - start;
  s.rhs = f.calls - (f.expired ? 1 : 0);
  return s;
}

std::vector<long double> reference_solve(const Problem& p, long double tol) {
  if (!p.rhs_long) return {};
  using LState = std::vector<long double>;
  LState x(p.y0.begin(), p.y0.end());
  std::vector<long double> stops;
  for (double b : p.breaks)
    if (b > 0.0 && b < p.t_end) stops.push_back(b);
  stops.push_back(p.t_end);
  long double t = 0.0L;
  for (long double stop : stops) {
    // A piece that ends at a break sees the rhs from before the jump, also in the stages at its end.
    const bool at_break = stop < static_cast<long double>(p.t_end);
    const long double below = std::nextafter(stop, -INFINITY);
    auto sys = [&p, at_break, below](const LState& y, LState& d, long double tt) {
      p.rhs_long(at_break && tt > below ? below : tt, y.data(), d.data());
    };
    auto st = odeint::make_controlled(tol, tol, odeint::runge_kutta_fehlberg78<LState, long double>());
    odeint::integrate_adaptive(st, sys, x, t, stop, 1e-6L);
    t = stop;
  }
  return x;
}

#else

bool have_odeint() { return false; }
SolveStats odeint_solve(const Problem&, OdeintMethod, double, double, const Budget&) {
  SolveStats s;
  s.status = "UNAVAILABLE";
  s.detail = "built without Boost.Odeint";
  return s;
}
std::vector<long double> reference_solve(const Problem&, long double) { return {}; }

#endif

}  // namespace wp
