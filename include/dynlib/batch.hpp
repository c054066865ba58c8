// Batch runs and parameter sweeps (docs/analysis.md, docs/internals/runner.md): one compiled model over
// B initial conditions / parameter sets on a thread pool, with any stepper (fixed-step runs get record
// buffers sized from the horizon; adaptive runs grow them as a single run does).
//   auto fm = dynlib::build("builtin://ode/lorenz", {.stepper = "rk4"});
//   std::vector<dynlib::BatchItem> items = {{.ic = {{"x", 1.0}}}, {.ic = {{"x", 2.0}}}};
//   auto out = dynlib::run_batch(fm, items, {.T = 10.0, .dt = 0.01, .threads = 2});
//   out.runs[1].final_state ...
// Every item is an independent fresh run from the model's defaults (ic/params overridden by the item),
// exactly what a fresh Sim(model).run(...) with the same options gives, bit for bit, whatever the
// thread count. The compiled model is shared: CompiledModel::run is const and thread-safe, each
// worker owns its buffers.
#pragma once
#include <atomic>
#include <cstdint>
#include <dynlib/executor.hpp>
#include <dynlib/export.hpp>
#include <dynlib/full_model.hpp>
#include <dynlib/observers.hpp>
#include <dynlib/options.hpp>
#include <dynlib/status.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dynlib {

struct BatchItem {
  Assignments ic{};      // state overrides by name (model defaults otherwise)
  Assignments params{};  // parameter overrides by name
};

struct BatchOptions {
  std::optional<double> T{};        // ode: end time; map: N = round((T-t0)/dt)
  std::optional<std::int64_t> N{};  // maps: iterations
  std::optional<double> dt{};       // default [sim].dt
  std::optional<double> t0{};       // default [sim].t0
  double transient = 0.0;           // warm-up (time for ode, iterations for maps), not recorded
  bool record = false;              // keep the recorded series (record_interval, record_vars)
  std::int64_t record_interval = 1;
  std::optional<std::vector<std::string>> record_vars{};  // default: all states
  std::int64_t record_last = 0;  // > 0: keep only the last K records (implies record)
  std::optional<std::int64_t> max_steps{};
  StepperSettings stepper{};                     // stepper settings (numbers or value names)
  std::vector<Observer> observers{};             // per-run observer outputs (Lyapunov, ...)
  unsigned threads = 0;                          // 0 = std::thread::hardware_concurrency()
  std::atomic<std::size_t>* finished = nullptr;  // if set, incremented after each run (for progress displays)
  // null: this process's thread pool. Else the executor's processes share the points (each uses its own
  // thread pool of `threads`); every process makes the same call and the results are on the root only
  // (elsewhere BatchResults::runs is empty). See include/dynlib/executor.hpp.
  BatchExecutor* executor = nullptr;
  // ODEs: record every run exactly at these times (RunOptions::save_at; implies record, replaces
  // record_interval) and let adaptive steps land on tstops (RunOptions::tstops).
  std::optional<std::vector<double>> save_at{};
  std::optional<std::vector<double>> tstops{};
  // SIMD lanes (docs/sweeps.md): 0 = automatic: with the JIT, a CPU with AVX2 and a model/stepper that
  // run in lanes (map, euler, rk2, rk4; no events, lags, observers, transient, save_at, aux records),
  // 4 points share one core, each with the bits of its scalar run; 1 = never; 4 = whenever the
  // model/stepper allow it, whatever the CPU.
  unsigned lanes = 0;
};

// One run of a batch.
struct BatchRun {
  Status status = Status::DONE;
  std::string error;  // non-empty if the run raised (NaN, step failure, bad argument);
                      // starts with the run's parameter values ("at r=3.5: ...")
  double t_final = 0.0;
  std::int64_t steps = 0;
  std::vector<double> final_state;          // all states, model order
  std::vector<double> params;               // the parameters the run used
  std::vector<double> t;                    // recorded times (if recording)
  std::vector<std::vector<double>> series;  // [recorded var][record]
  std::vector<ObserverOutput> observers;
  std::vector<std::int64_t> event_counts;  // firings per event, logged or not (BatchResults::event_names)
  std::string stopped_by;  // the terminal root event that ended the run, or "" (as Results::stopped_by)
  // The point ran to its horizon: status DONE, or EARLY_EXIT (the model's own stop condition), as
  // Results::ok(). A point that raised (`error`) or stopped short (MAX_STEPS, RECORD_LIMIT, ...) is not ok.
  [[nodiscard]] bool ok() const noexcept {
    return error.empty() && (status == Status::DONE || status == Status::EARLY_EXIT);
  }
};

struct BatchResults {
  std::vector<std::string> state_names, param_names, record_names;
  std::vector<std::string> event_names;  // the model's events (BatchRun::event_counts)
  bool terminal_events = false;          // the model has terminal root events (BatchRun::stopped_by)
  std::vector<BatchRun> runs;            // in item order
  unsigned threads = 1;                  // workers actually used
  unsigned lanes = 1;                    // points per core at once: 4 in SIMD lanes (BatchOptions::lanes)
  double seconds = 0.0;                  // wall time of the batch
  [[nodiscard]] std::size_t size() const noexcept { return runs.size(); }
  [[nodiscard]] const BatchRun& operator[](std::size_t i) const { return runs.at(i); }
};

