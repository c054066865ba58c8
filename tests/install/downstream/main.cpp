// A downstream program built against an installed dynlib (C++20 comes from dynlib::dynlib).
#include <cstdio>
#include <dynlib/dynlib.hpp>

int main() {
  auto m = dynlib::load_model("builtin://ode/vanderpol");
  std::printf("downstream: Model OK kind=%s states=%zu\n", m->kind == dynlib::ir::Kind::ode ? "ode" : "map",
              m->n_states());
  auto sim = dynlib::setup("builtin://ode/vanderpol");
  sim.run({.T = 1.0, .dt = 0.01});
  std::printf("downstream: %zu records, status %s\n", sim.results().size(),
              dynlib::status_name(sim.status()));
  return 0;
}
