// dynlib sweep URI --param name=start:stop:count [--param ...] ... --out file.csv (docs/analysis.md).
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <dynlib/dynlib.hpp>
#include <string>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "cli/output_paths.hpp"
#include "cli/progress.hpp"
#include "util/text.hpp"

namespace dynlib::cli {
namespace {

const char* kUsage =
    "usage: dynlib sweep URI --param name=start:stop:count [--param name=start:stop:count] --out file.csv\n"
    "                        [--record-last K] [--save-at START:STOP:COUNT | --save-at-file FILE]\n"
    "                        [--tstops a,b] [--threads n] [--lyapunov K] [common options]\n"
    "  --param name=start:stop:count  one axis (1-D sweep) or two (2-D), count >= 1 evenly spaced values;\n"
    "                 name=value (no colon) fixes a parameter for every point\n"
    "  --out FILE     the CSV file (required): one row per point "
    "<p1>[,<p2>],status,t,<states>[,<exponents>][,events.<name>];\n"
    "                 a failed point has status ERROR and empty cells; one that stopped short has its\n"
    "                 own status (MAX_STEPS, ...)\n"
    "  --record-last K  keep the last K records of every point (one CSV row per record), K >= 1\n"
    "  --save-at START:STOP:COUNT  record every point exactly at COUNT evenly spaced times (ODEs; one CSV\n"
    "                 row per time, values from the stepper's dense output)\n"
    "  --save-at-file FILE  the same with the times in FILE (one per line, non-decreasing)\n"
    "  --tstops a,b,c times the steps land on exactly (adaptive steppers)\n"
    "  --threads n    worker threads, >= 1 (default: one per core)\n"
    "  --lyapunov K   add Lyapunov exponents (K = 1: the largest) to every point\n"
    "Any stepper (--lyapunov needs a fixed-step one). Exits 1 if any point failed or ended with a\n"
    "status other than DONE or EARLY_EXIT (each is printed with its parameters).\n";

}  // namespace

int cmd_sweep(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::fputs(kCommonOptionsHelp, stdout);
      return 0;
    }
  const auto p = parse_args(
      args,
      with_common_values({"record_last", "threads", "lyapunov", "out", "save_at", "save_at_file", "tstops"}),
      with_common_flags({}));
  if (p.positional.size() != 1) throw UsageError(std::string("expected one model URI\n") + kUsage);
  if (!p.get("out")) throw UsageError("--out file.csv is required");
  check_output_paths({{"--out", *p.get("out")}});
  const CommonOptions co = read_common(p, /*params_are_values=*/false);
  std::vector<SweepAxis> axes;
  BatchItem base;
  for (const auto& it : p.all("param")) {
    const auto eq = it.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError("--param expects name=start:stop:count, got '" + it + "'");
    const std::string name = it.substr(0, eq), rest = it.substr(eq + 1);
    const auto c1 = rest.find(':');
    if (c1 == std::string::npos) {
      base.params.emplace_back(name, parse_number(rest, "--param " + name));
      continue;
    }
    const auto c2 = rest.find(':', c1 + 1);
    if (c2 == std::string::npos) throw UsageError("--param expects name=start:stop:count, got '" + it + "'");
    axes.push_back(
        SweepAxis::linspace(name, parse_number(rest.substr(0, c1), "--param " + name + " start"),
                            parse_number(rest.substr(c1 + 1, c2 - c1 - 1), "--param " + name + " stop"),
                            parse_integer_at_least(rest.substr(c2 + 1), "--param " + name + " count", 1)));
  }
  if (axes.empty() || axes.size() > 2) throw UsageError("give one or two --param name=start:stop:count axes");
  base.ic = co.states;
  BatchOptions o;
  o.T = co.T;
  o.N = co.N;
  o.dt = co.dt;
  o.t0 = co.t0;
  if (co.transient) o.transient = *co.transient;
  o.max_steps = co.max_steps;
  o.stepper = co.settings;
  o.save_at = read_save_at(p);
  o.tstops = read_tstops(p);
  if (p.get("record_last")) o.record_last = parse_integer_at_least(*p.get("record_last"), "--record-last", 1);
  if (p.get("threads")) {
    o.threads = static_cast<unsigned>(parse_integer_at_least(*p.get("threads"), "--threads", 1));
  }
  if (p.get("lyapunov")) {
    const auto k = parse_integer_at_least(*p.get("lyapunov"), "--lyapunov", 1);
    LyapunovOptions lo;
    lo.k = static_cast<int>(k);
    lo.trace_stride = 0;
    o.observers = {k == 1 ? lyapunov_mle(lo) : lyapunov_spectrum(lo)};
  }
  auto fm = build(p.positional[0], co.build);
  if (co.preset) expand_preset(*co.preset, fm->model(), base.ic, base.params);
  std::atomic<std::size_t> finished{0};
  o.finished = &finished;
  std::size_t total = 1;
  for (const auto& a : axes) total *= a.values.size();
  SweepResults sw;
  {
    ProgressLine progress(!co.quiet, [&](double s) {
      return "sweep: " + std::to_string(finished.load()) + "/" + std::to_string(total) + " points, " +
             std::to_string(static_cast<int>(s)) + " s";
    });
    sw = sweep(fm, axes, o, base);
  }
  sw.write_csv(*p.get("out"));
  std::size_t failed = 0;
  for (const auto& r : sw.batch.runs) failed += r.ok() ? 0 : 1;
  std::printf("sweep: %zu points (%zu x %zu) on %u threads in %.3f s -> %s\n", sw.batch.size(), sw.nx(),
              sw.ny(), sw.batch.threads, sw.batch.seconds, p.get("out")->c_str());
  if (failed) {
    std::fprintf(stderr,
                 "%zu of %zu points failed (status ERROR, or a status other than DONE, in the CSV):\n",
                 failed, sw.batch.size());
    std::size_t shown = 0;
    for (std::size_t i = 0; i < sw.nx(); ++i)
      for (std::size_t j = 0; j < sw.ny(); ++j) {
        const auto& r = sw.at(i, j);
        if (r.ok()) continue;
        if (shown++ == 5) {
          std::fprintf(stderr, "  ... and %zu more\n", failed - 5);
          return 1;
        }
        if (!r.error.empty()) {
          std::fprintf(stderr, "  %s\n", r.error.c_str());
          continue;
        }
        // It did not raise but stopped short of the horizon (MAX_STEPS, RECORD_LIMIT, ...).
        std::string at = "at " + axes[0].param + "=" + util::shortest_double(axes[0].values[i]);
        if (axes.size() > 1) at += ", " + axes[1].param + "=" + util::shortest_double(axes[1].values[j]);
        std::fprintf(stderr, "  %s: stopped with status %s at t=%s after %lld steps\n", at.c_str(),
                     status_name(r.status), util::shortest_double(r.t_final).c_str(),
                     static_cast<long long>(r.steps));
      }
    return 1;
  }
  return 0;
}

}  // namespace dynlib::cli
