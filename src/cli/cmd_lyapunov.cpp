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

double num(const std::string& s, const std::string& what) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end) throw UsageError("bad number for " + what + ": '" + s + "'");
  return v;
}

std::int64_t integer(const std::string& s, const std::string& what) {
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end) throw UsageError("bad integer for " + what + ": '" + s + "'");
  return v;
}

Assignments kv(const std::vector<std::string>& items, const std::string& what) {
  Assignments out;
  for (const auto& it : items) {
    const auto eq = it.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError(what + " expects name=value, got '" + it + "'");
    out.emplace_back(it.substr(0, eq), num(it.substr(eq + 1), what + " " + it.substr(0, eq)));
  }
  return out;
}

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
  const std::int64_t k = p.get("k") ? integer(*p.get("k"), "--k") : 1;
  LyapunovOptions lo;
  lo.k = static_cast<int>(k);
  lo.renorm_every = p.get("renorm_every") ? integer(*p.get("renorm_every"), "--renorm-every") : 1;
  lo.trace_stride = 0;
  const Observer obs = k == 1 ? lyapunov_mle(lo) : lyapunov_spectrum(lo);
  RunOptions ro;
  if (p.get("T")) ro.T = num(*p.get("T"), "--T");
  if (p.get("N")) ro.N = integer(*p.get("N"), "--N");
  if (p.get("dt")) ro.dt = num(*p.get("dt"), "--dt");
  if (p.get("transient")) ro.transient = num(*p.get("transient"), "--transient");
  ro.params = kv(p.all("param"), "--param");
  ro.ic = kv(p.all("state"), "--state");
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
