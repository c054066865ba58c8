// A downstream program built against an installed dynlib.
#include <dynlib/model.hpp>

#include <cstdio>

int main() {
  auto m = dynlib::load_model("builtin://ode/vanderpol");
  std::printf("downstream: Model OK kind=%s states=%zu\n", m->kind == dynlib::ir::Kind::ode ? "ode" : "map",
              m->n_states());
  return 0;
}
