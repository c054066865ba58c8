// Lorenz system with RK4: the trajectory's bounds and final state, and a CSV of the run.
#include <algorithm>
#include <cstdio>
#include <dynlib/dynlib.hpp>

int main(int argc, char** argv) {
  auto sim = dynlib::setup("builtin://ode/lorenz", {.stepper = "rk4"});
  sim.run({.T = 50.0, .dt = 0.01});
  const auto& res = sim.results();
  std::printf("Lorenz (sigma=%g rho=%g beta=%g): %lld steps, status %s\n", sim.param("sigma"),
              sim.param("rho"), sim.param("beta"), static_cast<long long>(sim.step_count()),
              dynlib::status_name(res.status()));
  for (const char* v : {"x", "y", "z"}) {
    const auto c = res[v];
    auto [lo, hi] = std::minmax_element(c.begin(), c.end());
    std::printf("  %s in [%9.4f, %9.4f]\n", v, *lo, *hi);
  }
  std::printf("final state x=%.10f y=%.10f z=%.10f\n", sim.state("x"), sim.state("y"), sim.state("z"));
  if (argc > 1) {
    res.write_csv(argv[1]);
    std::printf("wrote %s\n", argv[1]);
  }
  return 0;
}
