// Logistic map x' = r x (1 - x): transient, then the attractor for a few r (period 1, 2, 4, chaos).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <dynlib/dynlib.hpp>
#include <vector>

int main() {
  auto sim = dynlib::setup("builtin://map/logistic");
  for (double r : {2.8, 3.2, 3.5, 3.9}) {
    sim.reset();
    sim.run({.N = 64, .transient = 1000, .params = {{"r", r}}});
    std::vector<double> x(sim.results()["x"].begin(), sim.results()["x"].end());
    std::sort(x.begin(), x.end());
    std::vector<double> distinct;
    for (double v : x)
      if (distinct.empty() || std::fabs(v - distinct.back()) > 1e-6) distinct.push_back(v);
    std::printf("r=%.2f: ", r);
    if (distinct.size() <= 8) {
      std::printf("period %zu:", distinct.size());
      for (double v : distinct) std::printf(" %.6f", v);
    } else {
      std::printf("chaotic (%zu distinct values in 65 iterates)", distinct.size());
    }
    std::printf("\n");
  }
  return 0;
}
