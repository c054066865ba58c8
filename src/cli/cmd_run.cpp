// dynlib run URI [options]: simulate a model and print a summary (docs/cli.md, docs/simulation.md).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <dynlib/dynlib.hpp>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common_options.hpp"
#include "cli/output_paths.hpp"
#include "util/text.hpp"

namespace dynlib::cli {
namespace {

const char* kRunUsage =
    "usage: dynlib run URI [common options] [--record-interval k | --no-record] [--record-vars a,b,aux.E] "
    "[--aux]\n"
    "                      [--out file.csv] [--events-out file.csv] [--snapshot-in file] [--snapshot-out "
    "file]\n"
    "                      [--max-record-bytes b] [--save-at START:STOP:COUNT | --save-at-file FILE] "
    "[--tstops a,b]\n"
    "  --record-interval k  record every k-th step, >= 1\n"
    "  --no-record          record nothing (the summary still shows the final state)\n"
    "  --record-vars LIST   record these states and aux (aux.NAME or NAME), comma-separated\n"
    "  --aux                record every aux variable too (as aux.NAME columns)\n"
    "  --out FILE           write the recorded series as CSV\n"
    "  --events-out FILE    write the logged events as CSV\n"
    "  --snapshot-in FILE   load a snapshot file and resume from it (T/N are then the new absolute horizon)\n"
    "  --snapshot-out FILE  save the final session to a snapshot file\n"
    "  --max-record-bytes B stop (exit 1) before the records exceed B bytes (default 4294967296)\n"
    "  --save-at START:STOP:COUNT  record exactly at COUNT evenly spaced times from START to STOP (ODEs;\n"
    "                       values from the stepper's dense output) instead of at the steps\n"
    "  --save-at-file FILE  record exactly at the times in FILE (one per line, non-decreasing)\n"
    "  --tstops a,b,c       times the steps land on exactly (adaptive steppers), e.g. jumps of a forcing\n";

Sim* g_sim = nullptr;
extern "C" void on_sigint(int) {
  if (g_sim) g_sim->user_break().store(1);
}

void draw_bar(double frac, double elapsed) {
  if (frac < 0) frac = 0;
  if (frac > 1) frac = 1;
  const int width = 40, full = static_cast<int>(frac * width);
  std::string bar(static_cast<std::size_t>(full), '#');
  bar += std::string(static_cast<std::size_t>(width - full), '-');
  std::fprintf(stderr, "\r[%s] %5.1f%%  %.1f s", bar.c_str(), frac * 100.0, elapsed);
  std::fflush(stderr);
}

// A failed run (NaN, step failure): write what it recorded up to the failure, then the error is reported.
void write_partial(const SimulationError& e, const std::optional<std::string>& out,
                   const std::optional<std::string>& events_out) {
  const Results& r = e.partial_results();
  if (out && r.size() > 0) {
    r.write_csv(*out);
    std::fprintf(stderr, "wrote %zu records up to t=%s to %s\n", r.size(),
                 util::shortest_double(r.t().back()).c_str(), out->c_str());
  }
  if (events_out && e.has_partial_results()) {
    r.write_events_csv(*events_out);
    std::fprintf(stderr, "wrote %zu events up to t=%s to %s\n", r.events().size(),
                 util::shortest_double(e.t()).c_str(), events_out->c_str());
  }
}

}  // namespace

int cmd_run(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") {
      std::fputs(kRunUsage, stdout);
      std::fputs(kCommonOptionsHelp, stdout);
      return 0;
    }
  const auto p = parse_args(
      args,
      with_common_values({"record_interval", "record_vars", "out", "events_out", "snapshot_in",
                          "snapshot_out", "max_record_bytes", "save_at", "save_at_file", "tstops"}),
      with_common_flags({"no_record", "aux"}));
  if (p.positional.size() != 1) throw UsageError("expected exactly one model URI\n" + std::string(kRunUsage));
  if (p.flag("no_record") && p.get("record_interval"))
    throw UsageError("pass either --record-interval or --no-record");
  const auto save_at = read_save_at(p);
  if (save_at && (p.flag("no_record") || p.get("record_interval")))
    throw UsageError("--save-at replaces the records at steps: it cannot be combined with " +
                     std::string(p.flag("no_record") ? "--no-record" : "--record-interval"));
  const CommonOptions co = read_common(p);
  const bool quiet = co.quiet;
  std::vector<std::pair<std::string, std::string>> outputs;
  for (const auto& [key, option] :
       {std::pair{"out", "--out"}, {"events_out", "--events-out"}, {"snapshot_out", "--snapshot-out"}})
    if (auto v = p.get(key)) outputs.emplace_back(option, *v);
  check_output_paths(outputs);

