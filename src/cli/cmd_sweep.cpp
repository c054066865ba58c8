// dynlib sweep URI --param name=start:stop:count [--param ...] ... --out file.csv (docs/analysis.md).
#include <dynlib/dynlib.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/output_paths.hpp"

namespace dynlib::cli {
namespace {

const char* kUsage =
    "usage: dynlib sweep URI --param name=start:stop:count [--param name=start:stop:count]\n"
    "                        [--T x | --N n] [--dt h] [--transient x] [--record-last K] [--stepper S]\n"
    "                        [--set name=value]... [--state k=v]... [--threads n] [--lyapunov K] --out file.csv\n"
    "  --param        one axis (1-D sweep) or two (2-D); name=value (no colon) fixes a parameter\n"
    "  --record-last  keep the last K records of every point (one CSV row per record); otherwise one row\n"
    "                 per point with the final state\n"
    "  --lyapunov K   add Lyapunov exponents (K = 1: the largest) to every point\n";

}  // namespace

int cmd_sweep(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  const auto p = parse_args(args, {"param", "T", "N", "dt", "transient", "record_last", "stepper", "set", "state",
                                   "threads", "lyapunov", "out"},
                            {"jit"});
  if (p.positional.size() != 1) throw UsageError(std::string("expected one model URI\n") + kUsage);
  if (!p.get("out")) throw UsageError("--out file.csv is required");
  check_output_paths({{"--out", *p.get("out")}});
  std::vector<SweepAxis> axes;
  BatchItem base;
  for (const auto& it : p.all("param")) {
    const auto eq = it.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("--param expects name=start:stop:count, got '" + it + "'");
    const std::string name = it.substr(0, eq), rest = it.substr(eq + 1);
    const auto c1 = rest.find(':');
    if (c1 == std::string::npos) {
      base.params.emplace_back(name, parse_number(rest, "--param " + name));
      continue;
    }
    const auto c2 = rest.find(':', c1 + 1);
    if (c2 == std::string::npos) throw UsageError("--param expects name=start:stop:count, got '" + it + "'");
    axes.push_back(SweepAxis::linspace(name, parse_number(rest.substr(0, c1), "--param " + name + " start"),
                                       parse_number(rest.substr(c1 + 1, c2 - c1 - 1), "--param " + name + " stop"),
                                       parse_integer(rest.substr(c2 + 1), "--param " + name + " count")));
  }
  if (axes.empty() || axes.size() > 2) throw UsageError("give one or two --param name=start:stop:count axes");
  for (const auto& it : p.all("state")) {
    const auto eq = it.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("--state expects name=value, got '" + it + "'");
    base.ic.emplace_back(it.substr(0, eq), parse_number(it.substr(eq + 1), "--state"));
  }
  BatchOptions o;
  if (p.get("T")) o.T = parse_number(*p.get("T"), "--T");
  if (p.get("N")) o.N = parse_integer(*p.get("N"), "--N");
  if (p.get("dt")) o.dt = parse_number(*p.get("dt"), "--dt");
  if (p.get("transient")) o.transient = parse_number(*p.get("transient"), "--transient");
  if (p.get("record_last")) o.record_last = parse_integer(*p.get("record_last"), "--record-last");
  if (p.get("threads")) o.threads = static_cast<unsigned>(parse_integer(*p.get("threads"), "--threads"));
  for (const auto& it : p.all("set")) {
    const auto eq = it.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("--set expects name=value, got '" + it + "'");
    o.stepper.emplace_back(it.substr(0, eq), parse_number(it.substr(eq + 1), "--set"));
  }
  if (p.get("lyapunov")) {
    const auto k = parse_integer(*p.get("lyapunov"), "--lyapunov");
    LyapunovOptions lo;
    lo.k = static_cast<int>(k);
    lo.trace_stride = 0;
    o.observers = {k == 1 ? lyapunov_mle(lo) : lyapunov_spectrum(lo)};
  }
  BuildOptions bo;
  bo.stepper = p.get("stepper").value_or("");
  bo.jit = p.flag("jit");
  auto fm = build(p.positional[0], bo);
  const auto sw = sweep(fm, axes, o, base);
  sw.write_csv(*p.get("out"));
  std::size_t failed = 0;
  for (const auto& r : sw.batch.runs) failed += r.ok() ? 0 : 1;
  std::printf("sweep: %zu points (%zu x %zu) on %u threads in %.3f s -> %s\n", sw.batch.size(), sw.nx(), sw.ny(),
              sw.batch.threads, sw.batch.seconds, p.get("out")->c_str());
  if (failed) {
    std::fprintf(stderr, "%zu points failed; first error: ", failed);
    for (const auto& r : sw.batch.runs)
      if (!r.ok()) {
        std::fprintf(stderr, "%s\n", r.error.c_str());
        break;
      }
    return 1;
  }
  return 0;
}

}  // namespace dynlib::cli
