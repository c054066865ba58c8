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

  // Errors thrown inside libdynlib are caught here by their type (their type information is exported).
  try {
    (void)dynlib::build("builtin://ode/vanderpol", {.stepper = "rk5"});
  } catch (const dynlib::UnknownStepperError&) {
    std::printf("downstream: caught UnknownStepperError\n");
  }
  try {
    (void)dynlib::load_model("inline: [model\n");
  } catch (const dynlib::ModelLoadError& e) {
    std::printf("downstream: caught ModelLoadError kind=%s exact=%d\n", e.kind(),
                dynamic_cast<const dynlib::TomlSyntaxError*>(&e) != nullptr);
  }
  try {
    (void)sim.state("nope");
  } catch (const dynlib::ArgumentError&) {
    std::printf("downstream: caught ArgumentError\n");
  }
  return 0;
}
