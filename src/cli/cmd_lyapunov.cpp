// dynlib lyapunov URI [options]: Lyapunov exponents of a model (docs/analysis.md).
#include <cstdio>
#include <cstdlib>
#include <dynlib/dynlib.hpp>
#include <string>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "cli/progress.hpp"

namespace dynlib::cli {
namespace {

const char* kUsage =
    "usage: dynlib lyapunov URI [--k K] [--renorm-every m] [common options]\n"
    "  --k K             number of exponents (1 = the largest only, default; up to the number of states)\n"
    "  --renorm-every m  steps between renormalisations, >= 1 (default 1)\n"
    "Prints the exponents; if the run does not finish (status other than DONE), prints the status and exits "
    "1.\n";

}  // namespace

int cmd_lyapunov(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::fputs(kCommonOptionsHelp, stdout);
      return 0;
    }
  const auto p = parse_args(args, with_common_values({"k", "renorm_every"}), with_common_flags({}));
  if (p.positional.size() != 1) throw UsageError(std::string("expected one model URI\n") + kUsage);
  const CommonOptions co = read_common(p);
  const std::int64_t k = p.get("k") ? parse_integer_at_least(*p.get("k"), "--k", 1) : 1;
  LyapunovOptions lo;
  lo.k = static_cast<int>(k);
  lo.renorm_every =
      p.get("renorm_every") ? parse_integer_at_least(*p.get("renorm_every"), "--renorm-every", 1) : 1;
  lo.trace_stride = 0;
  auto sim = setup(p.positional[0], co.build);
  const auto& m = sim.model().model();
  if (k > static_cast<std::int64_t>(m.n_states())) {
    throw UsageError("--k must be at most the number of states (" + std::to_string(m.n_states()) + "), got " +
                     std::to_string(k));
  }
  const Observer obs = k == 1 ? lyapunov_mle(lo) : lyapunov_spectrum(lo);
  if (co.preset) sim.apply_preset(*co.preset);
  SimConfig cfg;
  cfg.max_steps = co.max_steps;
  cfg.stepper = co.settings;
  sim.config(cfg);
  RunOptions ro;
  ro.T = co.T;
  ro.N = co.N;
  ro.dt = co.dt;
  ro.t0 = co.t0;
  ro.transient = co.transient;
  ro.params = co.params;
  ro.ic = co.states;
  ro.record = false;
  ro.observers = {obs};
  Status st{};
  {
    ProgressLine progress(!co.quiet,
                          [](double s) { return "lyapunov: running, " + std::to_string(int(s)) + " s"; });
    st = sim.run(ro);
  }
  const auto& o = sim.results().observer(obs.key());
  const auto ex = o.exponents();
  std::printf("model: %s\n", m.name.empty() ? m.source.c_str() : m.name.c_str());
  std::printf("stepper: %s (%s)\n", sim.model().stepper().c_str(), sim.model().jit() ? "jit" : "interpreter");
  std::printf("status: %s\n", status_name(st));
  std::printf("steps: %.0f  %s: %.17g\n", o["steps"], m.kind == ir::Kind::map ? "iterations" : "time",
              o["denom"]);
  if (k == 1) {
    std::printf("mle: %.10f\n", ex[0]);
  } else {
    double s = 0.0;
    for (std::size_t j = 0; j < ex.size(); ++j) {
      std::printf("lambda%zu: %.10f\n", j, ex[j]);
      s += ex[j];
    }
    std::printf("sum: %.10f\n", s);
  }
  if (st != Status::DONE) {
    std::fprintf(
        stderr,
        "lyapunov: the run stopped early (status %s at %s %.17g); the exponents cover only that part\n",
        status_name(st), m.kind == ir::Kind::map ? "iteration" : "t", o["denom"]);
    return 1;
  }
  return 0;
}

}  // namespace dynlib::cli
