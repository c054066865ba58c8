// Poincaré section of the Lorenz attractor: the points where z crosses 27 upwards, located by a root
// event on the stepper's dense output (docs/model-language.md "Root events"). The event is added to the
// builtin model by a mod; each crossing logs (x, y) at the located time.
#include <cmath>
#include <cstdio>
#include <dynlib/dynlib.hpp>

int main() {
  const char* section = R"(inline:
[mod]
name = "section"
[mod.add.events.section]
root = "z - 27"
direction = "up"
log = ["x", "y"]
)";
  auto sim = dynlib::setup("builtin://ode/lorenz", {.stepper = "dop853", .mods = {section}});
  sim.run({.T = 100.0, .record = false, .stepper = {{"atol", 1e-10}, {"rtol", 1e-10}}});
  const auto& res = sim.results();
  const auto points = res.events().of("section");
  std::printf("section z = 27 (upwards): %zu crossings in t <= %g\n", points.size(), res.t_final());
  // On the section z = 27 with z rising, dz/dt = x*y - beta*z > 0: every point has x*y >= beta*27 = 72.
  double min_xy = INFINITY;
  for (const auto& p : points) min_xy = std::fmin(min_xy, p["x"] * p["y"]);
  std::printf("smallest x*y on the section: %.3f (>= 72)\n", min_xy);
  for (std::size_t k = 0; k < points.size() && k < 5; ++k)
    std::printf("  t=%9.5f  x=%9.5f  y=%9.5f\n", points[k].t, points[k]["x"], points[k]["y"]);
  return min_xy > 72.0 - 1e-6 ? 0 : 1;
}
