// The classic stiff test problems (ROBER, HIRES, OREGO, Van der Pol with mu = 1000) as inline model
// URIs with their end times and reference solutions, shared by the stiff steppers' tests and
// bench/stiff_steppers.cpp. Reference values: the usual test-set values at these end times (ROBER at
// t = 40 carries 10 digits).
#pragma once
#include <cstring>
#include <vector>

namespace dynlib::test_problems {

struct StiffProblem {
  const char* name;
  const char* uri;  // "inline:" model text: [model], [states], [params], [equations.rhs]; no [sim]
  double t_end;
  std::vector<double> ref;  // the solution at t_end
};

// The model text from [states] on (for callers that write their own [model] header).
inline const char* model_body(const char* uri) {
  const char* b = std::strstr(uri, "[states]");
  return b != nullptr ? b : uri;
}

inline const StiffProblem kRober{"ROBER",
                                 R"M(inline:
[model]
type = "ode"
[states]
y1 = 1.0
y2 = 0.0
y3 = 0.0
[equations.rhs]
y1 = "-0.04*y1 + 1e4*y2*y3"
y2 = "0.04*y1 - 1e4*y2*y3 - 3e7*y2*y2"
y3 = "3e7*y2*y2"
)M",
                                 40.0,
                                 {0.7158270687, 9.185534765e-6, 0.2841637457}};

inline const StiffProblem kHires{
    "HIRES",
    R"M(inline:
[model]
type = "ode"
[states]
y1 = 1.0
y2 = 0.0
y3 = 0.0
y4 = 0.0
y5 = 0.0
y6 = 0.0
y7 = 0.0
y8 = 0.0057
[equations.rhs]
y1 = "-1.71*y1 + 0.43*y2 + 8.32*y3 + 0.0007"
y2 = "1.71*y1 - 8.75*y2"
y3 = "-10.03*y3 + 0.43*y4 + 0.035*y5"
y4 = "8.32*y2 + 1.71*y3 - 1.12*y4"
y5 = "-1.745*y5 + 0.43*y6 + 0.43*y7"
y6 = "-280.0*y6*y8 + 0.69*y4 + 1.71*y5 - 0.43*y6 + 0.69*y7"
y7 = "280.0*y6*y8 - 1.81*y7"
y8 = "-(280.0*y6*y8 - 1.81*y7)"
)M",
    321.8122,
    {7.37131257332567e-4, 1.44248572631618e-4, 5.8887297409676e-5, 1.175651343283149e-3, 2.38635619883133e-3,
     6.238968252742796e-3, 2.849998395185769e-3, 2.850001604814231e-3}};

inline const StiffProblem kOrego{"OREGO",
                                 R"M(inline:
[model]
type = "ode"
[states]
y1 = 1.0
y2 = 2.0
y3 = 3.0
[equations.rhs]
y1 = "77.27*(y2 + y1*(1 - 8.375e-6*y1 - y2))"
y2 = "(y3 - (1 + y1)*y2)/77.27"
y3 = "0.161*(y1 - y3)"
)M",
                                 360.0,
                                 {1.000814870318523, 1228.178521549889, 132.0554942846513}};

// Unscaled form (y2 = y1'), mu as a parameter.
inline const StiffProblem kVdp1000{"VDP1000",
                                   R"M(inline:
[model]
type = "ode"
[states]
y1 = 2.0
y2 = 0.0
[params]
mu = 1000.0
[equations.rhs]
y1 = "y2"
y2 = "mu*(1 - y1*y1)*y2 - y1"
)M",
                                   3000.0,
                                   {-1.510606936744095, 1.178380000730945e-3}};

}  // namespace dynlib::test_problems
