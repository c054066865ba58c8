// One chunk of a run: the compiled runner with record/event buffer growth, and the failure message.
#include <algorithm>
#include <cmath>
#include <dynlib/errors.hpp>
#include <string>

#include "core/sim_run_parts.hpp"
#include "kernels/dense_output.hpp"
#include "kernels/stepper_common.hpp"

namespace dynlib::run_detail {
namespace {

template <class T>
void grow_rows(std::vector<T>& v, std::int64_t rows, std::int64_t old_cap, std::int64_t new_cap,
               std::int64_t filled) {
  std::vector<T> n(static_cast<std::size_t>(rows * new_cap));
  for (std::int64_t r = 0; r < rows; ++r)
    std::copy_n(v.begin() + r * old_cap, filled, n.begin() + r * new_cap);
  v.swap(n);
}

std::int64_t doubled(std::int64_t cap, std::int64_t need) {
  while (cap < need) cap *= 2;
  return cap;
}

}  // namespace

Chunk execute(const kernels::CompiledModel& cm, Session& st, const ChunkSpec& spec, const std::int32_t* brk,
              const kernels::AnalysisRunner* ar, core::AnalysisBuffers* ab) {
  const auto& L = cm.layout();
  const bool adaptive = cm.stepper().adaptive;
  const std::int64_t nrs = static_cast<std::int64_t>(spec.rec_states->size());
  const std::int64_t nra = static_cast<std::int64_t>(spec.rec_aux->size());
  Chunk c;
  // The records of one chunk never exceed max_record_bytes: the capacity is capped, and a run that needs
  // more stops at the step boundary with RECORD_LIMIT (a resume can continue it).
  const std::int64_t max_cap_rec = spec.max_record_bytes / record_row_bytes(spec);
  c.cap_rec = std::min(std::max<std::int64_t>(1, spec.cap_rec), max_cap_rec);
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
  std::vector<double> y_prop(st.y.size()),
      scratch(static_cast<std::size_t>(std::max<std::int64_t>(1, L.scratch_size)));
  // Dense output workspace (kernels/dense_output.hpp): recomputed by the runner, zero on every chunk.
  std::vector<double> dense_ws(static_cast<std::size_t>(std::max<std::int64_t>(
      1, kernels::dense_ws_size(cm.stepper(), static_cast<std::int64_t>(st.y.size())))));
  if (st.aux.size() < static_cast<std::size_t>(L.n_aux)) st.aux.resize(static_cast<std::size_t>(L.n_aux));
  if (st.event_counts.size() != static_cast<std::size_t>(L.n_events))
    st.event_counts.resize(static_cast<std::size_t>(L.n_events));
  const std::vector<std::int64_t> counts_before = st.event_counts;
  // The stepper's work counters (kernels/stepper_common.hpp), if it keeps them.
  const int work_at = cm.stepper().work_counters_at;
  const bool counts_work =
      work_at >= 0 && st.iws.size() >= static_cast<std::size_t>(work_at) + kernels::kWorkCounterCount;
  const auto work_counter = [&](kernels::WorkCounter w) {
    return st.iws[static_cast<std::size_t>(work_at + static_cast<int>(w))];
  };
  WorkStats work_before;
  if (counts_work)
    work_before = {work_counter(kernels::WorkCounter::rhs), work_counter(kernels::WorkCounter::jac),
                   work_counter(kernels::WorkCounter::lu)};

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
  a.event_counts = st.event_counts.data();
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
  a.dense_ws = dense_ws.data();
  if (spec.save_at && !spec.save_at->empty()) {
    a.save_at = spec.save_at->data();
    a.n_save_at = static_cast<std::int64_t>(spec.save_at->size());
  }
  a.save_at_next = 0;
  if (spec.tstops && !spec.tstops->empty()) {
    a.tstops = spec.tstops->data();
    a.n_tstops = static_cast<std::int64_t>(spec.tstops->size());
  }

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
    if (ar)
      ar->run(a);
    else
      cm.run(a);
    const Status s = kernels::runner_status(a);
    if (s == Status::GROW_REC) {
      const std::int64_t need = std::max(a.need_rec, a.i + 1);
      if (need > max_cap_rec) {
        a.status = static_cast<std::int32_t>(Status::RECORD_LIMIT);
        break;
      }
      const std::int64_t nc = std::min(doubled(std::max<std::int64_t>(1, c.cap_rec * 2), need), max_cap_rec);
      c.T.resize(static_cast<std::size_t>(nc));
      c.STEP.resize(static_cast<std::size_t>(nc));
      grow_rows(c.Y, nrs, c.cap_rec, nc, a.i);
      grow_rows(c.AUX, nra, c.cap_rec, nc, a.i);
      c.cap_rec = nc;
      continue;
    }
    if (s == Status::GROW_EVT) {
      const std::int64_t need = std::max(a.need_evt, a.m + 1);
      if (need > std::max(spec.max_events, L.min_cap_evt)) {
        a.status = static_cast<std::int32_t>(Status::RECORD_LIMIT);
        c.event_limit = true;
        break;
      }
      const std::int64_t nc =
          std::min(doubled(c.cap_evt * 2, need), std::max(spec.max_events, L.min_cap_evt));
      c.EVT_CODE.resize(static_cast<std::size_t>(nc));
      c.EVT_INDEX.resize(static_cast<std::size_t>(nc));
      c.EVT_STEP.resize(static_cast<std::size_t>(nc));
      c.EVT_T.resize(static_cast<std::size_t>(nc));
      c.EVT_LOG.resize(static_cast<std::size_t>(nc * L.log_width));
      c.cap_evt = nc;
      continue;
    }
    if (s == Status::DONE || s == Status::EARLY_EXIT || s == Status::USER_BREAK ||
        s == Status::NAN_DETECTED || s == Status::STEPFAIL || s == Status::TRACE_OVERFLOW)
      break;
    throw DynlibError("Runner returned unexpected status " + std::to_string(a.status));
  }
  // Session bookkeeping from the cursors.
  st.t = a.t;
  st.step = a.step;
  st.dt = adaptive ? a.dt : st.nominal_dt;
  st.status = kernels::runner_status(a);
  st.has_workspace = true;
  c.event_fires.resize(counts_before.size());
  for (std::size_t k = 0; k < counts_before.size(); ++k)
    c.event_fires[k] = st.event_counts[k] - counts_before[k];
  if (counts_work)
    c.work = WorkStats{work_counter(kernels::WorkCounter::rhs) - work_before.rhs_evals,
                       work_counter(kernels::WorkCounter::jac) - work_before.jac_evals,
                       work_counter(kernels::WorkCounter::lu) - work_before.lu_factorizations};
  return c;
}

