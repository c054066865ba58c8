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
#include "cli/sweep_executor.hpp"

namespace dynlib::cli {
namespace {

const char* kUsage =
    "usage: dynlib sweep URI --param name=start:stop:count [--param name=start:stop:count] --out file.csv\n"
    "                        [--record-last K] [--save-at START:STOP:COUNT | --save-at-file FILE]\n"
    "                        [--tstops a,b] [--threads n] [--lyapunov K] [--shard K/N] [--block B]\n"
    "                        [--checkpoint S] [--lanes 1|4] [common options]\n"
    "  --param name=start:stop:count  one axis (1-D sweep) or two (2-D), count >= 1 evenly spaced values;\n"
    "                 name=value (no colon) fixes a parameter for every point\n"
    "  --out FILE     the CSV file (required): one row per point "
    "<p1>[,<p2>],status,t,<states>[,<exponents>][,events.<name>][,stopped_by];\n"
    "                 a failed point has status ERROR and empty cells; one that stopped short has its\n"
    "                 own status (MAX_STEPS, ...); stopped_by (models with terminal root events only)\n"
    "                 names the terminal event that ended the point\n"
    "  --record-last K  keep the last K records of every point (one CSV row per record), K >= 1\n"
    "  --save-at START:STOP:COUNT  record every point exactly at COUNT evenly spaced times (ODEs; one CSV\n"
    "                 row per time, values from the stepper's dense output)\n"
    "  --save-at-file FILE  the same with the times in FILE (one per line, non-decreasing)\n"
    "  --tstops a,b,c times the steps land on exactly (adaptive steppers)\n"
    "  --threads n    worker threads, >= 1 (default: one per core)\n"
    "  --lanes 1|4    points per thread at once in SIMD lanes (default: 4 with --jit on a CPU with AVX2, "
    "for\n"
    "                 maps and euler/rk2/rk4 without events or lags; same numbers either way); 1 turns it "
    "off\n"
    "  --lyapunov K   add Lyapunov exponents (K = 1: the largest) to every point\n"
    "  --shard K/N    compute only shard K of N (0 <= K < N, contiguous ranges of points) into --out, a "
    "shard\n"
    "                 file for 'dynlib sweep-merge' (cluster job arrays)\n"
    "  --block B      points per block, the unit of work that is saved and handed out (default: about 1% of\n"
    "                 the points, at least 4 per thread)\n"
    "  --checkpoint S  save finished blocks at most every S seconds (default 1; 0: after every block)\n"
    "The file is written block by block: if the run is killed, the same command continues where it stopped\n"
    "(its progress is kept in FILE.partial and FILE.partial.idx). A second sweep on FILE while one writes\n"
    "it is refused (lock: FILE.partial.lock). Under mpirun the points are shared by the ranks and rank 0\n"
    "writes the file (docs/distributed.md).\n"
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
  const auto p = parse_args(args,
                            with_common_values({"record_last", "threads", "lyapunov", "out", "shard", "block",
                                                "checkpoint", "save_at", "save_at_file", "tstops", "lanes"}),
                            with_common_flags({}));
  if (p.positional.size() != 1) throw UsageError(std::string("expected one model URI\n") + kUsage);
  if (!p.get("out")) throw UsageError("--out file.csv is required");
  // Under mpirun only rank 0 writes the file (the others may run where its directory does not exist); it
  // checks the path once MPI is up, so that its failure ends every rank.
  if (launcher_world_size() <= 1) check_output_paths({{"--out", *p.get("out")}});
  const CommonOptions co = read_common(p, /*params_are_values=*/false);
  SweepFileOptions fo;
  if (const auto sh = p.get("shard")) {
    const auto slash = sh->find('/');
    if (slash == std::string::npos)
      throw UsageError("--shard expects K/N (shard K of N, 0-based), got '" + *sh + "'");
    const auto n = parse_integer_at_least(sh->substr(slash + 1), "--shard N", 1);
    const auto k = parse_integer_at_least(sh->substr(0, slash), "--shard K", 0);
    if (k >= n) throw UsageError("--shard K/N needs K < N (shards are numbered 0 to N-1), got '" + *sh + "'");
    fo.shard_index = static_cast<std::size_t>(k);
    fo.shard_count = static_cast<std::size_t>(n);
  }
  if (p.get("block"))
    fo.block = static_cast<std::size_t>(parse_integer_at_least(*p.get("block"), "--block", 1));
  if (p.get("checkpoint"))
    fo.checkpoint_seconds = parse_number_above(*p.get("checkpoint"), "--checkpoint", 0.0, /*inclusive=*/true);
  fo.command = "dynlib sweep";
  for (const auto& a : args) fo.command += " " + a;
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
  if (p.get("lanes")) {
    const std::string& v = *p.get("lanes");
    if (v != "1" && v != "4") throw UsageError("--lanes expects 1 (no SIMD lanes) or 4, got '" + v + "'");
    o.lanes = v == "1" ? 1u : 4u;
  }
  if (p.get("lyapunov")) {
    const auto k = parse_integer_at_least(*p.get("lyapunov"), "--lyapunov", 1);
    LyapunovOptions lo;
    lo.k = static_cast<int>(k);
    lo.trace_stride = 0;
    o.observers = {k == 1 ? lyapunov_mle(lo) : lyapunov_spectrum(lo)};
  }
  // Under mpirun: one executor over the ranks (made before the model is built, so a failure to build on
  // one rank ends the job instead of leaving the others waiting).
  const auto executor = sweep_executor();
  o.executor = executor.get();
  const bool root = !executor || executor->is_root();
  SweepFileSummary sw;
  try {
    if (executor && executor->is_root()) check_output_paths({{"--out", *p.get("out")}});
    auto fm = build(p.positional[0], co.build);
    if (co.preset) expand_preset(*co.preset, fm->model(), base.ic, base.params);
    std::atomic<std::size_t> done{0};
    fo.done = &done;
    std::size_t total = 1;
    for (const auto& a : axes) total *= a.values.size();
    if (fo.shard_count)
      total = shard_start(total, fo.shard_index + 1, fo.shard_count) -
              shard_start(total, fo.shard_index, fo.shard_count);
    {
      ProgressLine progress(!co.quiet && root, [&](double s) {
        return "sweep: " + std::to_string(done.load()) + "/" + std::to_string(total) + " points, " +
               std::to_string(static_cast<int>(s)) + " s";
      });
      sw = sweep_to_csv(fm, axes, o, base, *p.get("out"), fo);
    }
  } catch (const std::exception& e) {
    end_job_if_stranded(e, executor.get());  // a rank that others wait for must not just exit
    throw;
  }
  if (!sw.root) return 0;
  std::string where = std::to_string(sw.threads) + " threads";
  if (sw.lanes > 1) where += " x " + std::to_string(sw.lanes) + " SIMD lanes";
  if (sw.processes > 1) where = std::to_string(sw.processes) + " processes x " + where;
  std::string what =
      std::to_string(sw.points) + " points (" + std::to_string(sw.nx) + " x " + std::to_string(sw.ny) + ")";
  if (fo.shard_count)
    what = "shard " + std::to_string(fo.shard_index) + "/" + std::to_string(fo.shard_count) + ", " +
           std::to_string(sw.points) + " of " + std::to_string(sw.nx * sw.ny) + " points";
  if (sw.resumed) what += ", " + std::to_string(sw.resumed) + " done before";
  std::printf("sweep: %s on %s in %.3f s -> %s\n", what.c_str(), where.c_str(), sw.seconds,
              p.get("out")->c_str());
  if (sw.failed) {
    std::fprintf(stderr,
                 "%zu of %zu points failed (status ERROR, or a status other than DONE, in the CSV):\n",
                 sw.failed, sw.points);
    for (const auto& m : sw.failures) std::fprintf(stderr, "  %s\n", m.c_str());
    if (sw.failed > sw.failures.size())
      std::fprintf(stderr, "  ... and %zu more\n", sw.failed - sw.failures.size());
    return 1;
  }
  return 0;
}

}  // namespace dynlib::cli
