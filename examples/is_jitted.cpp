// is_jitted: which components of a built model are native code. Builds builtin://ode/vanderpol (rk4) with
// jit = false and with jit = true and prints, per component, native or interpreted and its signature.
// Without the JIT component the jit = true build raises JITUnavailableError: the example says so (the
// library never falls back silently) and the jit = false table is still printed.
#include <cstdio>
#include <dynlib/dynlib.hpp>
#include <string>

namespace {

void print_table(const dynlib::FullModel& fm) {
  std::printf("%s, stepper %s, jit=%s:\n", fm.model().source.c_str(), fm.stepper().c_str(),
              fm.jit() ? "true" : "false");
  for (const std::string& c : fm.components()) {
    std::printf("  %-12s %-11s %s\n", c.c_str(), fm.is_jitted(c) ? "native" : "interpreted",
                fm.signature(c).c_str());
  }
}

}  // namespace

int main() {
  const char* uri = "builtin://ode/vanderpol";
  print_table(*dynlib::build(uri, {.stepper = "rk4", .jit = false}));
  std::printf("\n");
  try {
    print_table(*dynlib::build(uri, {.stepper = "rk4", .jit = true}));
  } catch (const dynlib::JITUnavailableError& e) {
    std::printf("jit=true: JIT component not available, so no component is native code here.\n  %s\n",
                e.what());
  }
  return 0;
}