std::string record_limit_message(const Chunk& c, const ChunkSpec& spec, double time_shift) {
  const std::string where = "at t=" + fmt_g(c.a.t - time_shift) + ", step=" + std::to_string(c.a.step);
  if (c.event_limit)
    return "The run stopped " + where + ": the event log reached max_events (" +
           std::to_string(spec.max_events) +
           " events). Raise max_events, or log fewer events (an event with an empty log is not logged)";
  return "The run stopped " + where + ": its records would exceed max_record_bytes (" +
         std::to_string(spec.max_record_bytes) + " bytes, " + std::to_string(record_row_bytes(spec)) +
         " bytes per record). Raise max_record_bytes, or record less (record_interval, record_vars)";
}

std::string failure_message(const ir::ModelIR& m, const kernels::StepperInfo& info, const Chunk& c,
                            const char* phase) {
  const auto& a = c.a;
  const Status s = kernels::runner_status(a);
  std::string msg = std::string("Simulation failed") + phase + " with status " + status_name(s) + " (" +
                    std::to_string(a.status) +
                    ") at t=" + fmt_g(s == Status::NAN_DETECTED || s == Status::STEPFAIL ? a.t_fail : a.t) +
                    ", step=" + std::to_string(a.step);
  if (s == Status::NAN_DETECTED) {
    using kernels::NanWhere;
    const auto w = static_cast<NanWhere>(a.nan_where);
    const auto idx = static_cast<std::size_t>(std::max<std::int64_t>(0, a.nan_index));
    auto sname = [&] {
      return idx < m.states.size() ? "state '" + m.states[idx] + "'" : std::string("a state");
    };
    auto pname = [&] {
      return idx < m.params.size() ? "param '" + m.params[idx] + "'" : std::string("a param");
    };
    auto ename = [&] {
      return a.nan_event >= 0 && static_cast<std::size_t>(a.nan_event) < m.events.size()
                 ? " by event '" + m.events[static_cast<std::size_t>(a.nan_event)].name + "'"
                 : std::string();
    };
    switch (w) {
      case NanWhere::proposed_state:
        msg += ": " + sname() + " became NaN/Inf in the proposed step";
        break;
      case NanWhere::proposed_time:
        msg += ": the proposed time is not finite";
        break;
      case NanWhere::next_dt:
        msg += ": the next step size is not finite";
        break;
      case NanWhere::initial_state:
        msg += ": initial " + sname() + " is not finite";
        break;
      case NanWhere::param:
        msg += ": " + pname() + " is not finite";
        break;
      case NanWhere::event_state:
        msg += ": " + sname() + " was set to NaN/Inf" + ename();
        break;
      case NanWhere::event_param:
        msg += ": " + pname() + " was set to NaN/Inf" + ename();
        break;
      case NanWhere::recorded_aux:
        msg += ": " + (idx < m.aux.size() ? "aux '" + m.aux[idx] + "'" : std::string("an aux")) +
               " became NaN/Inf (recorded at t=" + fmt_g(a.t_fail) + ")";
        break;
      default:
        break;
    }
  } else if (s == Status::STEPFAIL) {
    msg += ": the stepper could not take a step (err_est=" + fmt_g(a.err_est) + ")";
    if (info.adaptive) {
      // Adaptive steppers fail when the error stays above the tolerance down to min_step (or max_tries).
      auto setting = [&](const char* name) {
        for (std::size_t k = 0; k < info.config.size(); ++k)
          if (info.config[k].name == name)
            return a.stepper_config && static_cast<std::int64_t>(k) < a.n_config
                       ? a.stepper_config[k]
                       : info.config[k].default_value;
        return static_cast<double>(NAN);
      };
      msg += "; the error estimate stayed above the tolerance (atol=" + fmt_g(setting("atol")) +
             ", rtol=" + fmt_g(setting("rtol")) +
             ") down to the smallest allowed step min_step=" + fmt_g(setting("min_step")) +
             " or within max_tries=" + fmt_g(setting("max_tries")) +
             " tries. Loosen atol/rtol, lower min_step, or use a stiff stepper";
    }
  }
  msg += ". Last committed state:";
  for (std::size_t k = 0; k < m.states.size(); ++k)
    msg += " " + m.states[k] + "=" + fmt_g(a.y_curr ? a.y_curr[k] : NAN);
  return msg + ". The session was left unchanged.";
}

}  // namespace dynlib::run_detail
