// The Lyapunov spectrum of the Henon map (a = 1.4, b = 0.3): about (0.419, -1.62); the sum equals
// ln|det J| = ln b exactly.
#include <cmath>
#include <cstdio>
#include <dynlib/dynlib.hpp>

int main() {
  auto sim = dynlib::setup("builtin://map/henon");
  sim.run({.N = 100000,
           .record = false,
           .transient = 1000.0,
           .ic = {{"x", 0.1}, {"y", 0.1}},
           .observers = {dynlib::lyapunov_spectrum({.k = 2, .trace_stride = 0})}});
  const auto ex = sim.results().observer("lyapunov_spectrum").exponents();
  std::printf("Henon spectrum: lambda1 = %.4f, lambda2 = %.4f\n", ex[0], ex[1]);
  std::printf("sum = %.6f, ln b = %.6f\n", ex[0] + ex[1], std::log(0.3));
  return 0;
}
