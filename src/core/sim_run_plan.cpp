// Sim::run step 1: validate RunOptions and resolve them against Sim::config and the model's [sim].
#include <algorithm>
#include <cmath>
#include <dynlib/errors.hpp>
#include <string>

#include "core/sim_run_parts.hpp"

namespace dynlib {

void run_detail::check_run_times(const std::vector<double>& v, const char* what, double lo, double hi,
                                 bool resume, bool in_horizon) {
  for (std::size_t k = 0; k < v.size(); ++k) {
    const std::string at = std::string(what) + "[" + std::to_string(k) + "] = " + fmt_g(v[k]);
    if (!std::isfinite(v[k])) throw ArgumentError(at + " is not finite");
    if (k > 0 && v[k] < v[k - 1])
      throw ArgumentError(at + " is smaller than the time before it (" + fmt_g(v[k - 1]) + "): " + what +
                          " must be non-decreasing");
    if (in_horizon && (v[k] < lo || v[k] > hi))
      throw ArgumentError(at + " is outside the run's time span [" + fmt_g(lo) + ", " + fmt_g(hi) + "]" +
                          (resume ? " (a resume starts at the current time)" : ""));
  }
}

// Validates `o` and resolves it (explicit > config > [sim] > built-in); throws ArgumentError.
run_detail::RunPlan Sim::Impl::plan_run(const RunOptions& o) const {
  using run_detail::fmt_g;
  const auto& I = *this;
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
      throw ArgumentError(
          "record_vars cannot be changed during resume; run without resume to change the selection");
    if (!I.s.has_workspace) throw ArgumentError("Nothing to resume: call run() first (or load a snapshot)");
  }
  const double transient = o.transient.value_or(0.0);
  if (!(transient >= 0.0)) throw ArgumentError("transient must be >= 0");
  const bool record = o.record ? *o.record : (I.cfg.record ? *I.cfg.record : m.sim.record);
  const std::int64_t ri = o.record_interval ? *o.record_interval : I.cfg.record_interval.value_or(1);
  if (ri < 1) throw ArgumentError("record_interval must be >= 1");
  const std::int64_t max_steps = o.max_steps ? *o.max_steps : I.cfg.max_steps.value_or(m.sim.max_steps);
  if (max_steps <= 0) throw ArgumentError("max_steps must be > 0");
  const std::int64_t cap_rec =
      std::max<std::int64_t>(1, o.cap_rec ? *o.cap_rec : I.cfg.cap_rec.value_or(1024));
  const std::int64_t cap_evt = std::max<std::int64_t>(1, o.cap_evt ? *o.cap_evt : I.cfg.cap_evt.value_or(1));
  const double dt = resume ? I.s.nominal_dt : (o.dt ? *o.dt : I.s.nominal_dt);
  if (std::isnan(dt)) throw ArgumentError("Stepper '" + info.name + "' needs a step size: pass dt");
  if (!(dt > 0.0) || !std::isfinite(dt)) throw ArgumentError("dt must be positive (got " + fmt_g(dt) + ")");
  const double t0 = o.t0.value_or(m.sim.t0);
  if (!std::isfinite(t0)) throw ArgumentError("t0 must be finite");
  if (!o.tag.empty() && o.tag.find_first_not_of(" \t") == std::string::npos)
    throw ArgumentError("tag must be non-empty");

