// jit_vanderpol: the README's main program. Van der Pol oscillator (builtin://ode/vanderpol) with RK4,
// compiled by the JIT and cached on disk, run to T = 20.
// If the JIT component is not installed the library raises JITUnavailableError (it never falls back
// silently); this example then falls back to the interpreter EXPLICITLY, and says so.
#include <cstdio>
#include <dynlib/dynlib.hpp>

int main() {
  dynlib::BuildOptions opts{.stepper = "rk4", .jit = true, .disk_cache = true};
  dynlib::Sim sim = [&] {
    try {
      return dynlib::setup("builtin://ode/vanderpol", opts);
    } catch (const dynlib::JITUnavailableError& e) {
      std::printf(
          "note: JIT unavailable (%s)\nnote: falling back to the interpreter (jit=false) explicitly\n",
          e.what());
      opts.jit = false;
      opts.disk_cache = false;
      return dynlib::setup("builtin://ode/vanderpol", opts);
    }
  }();
  sim.run({.T = 20.0});
  const auto& res = sim.results();
  const auto x = res["x"], y = res["y"];
  double xmax = x[0], xmin = x[0];
  for (double v : x) xmax = v > xmax ? v : xmax, xmin = v < xmin ? v : xmin;
  std::printf("Van der Pol (mu=%g), stepper %s, %s\n", sim.param("mu"), sim.model().stepper_name().c_str(),
              sim.model().is_jitted("runner") ? "JIT-compiled" : "interpreted");
  std::printf("status %s: %lld steps to t=%g, %zu records\n", dynlib::status_name(res.status()),
              static_cast<long long>(sim.step_count()), res.t_final(), res.size());
  std::printf("x range [%.6f, %.6f]\n", xmin, xmax);
  std::printf("final state x=%.12f y=%.12f\n", x.back(), y.back());
  for (std::size_t i = 0; i < res.size(); i += res.size() / 5)
    std::printf("  t=%6.2f  x=% .6f  y=% .6f\n", res.t()[i], x[i], y[i]);
  return res.ok() ? 0 : 1;
}