  const BuildOptions& bo = co.build;
  const auto t_build = std::chrono::steady_clock::now();
  Sim sim = setup(p.positional[0], bo);
  const double build_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_build).count();
  const auto& m = sim.model().model();

  RunOptions ro;
  ro.T = co.T;
  ro.N = co.N;
  ro.dt = co.dt;
  ro.t0 = co.t0;
  ro.transient = co.transient;
  ro.record_vars = read_record_vars(p, m);
  ro.save_at = save_at;
  ro.tstops = read_tstops(p);
  if (auto v = p.get("max_record_bytes"))
    ro.max_record_bytes = parse_integer_at_least(*v, "--max-record-bytes", 1);
  SimConfig cfg;
  if (p.flag("no_record")) cfg.record = false;
  if (auto v = p.get("record_interval"))
    cfg.record_interval = parse_integer_at_least(*v, "--record-interval", 1);
  cfg.max_steps = co.max_steps;
  cfg.stepper = co.settings;
  sim.config(cfg);  // persistent: the progress loop resumes with the same settings

  if (auto v = p.get("snapshot_in")) {
    sim.load_snapshot(*v);
    ro.resume = true;
    ro.dt.reset();
    ro.t0.reset();
  }
  if (co.preset) sim.apply_preset(*co.preset);
  Assignments assign = co.states;
  for (auto& kv : co.params) assign.push_back(kv);
  if (!assign.empty()) sim.assign(assign);

  // Run; on a terminal, a helper thread interrupts the runner every 200 ms after the first second to
  // redraw a progress bar, and the run continues with resume (exact: the runner stops at step boundaries).
  const bool tty = !quiet && ::isatty(STDERR_FILENO);
  g_sim = &sim;
  auto old_handler = std::signal(SIGINT, on_sigint);
  std::atomic<bool> interrupted_by_bar{false}, finished{false};
  std::mutex mu;
  std::condition_variable cv;
  const auto t_start = std::chrono::steady_clock::now();
  std::thread ticker;
  if (tty) {
    ticker = std::thread([&] {
      std::unique_lock lk(mu);
      if (cv.wait_for(lk, std::chrono::seconds(1), [&] { return finished.load(); })) return;
      while (!finished.load()) {
        interrupted_by_bar.store(true);
        sim.user_break().store(1);
        cv.wait_for(lk, std::chrono::milliseconds(200), [&] { return finished.load(); });
      }
    });
  }
  Status st{};
  bool drew = false;
  try {
    st = sim.run(ro);
    while (st == Status::USER_BREAK && interrupted_by_bar.exchange(false)) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
      double frac = 0;
      if (m.kind == ir::Kind::ode) {
        const double T = ro.T.value_or(m.sim.t_end), t0 = ro.t0.value_or(m.sim.t0);
        frac = T > t0 ? (sim.t() - t0) / (T - t0) : 1.0;
      } else {
        const auto N = ro.N.value_or(
            static_cast<std::int64_t>((ro.T.value_or(m.sim.t_end) - ro.t0.value_or(m.sim.t0)) / sim.dt()));
        frac = N > 0 ? static_cast<double>(sim.step_count()) / static_cast<double>(N) : 1.0;
      }
      draw_bar(frac, elapsed);
      drew = true;
      RunOptions next;
      next.T = ro.T;
      next.N = ro.N;
      next.max_record_bytes = ro.max_record_bytes;
      next.resume = true;
      st = sim.run(next);
    }
  } catch (...) {
    {
      std::lock_guard lk(mu);
      finished.store(true);
    }
    cv.notify_all();
    if (ticker.joinable()) ticker.join();
    std::signal(SIGINT, old_handler);
    g_sim = nullptr;
    if (drew) std::fputs("\n", stderr);
    try {
      throw;
    } catch (const SimulationError& e) {
      write_partial(e, p.get("out"), p.get("events_out"));
      throw;
    }
  }
  {
    std::lock_guard lk(mu);
    finished.store(true);
  }
  cv.notify_all();
  if (ticker.joinable()) ticker.join();
  std::signal(SIGINT, old_handler);
  g_sim = nullptr;
  const double wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_start).count();
  if (drew) {
    draw_bar(1.0, wall_ms / 1000.0);
    std::fputs("\n", stderr);
  }

  const Results* res = sim.has_results() ? &sim.results() : nullptr;
  std::printf("model:   %s (%s, %zu states, %zu params)\n", m.source.c_str(),
              m.kind == ir::Kind::ode ? "ode" : "map", m.n_states(), m.n_params());
  std::printf("stepper: %s (%s)\n", sim.model().stepper_name().c_str(),
              sim.model().jit() ? "jit" : "interpreter");
  const std::string why = st == Status::USER_BREAK ? " (interrupted)"
                          : res && !res->stopped_by().empty()
                              ? " (terminal event '" + res->stopped_by() + "')"
                              : "";
  std::printf("status:  %s%s\n", status_name(st), why.c_str());
  std::printf("steps:   %lld\n", static_cast<long long>(sim.step_count()));
  std::printf("t:       %s\n", util::shortest_double(res ? res->t_final() : sim.t()).c_str());
  std::printf("state:  ");
  for (const auto& s : m.states)
    std::printf(" %s=%s", s.c_str(), util::shortest_double(sim.state(s)).c_str());
  std::printf("\n");
  if (res) std::printf("records: %zu\n", res->size());
  if (!m.events.empty()) {  // every firing, logged or not
    std::printf("events: ");
    for (const auto& e : m.events)
      std::printf(" %s=%lld", e.name.c_str(), static_cast<long long>(res ? res->event_count(e.name) : 0));
    std::printf("\n");
  }
  if (res && res->work_stats()) {
    const auto& w = *res->work_stats();
    std::printf("work:    rhs evals %lld, jac evals %lld, LU %lld\n", static_cast<long long>(w.rhs_evals),
                static_cast<long long>(w.jac_evals), static_cast<long long>(w.lu_factorizations));
    if (!w.jacobian.empty()) std::printf("jacobian: %s\n", jacobian_text(w.jacobian, m).c_str());
    if (const auto ls = linear_solver_text(sim.model().stepper_name(), m); !ls.empty())
      std::printf("linear solver: %s\n", ls.c_str());
  }
  std::printf("wall:    %.3f ms (build %.3f ms)\n", wall_ms, build_ms);

  if (auto v = p.get("out")) {
    if (!res) throw DynlibError("--out: nothing was recorded");
    res->write_csv(*v);
  }
  if (auto v = p.get("events_out")) {
    if (!res) throw DynlibError("--events-out: nothing was recorded");
    res->write_events_csv(*v);
  }
  if (auto v = p.get("snapshot_out")) sim.save_snapshot(*v);
  if (st == Status::MAX_STEPS)
    std::fprintf(
        stderr,
        "dynlib run: stopped after --max-steps %lld steps at t=%s, before the end of the run; raise the "
        "limit with --max-steps\n",
        static_cast<long long>(cfg.max_steps.value_or(m.sim.max_steps)),
        util::shortest_double(sim.t()).c_str());
  if (st == Status::RECORD_LIMIT)
    std::fprintf(
        stderr,
        "dynlib run: stopped at t=%s: the records reached --max-record-bytes (%lld bytes) or the event "
        "log 10000000 events; raise --max-record-bytes, or record less (--record-interval, --no-record)\n",
        util::shortest_double(sim.t()).c_str(),
        static_cast<long long>(ro.max_record_bytes.value_or(std::int64_t{4} << 30)));
  return st == Status::USER_BREAK || st == Status::MAX_STEPS || st == Status::RECORD_LIMIT ? 1 : 0;
}

}  // namespace dynlib::cli
