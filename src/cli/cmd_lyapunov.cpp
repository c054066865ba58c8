// dynlib lyapunov URI [options]: Lyapunov exponents of a model (docs/analysis.md).
#include <dynlib/dynlib.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/args.hpp"
#include "cli/commands.hpp"

namespace dynlib::cli {
namespace {

const char* kUsage =
    "usage: dynlib lyapunov URI [--k K] [--stepper S] [--T x | --N n] [--dt h] [--transient x]\n"
    "                           [--param k=v]... [--state k=v]... [--renorm-every m] [--jit]\n"
    "  --k K   number of exponents (1 = the largest only, default; up to the number of states)\n";

}  // namespace

int cmd_lyapunov(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  const auto p = parse_args(args, {"k", "stepper", "T", "N", "dt", "transient", "param", "state", "renorm_every"},
                            {"jit"});
  if (p.positional.size() != 1) throw UsageError(std::string("expected one model URI\n") + kUsage);
  BuildOptions bo;
  bo.stepper = p.get("stepper").value_or("");
  bo.jit = p.flag("jit");
  auto sim = setup(p.positional[0], bo);
  const auto& m = sim.model().model();
  const std::int64_t k = p.get("k") ? parse_integer(*p.get("k"), "--k") : 1;
  LyapunovOptions lo;
  lo.k = static_cast<int>(k);
  lo.renorm_every = p.get("renorm_every") ? parse_integer(*p.get("renorm_every"), "--renorm-every") : 1;
  lo.trace_stride = 0;
  const Observer obs = k == 1 ? lyapunov_mle(lo) : lyapunov_spectrum(lo);
  RunOptions ro;
  if (p.get("T")) ro.T = parse_number(*p.get("T"), "--T");
  if (p.get("N")) ro.N = parse_integer(*p.get("N"), "--N");
  if (p.get("dt")) ro.dt = parse_number(*p.get("dt"), "--dt");
  if (p.get("transient")) ro.transient = parse_number(*p.get("transient"), "--transient");
  ro.params = parse_assignments(p.all("param"), "--param");
  ro.ic = parse_assignments(p.all("state"), "--state");
  ro.record = false;
  ro.observers = {obs};
  sim.run(ro);
  const auto& o = sim.results().observer(obs.key());
  const auto ex = o.exponents();
  std::printf("model: %s\n", m.name.empty() ? m.source.c_str() : m.name.c_str());
  std::printf("stepper: %s (%s)\n", sim.model().stepper().c_str(), sim.model().jit() ? "jit" : "interpreter");
  std::printf("steps: %.0f  %s: %.17g\n", o["steps"], m.kind == ir::Kind::map ? "iterations" : "time", o["denom"]);
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
  return 0;
}

}  // namespace dynlib::cli
