// The test problems of the work-precision bench (bench/work_precision.cpp): each as dynlib model text and
// as a plain C++ right-hand side (for the CVODE and Boost.Odeint anchors, and in long double for the
// stored reference solutions), with the reference solution at the end time.
#pragma once
#include <string>
#include <vector>

namespace wp {

using RhsFn = void (*)(double t, const double* y, double* dy);
using RhsLongFn = void (*)(long double t, const long double* y, long double* dy);

struct Problem {
  std::string key;    // command-line name
  std::string title;  // shown in the table
  int n = 0;
  double t_end = 0.0;
  std::vector<double> y0;
  std::vector<double> ref;  // y(t_end); empty: no reference (the error column is n/a)
  std::string ref_source;   // where ref comes from
  // The tolerance pairing: rtol = tol, atol = atol_scale * tol. The error measure divides by
  // (atol_scale + |ref_i|), so it is the test set's mixed measure for this pairing.
  double atol_scale = 1.0;
  bool stiff = false;
  RhsFn rhs = nullptr;
  RhsLongFn rhs_long = nullptr;  // for recomputing the reference (--make-reference); null: not possible
  std::vector<double> breaks;    // times where the rhs jumps (the reference integrates piecewise)
  std::string model;             // dynlib model text ("inline:..." URI)
};

// All problems in table order. The Brusselator reference is read from `bruss_ref_path` (a file shipped
// with the bench); if it cannot be read, that problem has no reference.
std::vector<Problem> all_problems(const std::string& bruss_ref_path);

// max_i |y_i - ref_i| / (atol_scale + |ref_i|)
double mixed_error(const Problem& p, const std::vector<double>& y);

}  // namespace wp
