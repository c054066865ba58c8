// Helper executable for the cross-process snapshot test:
//   snapshot_helper save PATH   run Lorenz rk4 to T=1 (dt=0.01) and save the session to PATH
//   snapshot_helper resume PATH load PATH, resume to T=2, print the final state as %a hex floats
#include <cstdio>
#include <dynlib/dynlib.hpp>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const std::string mode = argv[1];
  try {
    auto sim = dynlib::setup("builtin://ode/lorenz", {.stepper = "rk4"});
    if (mode == "save") {
      sim.run({.T = 1.0, .dt = 0.01});
      sim.save_snapshot(argv[2]);
      return 0;
    }
    if (mode == "resume") {
      sim.load_snapshot(argv[2]);
      sim.run({.T = 2.0, .resume = true});
      std::printf("%lld", static_cast<long long>(sim.step_count()));
      for (double v : sim.state_vector()) std::printf(" %a", v);
      std::printf("\n");
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 2;
}
