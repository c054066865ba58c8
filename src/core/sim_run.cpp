// Sim::run: argument resolution, the re-entry loop and the stitching of chunks (docs/internals/runner.md),
// with our fixes (docs/internals/differences.md): resume continues the runner in place (no duplicate
// record, every event kept, true session step numbers), fixed-step time t_base + k*dt, failures leave
// the session untouched.
#include <dynlib/errors.hpp>
#include <dynlib/sim.hpp>
#include <dynlib/warnings.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>

#include "core/analysis.hpp"
#include "core/sim_impl.hpp"
#include "kernels/backend.hpp"

namespace dynlib {
namespace {

// Optional ABI extensions: if the runner ABI grows per-event step/time columns, use them.
template <class A>
concept HasEvtStep = requires(A a, std::int64_t* p) { a.EVT_STEP = p; };
template <class A>
concept HasEvtT = requires(A a, double* p) { a.EVT_T = p; };

template <class A>
void bind_evt_extra(A& a, std::int64_t* steps, double* times) {
  if constexpr (HasEvtStep<A>) a.EVT_STEP = steps;
  if constexpr (HasEvtT<A>) a.EVT_T = times;
  (void)a, (void)steps, (void)times;
}

std::string fmt_g(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

struct Chunk {
  std::vector<double> T, Y, AUX, EVT_LOG;
  std::vector<std::int64_t> STEP, EVT_CODE, EVT_INDEX, EVT_STEP;
  std::vector<double> EVT_T;
  std::int64_t cap_rec = 0, cap_evt = 0;
  kernels::RunnerArgs a;
};

struct ChunkSpec {
  bool start = true;          // kResumeStart (fresh runner start) vs kResumeLoop (continue)
  double t_end = 0.0;
  std::int64_t step_end = 0;
  std::int64_t record_interval = 0;
  double dt = 0.0;
  std::int64_t cap_rec = 1, cap_evt = 1;
  const std::vector<std::int64_t>* rec_states = nullptr;
  const std::vector<std::int64_t>* rec_aux = nullptr;
};

template <class T>
void grow_rows(std::vector<T>& v, std::int64_t rows, std::int64_t old_cap, std::int64_t new_cap, std::int64_t filled) {
  std::vector<T> n(static_cast<std::size_t>(rows * new_cap));
  for (std::int64_t r = 0; r < rows; ++r)
    std::copy_n(v.begin() + r * old_cap, filled, n.begin() + r * new_cap);
  v.swap(n);
}

std::int64_t doubled(std::int64_t cap, std::int64_t need) {
  while (cap < need) cap *= 2;
  return cap;
}

// Runs the compiled runner on `st` (mutated in place: pass a copy) until it returns a final status.
Chunk execute(const kernels::CompiledModel& cm, Session& st, const ChunkSpec& spec, const std::int32_t* brk,
              const kernels::AnalysisRunner* ar = nullptr, core::AnalysisBuffers* ab = nullptr) {
  const auto& L = cm.layout();
  const bool adaptive = cm.stepper().adaptive;
  const std::int64_t nrs = static_cast<std::int64_t>(spec.rec_states->size());
  const std::int64_t nra = static_cast<std::int64_t>(spec.rec_aux->size());
  Chunk c;
  c.cap_rec = std::max<std::int64_t>(1, spec.cap_rec);
  c.cap_evt = std::max<std::int64_t>({1, spec.cap_evt, L.min_cap_evt});
  c.T.resize(static_cast<std::size_t>(c.cap_rec));
  c.STEP.resize(static_cast<std::size_t>(c.cap_rec));
  c.Y.resize(static_cast<std::size_t>(nrs * c.cap_rec));
  c.AUX.resize(static_cast<std::size_t>(nra * c.cap_rec));
  c.EVT_CODE.resize(static_cast<std::size_t>(c.cap_evt));
  c.EVT_INDEX.resize(static_cast<std::size_t>(c.cap_evt));
  c.EVT_STEP.resize(static_cast<std::size_t>(c.cap_evt));
  c.EVT_T.resize(static_cast<std::size_t>(c.cap_evt));
  c.EVT_LOG.resize(static_cast<std::size_t>(c.cap_evt * L.log_width));
  std::vector<double> y_prop(st.y.size()), scratch(static_cast<std::size_t>(std::max<std::int64_t>(1, L.scratch_size)));
  if (st.aux.size() < static_cast<std::size_t>(L.n_aux)) st.aux.resize(static_cast<std::size_t>(L.n_aux));

  auto& a = c.a;
  a.t_end = spec.t_end;
  a.step_end = spec.step_end;
  a.record_interval = spec.record_interval;
  a.n_state = static_cast<std::int64_t>(st.y.size());
  a.t_base = st.t_base;
  a.step_base = st.step_base;
  a.dt_nominal = st.clock_dt;
  a.y_curr = st.y.data();
  a.y_prev = st.y_prev.data();
  a.params = st.params.data();
  a.lag_ring = st.lag_ring.data();
  a.lag_head = st.lag_head.data();
  a.aux_values = st.aux.data();
  a.ws = st.ws.data();
  a.iws = st.iws.data();
  a.stepper_config = st.stepper_config.data();
  a.n_config = static_cast<std::int64_t>(st.stepper_config.size());
  a.y_prop = y_prop.data();
  a.scratch = scratch.data();
  a.state_rec_idx = spec.rec_states->data();
  a.n_rec_states = nrs;
  a.aux_rec_idx = spec.rec_aux->data();
  a.n_rec_aux = nra;
  a.t = st.t;
  a.dt = spec.dt;
  a.i = 0;
  a.step = st.step;
  a.m = 0;
  a.resume_point = spec.start ? kernels::kResumeStart : kernels::kResumeLoop;
  a.user_break_flag = brk;

  auto bind = [&] {
    a.T = c.T.data();
    a.Y = c.Y.data();
    a.AUX = c.AUX.data();
    a.STEP = c.STEP.data();
    a.cap_rec = c.cap_rec;
    a.EVT_CODE = c.EVT_CODE.data();
    a.EVT_INDEX = c.EVT_INDEX.data();
    a.EVT_LOG_DATA = c.EVT_LOG.data();
    a.cap_evt = c.cap_evt;
    bind_evt_extra(a, c.EVT_STEP.data(), c.EVT_T.data());
  };
  if (ar && ab) ab->bind(a, ar->layout());
  for (;;) {
    bind();
    if (ar) ar->run(a);
    else cm.run(a);
    const Status s = kernels::runner_status(a);
    if (s == Status::GROW_REC) {
      const std::int64_t nc = doubled(c.cap_rec * 2, std::max(a.need_rec, a.i + 1));
      c.T.resize(static_cast<std::size_t>(nc));
      c.STEP.resize(static_cast<std::size_t>(nc));
      grow_rows(c.Y, nrs, c.cap_rec, nc, a.i);
      grow_rows(c.AUX, nra, c.cap_rec, nc, a.i);
      c.cap_rec = nc;
      continue;
    }
    if (s == Status::GROW_EVT) {
      const std::int64_t nc = doubled(c.cap_evt * 2, std::max(a.need_evt, a.m + 1));
      c.EVT_CODE.resize(static_cast<std::size_t>(nc));
      c.EVT_INDEX.resize(static_cast<std::size_t>(nc));
      c.EVT_STEP.resize(static_cast<std::size_t>(nc));
      c.EVT_T.resize(static_cast<std::size_t>(nc));
      c.EVT_LOG.resize(static_cast<std::size_t>(nc * L.log_width));
      c.cap_evt = nc;
      continue;
    }
    if (s == Status::DONE || s == Status::EARLY_EXIT || s == Status::USER_BREAK || s == Status::NAN_DETECTED ||
        s == Status::STEPFAIL || s == Status::TRACE_OVERFLOW)
      break;
    throw DynlibError("Runner returned unexpected status " + std::to_string(a.status));
  }
  // Session bookkeeping from the cursors.
  st.t = a.t;
  st.step = a.step;
  st.dt = adaptive ? a.dt : st.nominal_dt;
  st.status = kernels::runner_status(a);
  st.has_workspace = true;
  return c;
}

std::string failure_message(const ir::ModelIR& m, const Chunk& c, const char* phase) {
  const auto& a = c.a;
  const Status s = kernels::runner_status(a);
  std::string msg = std::string("Simulation failed") + phase + " with status " + status_name(s) + " (" +
                    std::to_string(a.status) + ") at t=" + fmt_g(s == Status::NAN_DETECTED || s == Status::STEPFAIL ? a.t_fail : a.t) +
                    ", step=" + std::to_string(a.step);
  if (s == Status::NAN_DETECTED) {
    using kernels::NanWhere;
    const auto w = static_cast<NanWhere>(a.nan_where);
    const auto idx = static_cast<std::size_t>(std::max<std::int64_t>(0, a.nan_index));
    auto sname = [&] { return idx < m.states.size() ? "state '" + m.states[idx] + "'" : std::string("a state"); };
    auto pname = [&] { return idx < m.params.size() ? "param '" + m.params[idx] + "'" : std::string("a param"); };
    auto ename = [&] {
      return a.nan_event >= 0 && static_cast<std::size_t>(a.nan_event) < m.events.size()
                 ? " by event '" + m.events[static_cast<std::size_t>(a.nan_event)].name + "'" : std::string();
    };
    switch (w) {
      case NanWhere::proposed_state: msg += ": " + sname() + " became NaN/Inf in the proposed step"; break;
      case NanWhere::proposed_time: msg += ": the proposed time is not finite"; break;
      case NanWhere::next_dt: msg += ": the next step size is not finite"; break;
      case NanWhere::initial_state: msg += ": initial " + sname() + " is not finite"; break;
      case NanWhere::param: msg += ": " + pname() + " is not finite"; break;
      case NanWhere::event_state: msg += ": " + sname() + " was set to NaN/Inf" + ename(); break;
      case NanWhere::event_param: msg += ": " + pname() + " was set to NaN/Inf" + ename(); break;
      default: break;
    }
  } else if (s == Status::STEPFAIL) {
    msg += ": the stepper could not take a step (err_est=" + fmt_g(a.err_est) + ")";
  }
  msg += ". Last committed state:";
  for (std::size_t k = 0; k < m.states.size(); ++k) msg += " " + m.states[k] + "=" + fmt_g(a.y_curr ? a.y_curr[k] : NAN);
  return msg + ". The session was left unchanged.";
}

}  // namespace

Status Sim::run(const RunOptions& o) {
  auto& I = *impl_;
  const auto& m = I.m();
  const auto& cm = *I.cm;
  const auto& info = cm.stepper();
  const bool is_map = m.kind == ir::Kind::map;
  const bool adaptive = info.adaptive;
  const bool resume = o.resume;

  // ---- validate and resolve arguments (explicit > config > [sim] > built-in) ----
  if (resume) {
    if (!o.ic.empty() || !o.params.empty() || o.t0 || o.dt)
      throw ArgumentError("resume=true cannot change ic, params, t0 or dt");
    if (o.transient && *o.transient > 0) throw ArgumentError("transient is not allowed with resume=true");
    if (o.record_vars)
      throw ArgumentError("record_vars cannot be changed during resume; run without resume to change the selection");
    if (!I.s.has_workspace) throw ArgumentError("Nothing to resume: call run() first (or load a snapshot)");
  }
  const double transient = o.transient.value_or(0.0);
  if (!(transient >= 0.0)) throw ArgumentError("transient must be >= 0");
  const bool record = o.record ? *o.record : (I.cfg.record ? *I.cfg.record : m.sim.record);
  const std::int64_t ri = o.record_interval ? *o.record_interval : I.cfg.record_interval.value_or(1);
  if (ri < 1) throw ArgumentError("record_interval must be >= 1");
  const std::int64_t max_steps = o.max_steps ? *o.max_steps : I.cfg.max_steps.value_or(m.sim.max_steps);
  if (max_steps <= 0) throw ArgumentError("max_steps must be > 0");
  const std::int64_t cap_rec = std::max<std::int64_t>(1, o.cap_rec ? *o.cap_rec : I.cfg.cap_rec.value_or(1024));
  const std::int64_t cap_evt = std::max<std::int64_t>(1, o.cap_evt ? *o.cap_evt : I.cfg.cap_evt.value_or(1));
  const double dt = resume ? I.s.nominal_dt : (o.dt ? *o.dt : I.s.nominal_dt);
  if (std::isnan(dt)) throw ArgumentError("Stepper '" + info.name + "' needs a step size: pass dt");
  if (!(dt > 0.0) || !std::isfinite(dt)) throw ArgumentError("dt must be positive (got " + fmt_g(dt) + ")");
  const double t0 = o.t0.value_or(m.sim.t0);
  if (!std::isfinite(t0)) throw ArgumentError("t0 must be finite");
  if (!o.tag.empty() && o.tag.find_first_not_of(" \t") == std::string::npos) throw ArgumentError("tag must be non-empty");

  std::int64_t target_N = 0;
  double target_T = 0.0;
  if (is_map) {
    if (o.T && o.N) throw ArgumentError("Pass either T or N for a map, not both");
    if (o.N) target_N = *o.N;
    else if (o.T) target_N = static_cast<std::int64_t>(std::llround((*o.T - t0) / dt));
    else target_N = max_steps;
    if (target_N < 0) throw ArgumentError("The horizon is negative (N=" + std::to_string(target_N) + ")");
  } else {
    if (o.N) throw ArgumentError("N is for maps; use T for an ODE");
    target_T = o.T ? *o.T : m.sim.t_end;
    if (!std::isfinite(target_T)) throw ArgumentError("T must be finite");
    if (!resume && target_T < t0) throw ArgumentError("T (" + fmt_g(target_T) + ") is before t0 (" + fmt_g(t0) + ")");
    if (!resume && transient > 0 && transient >= target_T - t0 && target_T > t0)
      throw ArgumentError("transient (" + fmt_g(transient) + ") must be shorter than the horizon T - t0 (" + fmt_g(target_T - t0) + ")");
  }
  // Observers (docs/analysis.md): validated before anything runs.
  std::optional<core::AnalysisHandle> analysis;
  if (!o.observers.empty()) {
    if (resume) throw ArgumentError("observers cannot be used with resume=true: run the whole horizon in one run");
    analysis = core::make_analysis(*I.fm, o.observers);
  }
  const std::vector<double> stepper_cfg = o.stepper.empty() ? I.s.stepper_config : I.build_stepper_config(o.stepper);

  // Recording selection.
  std::vector<std::int64_t> rec_states = I.rec_states, rec_aux = I.rec_aux;
  if (!resume || !I.results) {
    rec_states.clear();
    rec_aux.clear();
    if (!o.record_vars) {
      for (std::size_t k = 0; k < m.n_states(); ++k) rec_states.push_back(static_cast<std::int64_t>(k));
    } else {
      for (const auto& v : *o.record_vars) {
        std::string_view n = v;
        int k = index_of(m.states, n);
        if (k >= 0) { rec_states.push_back(k); continue; }
        if (n.starts_with("aux.") || n.starts_with("aux:")) n.remove_prefix(4);
        k = index_of(m.aux, n);
        if (k >= 0) { rec_aux.push_back(k); continue; }
        std::vector<std::string> all = m.states;
        all.insert(all.end(), m.aux.begin(), m.aux.end());
        std::string s = suggest(v, all);
        throw ArgumentError("Unknown record_vars entry '" + v + "'" + (s.empty() ? "" : " (did you mean '" + s + "'?)") +
                            ". Valid states: " + join_names(m.states) + ", aux: " + join_names(m.aux));
      }
    }
  }

  // ---- seed ----
  Session seed = I.s;
  seed.stepper_config = stepper_cfg;
  if (!resume) {
    // Validate and apply ic / params by name (on the seed only).
    auto apply = [&](const Assignments& kv, const std::vector<std::string>& names, std::vector<double>& dst, const char* what) {
      for (const auto& [k, v] : kv) {
        int i = index_of(names, k);
        if (i < 0) {
          std::string s = suggest(k, names);
          throw ArgumentError(std::string("Unknown ") + what + " '" + k + "'" + (s.empty() ? "" : " (did you mean '" + s + "'?)") +
                              ". Valid " + what + "s: " + join_names(names));
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
                           static_cast<std::int64_t>(st.stepper_config.size()), max_dt, st.lag_ring.data(), st.lag_head.data());
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
    if (is_map) {
      w.step_end = static_cast<std::int64_t>(transient);
    } else {
      w.t_end = seed.t + transient;
      w.step_end = max_steps;
    }
    w.dt = initial_dt(seed, is_map ? 0.0 : w.t_end);
    Chunk c = execute(cm, seed, w, nullptr);
    const Status s = kernels::runner_status(c.a);
    if (s != Status::DONE && s != Status::EARLY_EXIT && s != Status::TRACE_OVERFLOW)
      throw SimulationError(failure_message(m, c, " during the transient warm-up"));
    // The recorded run starts from the warm state with a fresh clock; steps restart at 0.
    seed.time_shift = seed.t - t0;
    seed.step = 0;
    seed.t_base = seed.t;
    seed.step_base = 0;
    seed.clock_dt = dt;
    seed.y_prev = seed.y;
  }

  // ---- recorded run ----
  ChunkSpec spec;
  spec.start = !resume;
  spec.record_interval = record ? ri : 0;
  spec.rec_states = &rec_states;
  spec.rec_aux = &rec_aux;
  spec.cap_rec = cap_rec;
  spec.cap_evt = cap_evt;
  const std::int64_t step0 = seed.step;
  if (is_map) {
    spec.step_end = target_N;  // absolute from the start of the recording
    if (resume && target_N - seed.step <= 0)
      throw ArgumentError("Requested discrete horizon already satisfied (N=" + std::to_string(target_N) + ", steps done " +
                          std::to_string(seed.step) + ")");
  } else {
    spec.t_end = target_T + seed.time_shift;
    if (resume && !(spec.t_end > seed.t))
      throw ArgumentError("Resume target T (" + fmt_g(target_T) + ") must exceed current time (" + fmt_g(seed.t - seed.time_shift) + ")");
    spec.step_end = seed.step + max_steps;
  }
  spec.dt = resume ? (adaptive ? seed.dt : seed.nominal_dt) : initial_dt(seed, spec.t_end);
  Session next = seed;
  core::AnalysisBuffers abuf;
  if (analysis) {
    const std::int64_t total = is_map ? target_N - seed.step
                                      : std::min(max_steps, core::fixed_step_count(seed.t_base, spec.t_end, seed.clock_dt));
    abuf.init(analysis->layout(), total);
  }
  Chunk c = execute(cm, next, spec, brk, analysis ? analysis->runner.get() : nullptr, analysis ? &abuf : nullptr);
  const Status status = kernels::runner_status(c.a);
  if (status != Status::DONE && status != Status::EARLY_EXIT && status != Status::USER_BREAK && status != Status::TRACE_OVERFLOW)
    throw SimulationError(failure_message(m, c, ""));
  if (status == Status::USER_BREAK) I.user_break.store(0);
  if (!is_map && status == Status::DONE && next.t < spec.t_end && next.step - step0 >= max_steps)
    warn("Simulation terminated after reaching max_steps (" + std::to_string(max_steps) + ") steps. The target end time T=" +
         fmt_g(target_T) + " may not have been reached.");

  // ---- commit: session, then stitch the chunk into the results ----
  I.s = std::move(next);
  I.ran = true;
  if (!resume || !I.results) {
    std::vector<std::string> sn, an;
    for (auto k : rec_states) sn.push_back(m.states[static_cast<std::size_t>(k)]);
    for (auto k : rec_aux) an.push_back(m.aux[static_cast<std::size_t>(k)]);
    I.results.emplace(std::move(sn), std::move(an));
    I.rec_states = rec_states;
    I.rec_aux = rec_aux;
    I.next_segment_id = 0;
  }
  Results& R = *I.results;
  const double shift = I.s.time_shift;
  const std::size_t prev_n = R.size();
  const std::size_t prev_m = R.events().size();
  const std::int64_t n_rec = c.a.i;
  const std::size_t nrs = rec_states.size(), nra = rec_aux.size();
  std::vector<double> ys(nrs), as(nra);
  for (std::int64_t i = 0; i < n_rec; ++i) {
    for (std::size_t k = 0; k < nrs; ++k) ys[k] = c.Y[k * static_cast<std::size_t>(c.cap_rec) + static_cast<std::size_t>(i)];
    for (std::size_t k = 0; k < nra; ++k) as[k] = c.AUX[k * static_cast<std::size_t>(c.cap_rec) + static_cast<std::size_t>(i)];
    R.append_record(c.T[static_cast<std::size_t>(i)] - shift, c.STEP[static_cast<std::size_t>(i)], ys.data(), as.data());
  }
  // Events: name, step and time of each firing.
  const auto LW = static_cast<std::size_t>(cm.layout().log_width);
  for (std::int64_t j = 0; j < c.a.m; ++j) {
    const auto ju = static_cast<std::size_t>(j);
    const auto code = c.EVT_CODE[ju];
    if (code < 0 || static_cast<std::size_t>(code) >= m.events.size()) continue;
    const auto& ev = m.events[static_cast<std::size_t>(code)];
    EventRecord r;
    r.name = ev.name;
    r.event_index = static_cast<std::int32_t>(code);
    const std::int64_t idx = c.EVT_INDEX[ju];
    r.record = static_cast<std::int64_t>(prev_n) + idx;
    bool have_t = false;
    for (std::size_t k = 0; k < ev.log.size(); ++k) {
      double v = c.EVT_LOG[ju * LW + k];
      if (ev.log[k].kind == ir::LogItem::Kind::Time) {
        v -= shift;
        r.t = v;
        have_t = true;
      }
      r.values.emplace_back(ev.log[k].name, v);
    }
    const bool end_phase = ev.phase != ir::Phase::start;
    if constexpr (HasEvtStep<kernels::RunnerArgs>) {
      r.step = c.EVT_STEP[ju];
    } else if (idx >= 0 && idx < n_rec && spec.record_interval == 1) {
      r.step = c.STEP[static_cast<std::size_t>(idx)] + (end_phase ? 1 : 0);
    } else if (have_t && !adaptive) {
      r.step = I.s.step_base + static_cast<std::int64_t>(std::llround((r.t + shift - I.s.t_base) / I.s.clock_dt));
    } else {
      r.step = -1;
    }
    if constexpr (HasEvtT<kernels::RunnerArgs>) {
      r.t = c.EVT_T[ju] - shift;
    } else if (!have_t) {
      r.t = NAN;
      if (r.step >= 0) {
        if (!adaptive)
          r.t = std::min(I.s.t_base + static_cast<double>(r.step - I.s.step_base) * I.s.clock_dt, is_map ? INFINITY : spec.t_end) - shift;
        else
          for (std::int64_t i = std::max<std::int64_t>(0, idx); i < n_rec; ++i)
            if (c.STEP[static_cast<std::size_t>(i)] == r.step) { r.t = c.T[static_cast<std::size_t>(i)] - shift; break; }
      }
    }
    R.events_mut().records().push_back(std::move(r));
  }
  if (n_rec > 0) {
    Segment sg;
    sg.id = I.next_segment_id++;
    std::string base = o.tag.empty() ? "run#" + std::to_string(sg.id) : o.tag;
    std::string name = base;
    for (int k = 2; std::any_of(R.segments().begin(), R.segments().end(), [&](const Segment& x) { return x.name == name; }); ++k)
      name = base + "-" + std::to_string(k);
    sg.name = name;
    sg.rec_start = prev_n;
    sg.rec_len = static_cast<std::size_t>(n_rec);
    sg.evt_start = prev_m;
    sg.evt_len = R.events().size() - prev_m;
    sg.t_start = R.t()[prev_n];
    sg.t_end = R.t().back();
    sg.step_start = R.step()[prev_n];
    sg.step_end = R.step().back();
    sg.resume = resume;
    R.segments_mut().push_back(std::move(sg));
  }
  if (analysis)
    R.observers_mut() = core::collect_outputs(analysis->layout(), abuf.out, abuf.trace, c.a.trace_count, shift);
  if (status == Status::TRACE_OVERFLOW) warn("The observer trace overflowed at t=" + fmt_g(I.s.t - shift) + "; the run stopped there");
  R.set_final(status, I.s.t - shift, I.s.step);
  return status;
}

}  // namespace dynlib