  std::int64_t target_N = 0;
  double target_T = 0.0;
  if (is_map) {
    if (o.T && o.N) throw ArgumentError("Pass either T or N for a map, not both");
    if (o.N)
      target_N = *o.N;
    else if (o.T)
      target_N = static_cast<std::int64_t>(std::llround((*o.T - t0) / dt));
    else  // the model's [sim].t_end, like T for an ODE
      target_N = static_cast<std::int64_t>(std::llround((m.sim.t_end - t0) / dt));
    if (target_N < 0) throw ArgumentError("The horizon is negative (N=" + std::to_string(target_N) + ")");
  } else {
    if (o.N) throw ArgumentError("N is for maps; use T for an ODE");
    target_T = o.T ? *o.T : m.sim.t_end;
    if (!std::isfinite(target_T)) throw ArgumentError("T must be finite");
    if (!resume && target_T < t0)
      throw ArgumentError("T (" + fmt_g(target_T) + ") is before t0 (" + fmt_g(t0) + ")");
    if (!resume && transient > 0 && transient >= target_T - t0 && target_T > t0)
      throw ArgumentError("transient (" + fmt_g(transient) + ") must be shorter than the horizon T - t0 (" +
                          fmt_g(target_T - t0) + ")");
  }
  // Fixed-step and map time is t_base + k*dt: a dt below the spacing of doubles near the horizon would
  // leave t where it is while steps are counted. (Adaptive steppers only cap their first step with dt.)
  if (!adaptive) {
    const double t_from = resume ? I.s.t - I.s.time_shift : t0;
    const double t_to = is_map ? t0 + static_cast<double>(target_N) * dt : target_T;
    const double span = std::max(std::abs(t_from), std::abs(t_to));
    if (span + dt == span)
      throw ArgumentError("dt (" + fmt_g(dt) + ") is too small for times near " + fmt_g(span) +
                          ": t + dt == t in double precision (the spacing there is " +
                          fmt_g(std::nextafter(span, INFINITY) - span) +
                          "), so steps would not advance time. Use a larger dt, or a t0 closer to 0");
  }
  // Output at chosen times and tstops (docs/simulation.md "Output at chosen times").
  const double t_now = resume ? I.s.t - I.s.time_shift : t0;
  auto check_times = [&](const std::vector<double>& v, const char* what, bool in_horizon) {
    run_detail::check_run_times(v, what, t_now, target_T, resume, in_horizon);
  };
  if (o.save_at) {
    if (is_map)
      throw ArgumentError("save_at is for ODEs: a map records its iterations (use record_interval)");
    if (o.record_interval)
      throw ArgumentError(
          "record_interval cannot be combined with save_at: save_at replaces the records at "
          "step boundaries");
    if (o.record && !*o.record) throw ArgumentError("record=false cannot be combined with save_at");
    check_times(*o.save_at, "save_at", true);
  }
  if (o.tstops) {
    if (is_map) throw ArgumentError("tstops are for ODEs: a map has no steps in time to clip");
    if (!adaptive && !o.tstops->empty())
      throw ArgumentError("tstops need an adaptive stepper: '" + info.name +
                          "' steps on the grid t0 + k*dt (choose dt so that the tstops are on it, or an "
                          "adaptive stepper such as rk45)");
    check_times(*o.tstops, "tstops", false);
  }
  const std::int64_t max_record_bytes = o.max_record_bytes.value_or(std::int64_t{4} << 30);
  if (max_record_bytes <= 0)
    throw ArgumentError("max_record_bytes must be > 0 (got " + std::to_string(max_record_bytes) + ")");
  const std::int64_t max_events = o.max_events.value_or(10'000'000);
  if (max_events <= 0) throw ArgumentError("max_events must be > 0 (got " + std::to_string(max_events) + ")");
  // Observers (docs/analysis.md): validated before anything runs.
  std::optional<core::AnalysisHandle> analysis;
  if (!o.observers.empty()) {
    if (resume)
      throw ArgumentError("observers cannot be used with resume=true: run the whole horizon in one run");
    analysis = core::make_analysis(*I.fm, o.observers);
  }
  const std::vector<double> stepper_cfg =
      o.stepper.empty() ? I.s.stepper_config : I.build_stepper_config(o.stepper);

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
        if (k >= 0) {
          rec_states.push_back(k);
          continue;
        }
        if (n.starts_with("aux.") || n.starts_with("aux:")) n.remove_prefix(4);
        k = index_of(m.aux, n);
        if (k >= 0) {
          rec_aux.push_back(k);
          continue;
        }
        std::vector<std::string> all = m.states;
        all.insert(all.end(), m.aux.begin(), m.aux.end());
        std::string s = suggest(v, all);
        throw ArgumentError("Unknown record_vars entry '" + v + "'" +
                            (s.empty() ? "" : " (did you mean '" + s + "'?)") +
                            ". Valid states: " + join_names(m.states) + ", aux: " + join_names(m.aux));
      }
    }
  }

  run_detail::RunPlan p;
  p.is_map = is_map;
  p.adaptive = adaptive;
  p.resume = resume;
  p.transient = transient;
  p.record = record;
  p.record_interval = ri;
  p.max_steps = max_steps;
  p.max_record_bytes = max_record_bytes;
  p.max_events = max_events;
  p.cap_rec = cap_rec;
  p.cap_evt = cap_evt;
  p.dt = dt;
  p.t0 = t0;
  p.target_N = target_N;
  p.target_T = target_T;
  p.analysis = std::move(analysis);
  p.stepper_cfg = stepper_cfg;
  p.rec_states = std::move(rec_states);
  p.rec_aux = std::move(rec_aux);
  p.save_at = o.save_at;
  p.tstops = o.tstops;
  return p;
}

}  // namespace dynlib
