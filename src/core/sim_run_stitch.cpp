// Sim::run last step: append a finished chunk (records, events, one segment) to the session's Results.
#include <algorithm>
#include <cmath>
#include <string>

#include "core/sim_run_parts.hpp"

namespace dynlib {

// Appends the chunk's records, events and a segment to results (created if needed).
Results Sim::Impl::new_results(const run_detail::RunPlan& plan) const {
  const auto& m = this->m();
  std::vector<std::string> sn, an;
  for (auto k : plan.rec_states) sn.push_back(m.states[static_cast<std::size_t>(k)]);
  for (auto k : plan.rec_aux) an.push_back(m.aux[static_cast<std::size_t>(k)]);
  Results R(std::move(sn), std::move(an));
  std::vector<std::string> events;
  for (const auto& e : m.events) events.push_back(e.name);
  R.set_event_names(std::move(events));
  if (cm->stepper().work_counters_at >= 0) R.work_stats_mut() = WorkStats{};
  return R;
}

// Appends the chunk's records, events and a segment to R; `s` is the session the chunk ran on (its clock
// and time shift).
void Sim::Impl::stitch_chunk(Results& R, int& next_segment_id, const Session& s, const RunOptions& o,
                             const run_detail::RunPlan& plan, const run_detail::ChunkSpec& spec,
                             const run_detail::Chunk& c) const {
  using run_detail::HasEvtStep;
  using run_detail::HasEvtT;
  const auto& m = this->m();
  const auto& cm = *this->cm;
  const bool is_map = plan.is_map, adaptive = plan.adaptive, resume = plan.resume;
  const auto& rec_states = plan.rec_states;
  const auto& rec_aux = plan.rec_aux;
  const double shift = s.time_shift;
  const std::size_t prev_n = R.size();
  const std::size_t prev_m = R.events().size();
  const std::int64_t n_rec = c.a.i;
  const std::size_t nrs = rec_states.size(), nra = rec_aux.size();
  std::vector<double> ys(nrs), as(nra);
  for (std::int64_t i = 0; i < n_rec; ++i) {
    for (std::size_t k = 0; k < nrs; ++k)
      ys[k] = c.Y[k * static_cast<std::size_t>(c.cap_rec) + static_cast<std::size_t>(i)];
    for (std::size_t k = 0; k < nra; ++k)
      as[k] = c.AUX[k * static_cast<std::size_t>(c.cap_rec) + static_cast<std::size_t>(i)];
    // save_at records (the only records then, in schedule order) carry the requested times exactly.
    const bool saved = spec.save_at_user && static_cast<std::size_t>(i) < spec.save_at_user->size();
    const double t =
        saved ? (*spec.save_at_user)[static_cast<std::size_t>(i)] : c.T[static_cast<std::size_t>(i)] - shift;
    R.append_record(t, c.STEP[static_cast<std::size_t>(i)], ys.data(), as.data());
  }
  // Every firing counts, logged or not; the log below holds the logged ones.
  auto& counts = R.event_counts_mut();
  for (std::size_t k = 0; k < counts.size() && k < c.event_fires.size(); ++k) counts[k] += c.event_fires[k];
  if (c.work && R.work_stats()) {
    auto& w = *R.work_stats_mut();
    w.rhs_evals += c.work->rhs_evals;
    w.jac_evals += c.work->jac_evals;
    w.lu_factorizations += c.work->lu_factorizations;
  }
  if (R.work_stats())
    R.work_stats_mut()->jacobian = kernels::jacobian_source(cm.stepper(), m, plan.stepper_cfg);
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
      r.step = s.step_base + static_cast<std::int64_t>(std::llround((r.t + shift - s.t_base) / s.clock_dt));
    } else {
      r.step = -1;
    }
    if constexpr (HasEvtT<kernels::RunnerArgs>) {
      r.t = c.EVT_T[ju] - shift;
    } else if (!have_t) {
      r.t = NAN;
      if (r.step >= 0) {
        if (!adaptive)
          r.t = std::min(s.t_base + static_cast<double>(r.step - s.step_base) * s.clock_dt,
                         is_map ? INFINITY : spec.t_end) -
                shift;
        else
          for (std::int64_t i = std::max<std::int64_t>(0, idx); i < n_rec; ++i)
            if (c.STEP[static_cast<std::size_t>(i)] == r.step) {
              r.t = c.T[static_cast<std::size_t>(i)] - shift;
              break;
            }
      }
    }
    R.events_mut().records().push_back(std::move(r));
  }
  if (n_rec > 0) {
    Segment sg;
    sg.id = next_segment_id++;
    std::string base = o.tag.empty() ? "run#" + std::to_string(sg.id) : o.tag;
    std::string name = base;
    for (int k = 2; std::any_of(R.segments().begin(), R.segments().end(),
                                [&](const Segment& x) { return x.name == name; });
         ++k)
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
}

}  // namespace dynlib
