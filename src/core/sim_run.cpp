// Sim::run: seed the session, run the transient and the recorded chunk, commit (docs/internals/runner.md),
// with our fixes (docs/internals/differences.md): resume continues the runner in place (no duplicate
// record, every event kept, true session step numbers), fixed-step time t_base + k*dt, failures leave
// the session untouched. The pieces live in sim_run_plan.cpp, sim_run_chunk.cpp and sim_run_stitch.cpp.
#include <algorithm>
#include <cmath>
#include <dynlib/errors.hpp>
#include <dynlib/sim.hpp>
#include <dynlib/warnings.hpp>
#include <limits>
#include <memory>
#include <string>

#include "core/sim_run_parts.hpp"

namespace dynlib {

using run_detail::Chunk;
using run_detail::ChunkSpec;
using run_detail::fmt_g;

Status Sim::run(const RunOptions& o) {
  auto& I = *impl_;
  const auto& m = I.m();
  const auto& cm = *I.cm;

  run_detail::RunPlan plan = I.plan_run(o);
  const bool is_map = plan.is_map;
  const bool adaptive = plan.adaptive;
  const bool resume = plan.resume;
  const double transient = plan.transient;
  const bool record = plan.record;
  const std::int64_t ri = plan.record_interval;
  const std::int64_t max_steps = plan.max_steps;
  const std::int64_t cap_rec = plan.cap_rec, cap_evt = plan.cap_evt;
  const double dt = plan.dt, t0 = plan.t0;
  const std::int64_t target_N = plan.target_N;
  const double target_T = plan.target_T;
  auto& analysis = plan.analysis;
  const auto& stepper_cfg = plan.stepper_cfg;
  const auto& rec_states = plan.rec_states;
  const auto& rec_aux = plan.rec_aux;

  // ---- seed ----
  Session seed = I.s;
  seed.stepper_config = stepper_cfg;
  if (!resume) {
    // Validate and apply ic / params by name (on the seed only).
    auto apply = [&](const Assignments& kv, const std::vector<std::string>& names, std::vector<double>& dst,
                     const char* what) {
      for (const auto& [k, v] : kv) {
        int i = index_of(names, k);
        if (i < 0) {
          std::string s = suggest(k, names);
          throw ArgumentError(std::string("Unknown ") + what + " '" + k + "'" +
                              (s.empty() ? "" : " (did you mean '" + s + "'?)") + ". Valid " + what +
                              "s: " + join_names(names));
        }
        dst[static_cast<std::size_t>(i)] = v;
      }
    };
    apply(o.ic, m.states, seed.y, "state");
    apply(o.params, m.params, seed.params, "param");
    // Storage dtype (docs/simulation.md "dtype"): the seeded state and params are stored rounded.
    if (m.dtype != ir::DType::float64) {
      for (auto& v : seed.y) v = kernels::storage_round(m.dtype, v);
      for (auto& v : seed.params) v = kernels::storage_round(m.dtype, v);
    }
    Session fresh = I.fresh_session();
    seed.t = t0;
    seed.step = 0;
    seed.y_prev = seed.y;
    seed.ws = fresh.ws;
    seed.iws = fresh.iws;
    seed.event_counts = fresh.event_counts;
    seed.aux = fresh.aux;
    cm.seed_lags(seed.y.data(), seed.lag_ring.data(), seed.lag_head.data());
    seed.has_workspace = false;
    seed.nominal_dt = dt;
    seed.time_shift = 0.0;
    seed.t_base = t0;
    seed.step_base = 0;
    seed.clock_dt = dt;
    if (!I.snapshots.count("initial")) {
      StoredSnapshot init{seed, "seed of the first run"};
      init.session.stepper_config = I.s.stepper_config;  // run-level settings become sticky, not initial
      I.snapshots.emplace("initial", std::move(init));
    }
  } else if (!adaptive) {
    // Keep the clock if the session sits on it (no partial step since); else rebase it.
    const double on_clock = seed.t_base + static_cast<double>(seed.step - seed.step_base) * seed.clock_dt;
    if (seed.clock_dt != seed.nominal_dt || on_clock != seed.t) {
      seed.t_base = seed.t;
      seed.step_base = seed.step;
      seed.clock_dt = seed.nominal_dt;
    }
  }

  const auto* brk = reinterpret_cast<const std::int32_t*>(&I.user_break);
  static_assert(sizeof(std::atomic<std::int32_t>) == sizeof(std::int32_t));
  auto initial_dt = [&](const Session& st, double t_end) {
    if (!adaptive) return dt;
    const double max_dt = o.dt ? *o.dt : std::numeric_limits<double>::infinity();
    return cm.initial_step(st.t, t_end, st.y.data(), st.params.data(), st.stepper_config.data(),
                           static_cast<std::int64_t>(st.stepper_config.size()), max_dt, st.lag_ring.data(),
                           st.lag_head.data());
  };

  // ---- transient warm-up (not recorded) ----
  if (!resume && transient > 0) {
    ChunkSpec w;
    w.start = true;
    w.record_interval = 0;
    w.rec_states = &rec_states;
    w.rec_aux = &rec_aux;
    w.cap_rec = 1;
    w.cap_evt = cap_evt;
    w.max_events = plan.max_events;
    if (is_map) {
      w.step_end = static_cast<std::int64_t>(transient);
    } else {
      w.t_end = seed.t + transient;
      w.step_end = max_steps;
    }
    w.dt = initial_dt(seed, is_map ? 0.0 : w.t_end);
    Chunk c = run_detail::execute(cm, seed, w, nullptr);
    const Status s = kernels::runner_status(c.a);
    if (s != Status::DONE && s != Status::EARLY_EXIT && s != Status::TRACE_OVERFLOW)
      throw SimulationError(run_detail::failure_message(m, cm.stepper(), c, " during the transient warm-up"),
                            s, c.a.t_fail, c.a.step, nullptr);
    // The recorded run starts from the warm state with a fresh clock; steps restart at 0.
    seed.time_shift = seed.t - t0;
    seed.step = 0;
    std::fill(seed.event_counts.begin(), seed.event_counts.end(), 0);
    seed.t_base = seed.t;
    seed.step_base = 0;
    seed.clock_dt = dt;
    seed.y_prev = seed.y;
  }

  // ---- output at chosen times and tstops, on the session clock ----
  // A resume without its own save_at / tstops continues the session's; this chunk gets the save_at
  // times up to its horizon, later ones wait in the session for a resume.
  // The session keeps them in run time (the user's clock); the runner gets them shifted, the records
  // get the user's times exactly.
  const bool saving = plan.save_at ? true : (resume && seed.save_at_mode);
  std::vector<double> save_user, save_later, save_now, tstops_user, tstops;
  if (plan.save_at) {
    save_user = *plan.save_at;
  } else if (saving) {
    for (double v : seed.save_at_left) (v <= target_T ? save_user : save_later).push_back(v);
  }
  for (double v : save_user) save_now.push_back(v + seed.time_shift);
  tstops_user = plan.tstops ? *plan.tstops : (resume ? seed.tstops : std::vector<double>{});
  for (double v : tstops_user) tstops.push_back(v + seed.time_shift);

  // ---- recorded run ----
  ChunkSpec spec;
  spec.start = !resume;
  spec.record_interval = record && !saving ? ri : 0;
  if (!save_now.empty()) {
    spec.save_at = &save_now;
    spec.save_at_user = &save_user;
  }
  if (!tstops.empty()) spec.tstops = &tstops;
  spec.rec_states = &rec_states;
  spec.rec_aux = &rec_aux;
  spec.cap_rec = cap_rec;
  spec.cap_evt = cap_evt;
  spec.max_record_bytes = plan.max_record_bytes;
  spec.max_events = plan.max_events;
  const std::int64_t step0 = seed.step;
  const std::int64_t step_limit = seed.step > std::numeric_limits<std::int64_t>::max() - max_steps
                                      ? std::numeric_limits<std::int64_t>::max()
                                      : seed.step + max_steps;
  if (is_map) {
    spec.step_end = std::min(target_N, step_limit);  // absolute from the start of the recording
    if (resume && target_N - seed.step <= 0)
      throw ArgumentError("Requested discrete horizon already satisfied (N=" + std::to_string(target_N) +
                          ", steps done " + std::to_string(seed.step) + ")");
  } else {
    spec.t_end = target_T + seed.time_shift;
    if (resume && !(spec.t_end > seed.t))
      throw ArgumentError("Resume target T (" + fmt_g(target_T) + ") must exceed current time (" +
                          fmt_g(seed.t - seed.time_shift) + ")");
    spec.step_end = step_limit;
  }
  spec.dt = resume ? (adaptive ? seed.dt : seed.nominal_dt) : initial_dt(seed, spec.t_end);
  Session next = seed;
  core::AnalysisBuffers abuf;
  if (analysis) {
    const std::int64_t total =
        is_map ? spec.step_end - seed.step
               : std::min(max_steps, core::fixed_step_count(seed.t_base, spec.t_end, seed.clock_dt));
    abuf.init(analysis->layout(), total);
  }
  Chunk c = run_detail::execute(cm, next, spec, brk, analysis ? analysis->runner.get() : nullptr,
                                analysis ? &abuf : nullptr);
  Status status = kernels::runner_status(c.a);
  if (status == Status::NAN_DETECTED || status == Status::STEPFAIL) {
    // What was recorded up to the failure, for the caller (the session itself stays untouched).
    const bool continues = resume && I.results;
    Results partial = continues ? *I.results : I.new_results(plan);
    int segment_id = continues ? I.next_segment_id : 0;
    I.stitch_chunk(partial, segment_id, next, o, plan, spec, c);
    const double t_fail = c.a.t_fail - seed.time_shift;
    partial.set_final(status, t_fail, c.a.step);
    throw SimulationError(run_detail::failure_message(m, cm.stepper(), c, ""), status, t_fail, c.a.step,
                          std::make_shared<const Results>(std::move(partial)));
  }
  if (status != Status::DONE && status != Status::EARLY_EXIT && status != Status::USER_BREAK &&
      status != Status::TRACE_OVERFLOW && status != Status::RECORD_LIMIT)
    throw SimulationError(run_detail::failure_message(m, cm.stepper(), c, ""));
  if (status == Status::USER_BREAK) I.user_break.store(0);
  const bool short_of_horizon = is_map ? next.step < target_N : next.t < spec.t_end;
  if (status == Status::DONE && short_of_horizon && next.step - step0 >= max_steps) {
    status = Status::MAX_STEPS;
    next.status = status;
    warn("The run stopped after max_steps (" + std::to_string(max_steps) +
         ") steps at t=" + fmt_g(next.t - next.time_shift) + ", before " +
         (is_map ? "N=" + std::to_string(target_N) : "T=" + fmt_g(target_T)) +
         " (status MAX_STEPS). Raise max_steps to go further, or resume the run.");
  }
  if (status == Status::RECORD_LIMIT) warn(run_detail::record_limit_message(c, spec, next.time_shift));
  if (c.stiff_at)
    warn(cm.stepper().name + ": the problem looks stiff from t=" + fmt_g(*c.stiff_at - next.time_shift) +
         " on (the step size was limited by stability, not accuracy, in 15 successive tests): an implicit "
         "stepper (bdf, radau5, rodas5p) needs far fewer steps. The setting nstiff = 0 turns this test off.");

  // ---- commit: session, then stitch the chunk into the results ----
  next.save_at_mode = saving;
  next.save_at_left.clear();
  const auto done_saves = static_cast<std::size_t>(
      std::clamp<std::int64_t>(c.a.save_at_next, 0, static_cast<std::int64_t>(save_now.size())));
  next.save_at_left.assign(save_user.begin() + static_cast<std::ptrdiff_t>(done_saves), save_user.end());
  next.save_at_left.insert(next.save_at_left.end(), save_later.begin(), save_later.end());
  next.tstops = tstops_user;
  I.s = std::move(next);
  I.ran = true;
  if (!resume || !I.results) {
    I.results = std::make_shared<Results>(I.new_results(plan));
    I.rec_states = rec_states;
    I.rec_aux = rec_aux;
    I.next_segment_id = 0;
  }
  if (I.results.use_count() > 1) I.results = std::make_shared<Results>(*I.results);  // held elsewhere
  Results& R = *I.results;
  I.stitch_chunk(R, I.next_segment_id, I.s, o, plan, spec, c);
  const double shift = I.s.time_shift;
  if (analysis)
    R.observers_mut() =
        core::collect_outputs(analysis->layout(), abuf.out, abuf.trace, c.a.trace_count, shift);
  if (status == Status::TRACE_OVERFLOW)
    warn("The observer trace overflowed at t=" + fmt_g(I.s.t - shift) + "; the run stopped there");
  R.set_final(status, I.s.t - shift, I.s.step);
  // A terminal root event leaves its index in nan_event (kernels/root_events.hpp).
  const bool by_event = status == Status::EARLY_EXIT && c.a.nan_event >= 0 &&
                        c.a.nan_event < static_cast<std::int64_t>(m.events.size());
  R.set_stopped_by(by_event ? m.events[static_cast<std::size_t>(c.a.nan_event)].name : std::string());
  return status;
}

}  // namespace dynlib