// Throws ArgumentError up front for observers with an adaptive stepper (observers are fixed-step only),
// unknown names and bad options; a failure inside one run is reported in that run's `error`.
[[nodiscard]] DYNLIB_API BatchResults run_batch(const FullModelPtr& model,
                                                const std::vector<BatchItem>& items,
                                                const BatchOptions& options = {});

// A sweep axis: one parameter over a list of values.
struct DYNLIB_API SweepAxis {
  std::string param;
  std::vector<double> values;
  // count evenly spaced values from start to stop inclusive (count >= 1; count 1 -> {start}).
  [[nodiscard]] static SweepAxis linspace(std::string param, double start, double stop, std::int64_t count);
};

struct DYNLIB_API SweepResults {
  std::vector<SweepAxis> axes;  // 1 or 2
  BatchResults batch;           // point (i, j) is batch.runs[i * ny + j] (ny = 1 for 1-D)
  [[nodiscard]] std::size_t nx() const noexcept { return axes.empty() ? 0 : axes[0].values.size(); }
  [[nodiscard]] std::size_t ny() const noexcept { return axes.size() > 1 ? axes[1].values.size() : 1; }
  [[nodiscard]] const BatchRun& at(std::size_t i, std::size_t j = 0) const {
    return batch.runs.at(i * ny() + j);
  }
  // CSV with the axis values first. With recorded series: one row per record
  // (`<p1>[,<p2>],t,<vars>`); otherwise one row per point (`<p1>[,<p2>],status,t,<states>,<observer outputs
  // as key.name>,<event counts as events.name>`), and, if the model has terminal root events, a last
  // column `stopped_by`: the event that ended the point (status EARLY_EXIT), else empty.
  void write_csv(const std::filesystem::path& path) const;
};

// 1-D (one axis) or 2-D (two axes) sweep; `base` ic/params apply to every point before the axis values.
[[nodiscard]] DYNLIB_API SweepResults sweep(const FullModelPtr& model, const std::vector<SweepAxis>& axes,
                                            const BatchOptions& options = {}, const BatchItem& base = {});

// A sweep streamed to a CSV file in blocks of points (docs/distributed.md): the file ends up with the
// same bytes as SweepResults::write_csv (observer columns are known up front, so they are there even if
// every point failed), but the results are never all held in memory, finished blocks are recorded on
// disk as they complete, and a run that was killed continues where it stopped when called again with the
// same sweep. Work in progress lives next to the output, in "<path>.partial" (the rows so far) and
// "<path>.partial.idx" (which blocks are done, with checksums); both are removed when the file is
// complete. A journal of a different sweep is refused (DynlibError naming both commands).
struct SweepFileOptions {
  // Shard k of n (0 <= k < n): only the points [k*P/n, (k+1)*P/n) of the P points, into a shard file
  // that merge_sweep_shards joins with the others. {0, 0}: the whole sweep.
  std::size_t shard_index = 0, shard_count = 0;
  std::size_t block = 0;  // points per block (0: about 1% of the points, at least 4 per thread)
  // Finished blocks are saved to disk together, at most this often (each save syncs twice): a kill
  // loses at most about this much work. 0: after every block.
  double checkpoint_seconds = 1.0;
  std::string command{};  // how the sweep was asked for, shown when a journal of another sweep is found
  std::atomic<std::size_t>* done = nullptr;  // if set: points finished so far (on the root)
};

// The first point of shard k of n over `points` points: floor(points * k / n) without overflow.
[[nodiscard]] constexpr std::size_t shard_start(std::size_t points, std::size_t k, std::size_t n) noexcept {
  return points / n * k + points % n * k / n;
}

struct SweepFileSummary {
  bool root = true;                   // false on processes that only computed (no file, no counts)
  std::size_t points = 0;             // points in the file (the shard's, for a shard)
  std::size_t resumed = 0;            // of those, already done by an earlier run
  std::size_t failed = 0;             // points that are not ok() (BatchRun::ok)
  std::vector<std::string> failures;  // why, for the first few failed points ("at r=4: ...")
  std::size_t nx = 0, ny = 1;         // axis sizes of the whole sweep
  unsigned threads = 1;               // workers per process
  unsigned lanes = 1;                 // points per worker at once: 4 in SIMD lanes (BatchOptions::lanes)
  int processes = 1;                  // processes of the executor
  double seconds = 0.0;               // wall time of this call
};

// Writes the sweep (or one shard of it) to `path`. Same arguments as sweep(); options.executor (if any)
// spreads the blocks over its processes and only the root touches the file. Throws ArgumentError for bad
// arguments, DynlibError for a file that cannot be written or a journal of another sweep; a failed point
// is a row with status ERROR and an entry in `failures`.
[[nodiscard]] DYNLIB_API SweepFileSummary sweep_to_csv(const FullModelPtr& model,
                                                       const std::vector<SweepAxis>& axes,
                                                       const BatchOptions& options, const BatchItem& base,
                                                       const std::filesystem::path& path,
                                                       const SweepFileOptions& file_options = {});

// Joins the shard files of one sweep (any order) into `out`, byte for byte the file a single
// sweep_to_csv call writes. Throws DynlibError naming the file for shards of different sweeps, a missing
// or repeated shard, a shard that is incomplete or was changed, or a file that is not a shard.
DYNLIB_API void merge_sweep_shards(const std::vector<std::filesystem::path>& shards,
                                   const std::filesystem::path& out);

}  // namespace dynlib
