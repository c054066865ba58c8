// The Lyapunov exponent of the logistic map x' = r x (1 - x): ln 2 at r = 4, negative in the periodic
// windows, positive where the map is chaotic.
#include <cmath>
#include <cstdio>
#include <dynlib/dynlib.hpp>

int main() {
  auto sim = dynlib::setup("builtin://map/logistic");
  for (double r : {2.8, 3.2, 3.5, 3.83, 3.9, 4.0}) {
    sim.run({.N = 100000,
             .record = false,
             .transient = 1000.0,
             .ic = {{"x", 0.1234}},
             .params = {{"r", r}},
             .observers = {dynlib::lyapunov_mle({.trace_stride = 0})}});
    const double l = sim.results().observer("lyapunov_mle")["mle"];
    std::printf("r=%.2f: lambda = %+.5f (%s)\n", r, l, l > 0 ? "chaotic" : "regular");
  }
  std::printf("ln 2 = %.5f\n", std::log(2.0));
  return 0;
}
