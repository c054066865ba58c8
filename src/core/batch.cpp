// Batch runs and sweeps (include/dynlib/batch.hpp): a thread pool over fresh runs of one shared model.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <dynlib/batch.hpp>
#include <dynlib/errors.hpp>
#include <dynlib/sim.hpp>
#include <exception>
#include <optional>
#include <thread>

#include "core/batch_internal.hpp"
#include "core/sim_run_parts.hpp"
#include "kernels/compiled_model.hpp"
#include "util/text.hpp"

namespace dynlib {
namespace {

RunOptions run_options(const BatchOptions& o, const BatchItem& item, std::optional<std::int64_t> cap_rec) {
  RunOptions r;
  r.T = o.T;
  r.N = o.N;
  r.dt = o.dt;
  r.t0 = o.t0;
  r.record = o.record || o.record_last > 0 || o.save_at.has_value();
  if (!o.save_at) r.record_interval = o.record_interval;
  r.save_at = o.save_at;
  r.tstops = o.tstops;
  r.record_vars = o.record_vars;
  r.max_steps = o.max_steps;
  if (o.transient > 0) r.transient = o.transient;
  r.ic = item.ic;
  r.params = item.params;
  r.stepper = o.stepper;
  r.cap_rec = cap_rec;
  r.observers = o.observers;
  return r;
}

// "at a=1, b=0.3: " naming a failed point's parameters, so a sweep's message says where.
std::string where_point(const BatchItem& item) {
  std::string at;
  for (const auto& [k, v] : item.params)
    at += (at.empty() ? "at " : ", ") + k + "=" + util::shortest_double(v);
  return at.empty() ? at : at + ": ";
}

}  // namespace

namespace core {

void run_point(const FullModelPtr& fm, const BatchOptions& o, const BatchItem& item,
               std::optional<std::int64_t> cap_rec, BatchRun& out) {
  try {
    Sim sim(fm);
    const Status s = sim.run(run_options(o, item, cap_rec));
    const Results& R = sim.results();
    out.status = s;
    out.t_final = R.t_final();
    out.steps = R.step_count_final();
    out.final_state = sim.state_vector();
    out.params = sim.param_vector();
    if (o.record || o.record_last > 0 || o.save_at) {
      const std::size_t n = R.size();
      const std::size_t first = o.record_last > 0 && static_cast<std::size_t>(o.record_last) < n
                                    ? n - static_cast<std::size_t>(o.record_last)
                                    : 0;
      out.t.assign(R.t().begin() + static_cast<std::ptrdiff_t>(first), R.t().end());
      std::vector<std::string> names = R.state_names();
      for (const auto& a : R.aux_names()) names.push_back(a);
      for (const auto& nm : names) {
        auto col = R[nm];
        out.series.emplace_back(col.begin() + static_cast<std::ptrdiff_t>(first), col.end());
      }
    }
    out.observers = R.observers();
    out.event_counts = R.event_counts();
    out.stopped_by = R.stopped_by();
  } catch (const SimulationError& e) {  // the point failed: its own status (NAN_DETECTED, STEPFAIL)
    out.error = where_point(item) + e.what();
    out.status = e.status();
  } catch (const std::exception& e) {
    out.error = where_point(item) + e.what();
    out.status = Status::STEPFAIL;
  }
}

BatchResults batch_columns(const FullModelPtr& fm, const BatchOptions& o) {
  if (!fm) throw ArgumentError("run_batch: null model");
  const auto& m = fm->model();
  const auto& info = fm->compiled().stepper();
  if (info.adaptive && !o.observers.empty())
    throw ArgumentError("Observers need a fixed-step stepper; stepper '" + info.name +
                        "' is adaptive (run the batch without observers, or pick a fixed-step stepper)");
  if (o.record_interval < 1) throw ArgumentError("record_interval must be >= 1");
  if (o.record_last < 0) throw ArgumentError("record_last must be >= 0");
  if (o.save_at && m.kind == ir::Kind::map)
    throw ArgumentError("save_at is for ODEs: a map records its iterations (use record_interval)");
  if (o.save_at && o.record_interval != 1)
    throw ArgumentError(
        "record_interval cannot be combined with save_at: save_at replaces the records at "
        "step boundaries");
  // save_at / tstops: the rules of Sim::run, checked once here rather than failing every point.
  if (o.save_at)
    run_detail::check_run_times(*o.save_at, "save_at", o.t0.value_or(m.sim.t0), o.T.value_or(m.sim.t_end),
                                false);
  if (o.tstops) {
    if (!info.adaptive && !o.tstops->empty())
      throw ArgumentError("tstops need an adaptive stepper: '" + info.name +
                          "' steps on the grid t0 + k*dt (choose dt so that the tstops are on it, or an "
                          "adaptive stepper such as rk45)");
    run_detail::check_run_times(*o.tstops, "tstops", 0, 0, false, false);
  }
  BatchResults res;
  res.state_names = m.states;
  res.param_names = m.params;
  for (const auto& e : m.events) {
    res.event_names.push_back(e.name);
    if (e.root && e.terminal > 0) res.terminal_events = true;
  }
  if (o.record || o.record_last > 0 || o.save_at) {
    if (o.record_vars) {  // the Results column order: states, then aux
      std::vector<std::string> aux;
      for (const auto& v : *o.record_vars) {
        if (std::find(m.states.begin(), m.states.end(), v) != m.states.end())
          res.record_names.push_back(v);
        else
          aux.push_back(v.starts_with("aux.") || v.starts_with("aux:") ? v.substr(4) : v);
      }
      res.record_names.insert(res.record_names.end(), aux.begin(), aux.end());
    } else {
      res.record_names = m.states;
    }
  }
  return res;
}

void check_item_names(const FullModelPtr& fm, const std::vector<BatchItem>& items) {
  // Validate names once, up front, on a probe (same checks as every run).
  Sim probe(fm);
  for (const auto& it : items) {
    for (const auto& [k, v] : it.ic) (void)probe.state(k), (void)v;
    for (const auto& [k, v] : it.params) (void)probe.param(k), (void)v;
  }
}

unsigned batch_threads(const BatchOptions& o, std::size_t n) {
  const unsigned threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  return static_cast<unsigned>(std::min<std::size_t>(threads, std::max<std::size_t>(1, n)));
}

std::vector<BatchRun> run_items(const FullModelPtr& fm, const BatchOptions& o,
                                const std::vector<BatchItem>& items) {
  const auto& m = fm->model();
  const auto& info = fm->compiled().stepper();
  // Fixed step: plan-sized record buffers (no growth re-entry in the hot loop). Adaptive: the number of
  // steps is not known ahead, so each run starts with Sim's default capacity and grows like a single run.
  std::optional<std::int64_t> cap_rec;
  if (!info.adaptive) cap_rec = 1024;
  if (o.save_at)
    cap_rec =
        std::clamp<std::int64_t>(static_cast<std::int64_t>(o.save_at->size()) + 1, 1, std::int64_t{1} << 24);
  if (!info.adaptive && !o.save_at && (o.record || o.record_last > 0)) {
    const double dt = o.dt.value_or(m.sim.dt), t0 = o.t0.value_or(m.sim.t0);
    std::int64_t total = 0;
    if (m.kind == ir::Kind::map)
      total = o.N ? *o.N : std::llround((o.T.value_or(m.sim.t_end) - t0) / dt);
    else
      total = static_cast<std::int64_t>(std::ceil((o.T.value_or(m.sim.t_end) - t0) / dt)) + 1;
    cap_rec = std::clamp<std::int64_t>(total / o.record_interval + 2, 1, std::int64_t{1} << 24);
  }
  // SIMD lanes: the workers take packs of kLanes points instead of single points.
  const auto lanes = batch_lane_runner(fm, o);
  const std::size_t unit = lanes ? static_cast<std::size_t>(kernels::kLanes) : 1;
  const std::size_t n_units = (items.size() + unit - 1) / unit;
  const unsigned threads = batch_threads(o, n_units);
  std::vector<BatchRun> runs(items.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (;;) {
      const std::size_t u = next.fetch_add(1, std::memory_order_relaxed);
      if (u >= n_units) break;
      const std::size_t first = u * unit, last = std::min(items.size(), first + unit);
      if (lanes)
        run_pack(fm, *lanes, o, items, first, last, cap_rec, runs);
      else
        run_point(fm, o, items[first], cap_rec, runs[first]);
      if (o.finished) o.finished->fetch_add(last - first, std::memory_order_relaxed);
    }
  };
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (unsigned k = 0; k < threads; ++k) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  return runs;
}

}  // namespace core

BatchResults run_batch(const FullModelPtr& fm, const std::vector<BatchItem>& items, const BatchOptions& o) {
  BatchResults res = core::batch_columns(fm, o);
  core::check_item_names(fm, items);
  if (core::batch_lane_runner(fm, o)) res.lanes = static_cast<unsigned>(kernels::kLanes);
  res.threads = core::batch_threads(o, (items.size() + res.lanes - 1) / res.lanes);
  const auto t_start = std::chrono::steady_clock::now();
  if (o.executor && o.executor->processes() > 1) {
    // Blocks of about 1% of the items (at least 4 per thread), handed out to the executor's processes.
    const std::size_t block = std::max<std::size_t>(4 * res.threads, (items.size() + 99) / 100);
    std::vector<PointBlock> blocks;
    for (std::size_t a = 0; a < items.size(); a += block)
      blocks.push_back({a, std::min(items.size(), a + block)});
    if (o.executor->is_root()) res.runs.resize(items.size());
    o.executor->run(
        blocks,
        [&](PointBlock b) {
          const std::vector<BatchItem> part(items.begin() + static_cast<std::ptrdiff_t>(b.first),
                                            items.begin() + static_cast<std::ptrdiff_t>(b.last));
          std::string bytes;
          core::encode_runs(bytes, core::run_items(fm, o, part));
          return bytes;
        },
        [&](PointBlock b, std::string&& bytes) {
          auto runs = core::decode_runs(bytes);
          if (runs.size() != b.last - b.first || b.last > res.runs.size())
            throw DynlibError("batch results from another process do not match their block");
          std::move(runs.begin(), runs.end(), res.runs.begin() + static_cast<std::ptrdiff_t>(b.first));
        });
  } else {
    res.runs = core::run_items(fm, o, items);
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return res;
}

SweepAxis SweepAxis::linspace(std::string param, double start, double stop, std::int64_t count) {
  if (count < 1) throw ArgumentError("sweep: count must be >= 1 (got " + std::to_string(count) + ")");
  SweepAxis a;
  a.param = std::move(param);
  a.values.resize(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) {
    double x =
        count == 1 ? start : start + (stop - start) * static_cast<double>(i) / static_cast<double>(count - 1);
    if (i > 0 && i + 1 < count) {
      // Interior points: the nearest 15-significant-digit decimal, so 0.1:0.5:5 gives 0.3 rather than
      // 0.30000000000000004 (the difference is below the rounding error of the formula).
      char b[32];
      std::snprintf(b, sizeof b, "%.15g", x);
      x = std::strtod(b, nullptr);
    }
    a.values[static_cast<std::size_t>(i)] = x;
  }
  return a;
}

SweepResults sweep(const FullModelPtr& fm, const std::vector<SweepAxis>& axes, const BatchOptions& o,
                   const BatchItem& base) {
  if (axes.empty() || axes.size() > 2) throw ArgumentError("sweep: give one or two axes");
  if (axes.size() == 2 && axes[0].param == axes[1].param)
    throw ArgumentError("sweep: the two axes sweep the same parameter");
  for (const auto& a : axes)
    if (a.values.empty()) throw ArgumentError("sweep: axis '" + a.param + "' has no values");
  SweepResults r;
  r.axes = axes;
  const std::size_t ny = axes.size() > 1 ? axes[1].values.size() : 1;
  std::vector<BatchItem> items;
  items.reserve(axes[0].values.size() * ny);
  for (double x : axes[0].values)
    for (std::size_t j = 0; j < ny; ++j) {
      BatchItem it = base;
      it.params.emplace_back(axes[0].param, x);
      if (axes.size() > 1) it.params.emplace_back(axes[1].param, axes[1].values[j]);
      items.push_back(std::move(it));
    }
  r.batch = run_batch(fm, items, o);
  return r;
}

}  // namespace dynlib
