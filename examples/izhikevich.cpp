// Izhikevich neuron: the reset event (v >= v_th: v <- c, u <- u + d) and its event log, for two presets.
#include <cstdio>
#include <dynlib/dynlib.hpp>

int main() {
  auto sim = dynlib::setup("builtin://ode/izhikevich", {.stepper = "rk4"});
  for (const char* preset : {"regular_spiking", "fast_spiking"}) {
    sim.reset();
    sim.apply_preset(preset);
    sim.run({.T = 200.0, .dt = 0.01});
    const auto& res = sim.results();
    const auto& ev = res.events();
    std::printf("preset %s: %zu spikes in %g ms (%lld steps)\n", preset, ev.count("reset"), res.t_final(),
                static_cast<long long>(sim.step_count()));
    std::size_t shown = 0;
    for (const auto& e : ev) {
      if (shown++ == 6) {
        std::printf("  ...\n");
        break;
      }
      std::printf("  spike %-3zu t=%8.3f ms  step=%-6lld v after reset=%.1f\n", shown, e.t,
                  static_cast<long long>(e.step), res["v"][static_cast<std::size_t>(e.record + 1)]);
    }
  }
  return 0;
}
