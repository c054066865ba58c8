// The runner ABI: one plain-data struct that the host (Sim) fills and passes to
// CompiledModel::run(). The same struct is the argument of the JIT-compiled runner: the
// compiled function has the C signature `void dynlib_runner(RunnerArgs*)`.
//
// The reference's runner arguments, with our fixes (docs/internals/differences.md):
//  * All integer buffers are int64 (one integer element type for both backends), all real buffers
//    are double (the model dtype only affects how the host casts at the boundary).
//  * Cursors are IN/OUT fields: the runner reads them on entry and writes them on every exit. After
//    GROW_REC / GROW_EVT the host grows the buffers named by `need_rec` / `need_evt`, updates the
//    buffer pointers and capacities, and calls run() again with THE SAME struct. Nothing else is
//    touched. The runner only ever stops at a step boundary (before anything of the next step
//    happened: capacities for the whole step are checked up front), so a re-entry never duplicates a
//    record, never re-runs an event action and never re-runs a stepper. `resume_point`
//    says whether the run-start work (initial aux, initial guards, t0 record) is already done.
//  * Fixed-step and map time is t_base + (step - step_base) * dt with the true step count (no
//    drift, no jump after a re-entry); adaptive time accumulates (t = t_prop).
//  * EVT_CODE holds the GLOBAL declaration index of the event in ModelIR::events, whatever its phase.
//  * All events whose condition holds in a phase fire, in declaration order; each firing counts in
//    event_counts, and an event with a log writes a log row.
//
// Host protocol (what Sim does):
//  fresh run   zero ws/iws/event_counts; seed_lags(); y_curr = y_prev = ic; t = t_base = t0;
//              step = step_base = 0; i = m = 0; resume_point = kResumeStart; dt = dt_nominal (fixed/map) or
//              CompiledModel::initial_step() (adaptive); stepper_config = default_config() + overrides.
//  re-entry    on GROW_REC grow T/Y/AUX/STEP to >= need_rec (copy the i filled columns, update cap_rec);
//              on GROW_EVT grow EVT_* to >= need_evt (copy the m filled rows); call run() again.
//  resume      (continue a session) keep y_curr, params, ws/iws, event_counts, lag ring/head and the
//              true session step count; keep t_base/step_base while t is on that clock (rebase both to
//              t/step after a final partial step); i = m = 0 with fresh buffers, resume_point = kResumeLoop,
//              so nothing of the run start is repeated (no second record of the current point).
//  The fast path is this same runner (events honoured, capacities checked) called with
//  plan-sized buffers; there is no separate unchecked variant.
//  dt_nominal is required for fixed-step steppers and maps; adaptive steppers use and update `dt`.
#pragma once
#include <cstdint>

#include "dynlib/status.hpp"

namespace dynlib::kernels {

// Where a NaN/Inf guard fired (RunnerArgs::nan_where); nan_index is the state/param index.
enum class NanWhere : std::int32_t {
  none = 0,
  proposed_state = 1,  // y_prop after a successful stepper call (step/t not advanced)
  proposed_time = 2,   // t_prop
  next_dt = 3,         // dt_next
  initial_state = 4,   // y_curr at run start (resume_point == 0)
  param = 5,           // a parameter at run start
  event_state = 6,     // a state written by an event action (nan_event = global event index)
  event_param = 7,     // a param written by an event action
  recorded_aux = 8,    // an aux value about to be recorded (nan_index = aux index; t_fail = its time)
};

// Run-start vs in-loop (RunnerArgs::resume_point).
enum ResumePoint : std::int32_t {
  kResumeStart = 0,  // nothing done yet: initial guards, update_aux, t0 record, then the loop
  kResumeLoop = 1,   // at the top of step `step`: nothing of that step has happened yet
};

struct RunnerArgs {
  // ---- problem (inputs, constant across re-entries) ------------------------------------------------
  double t_end = 0.0;         // ODE horizon (ignored by maps)
  std::int64_t step_end = 0;  // the loop runs while step < step_end: ODE = max_steps, map = N (absolute)
  std::int64_t record_interval = 1;  // 0 = no recording; record when step % record_interval == 0
  std::int64_t n_state = 0;

  // Fixed-step / map clock: time of step s is t_base + (s - step_base) * dt_nominal (a final partial
  // ODE step lands exactly on t_end). Fresh run: t_base = t0, step_base = 0. Adaptive steppers ignore these.
  double t_base = 0.0;
  std::int64_t step_base = 0;
  double dt_nominal = 0.0;

  // ---- model data (persistent; host owns) ------------------------------------------------------------
  double* y_curr = nullptr;          // [n_state] committed state; on exit the last committed state
  double* y_prev = nullptr;          // [n_state] previous committed state
  double* params = nullptr;          // [n_params] (event actions may change them)
  double* lag_ring = nullptr;        // [ModelIR::lag_ring_size] (seed with CompiledModel::seed_lags)
  std::int64_t* lag_head = nullptr;  // [ModelIR::lags.size()]
  double* aux_values = nullptr;      // [n_aux] last update_aux values
  // [ModelIR::events.size()] how often each event fired (in place: += 1 per firing, logged or not);
  // required when the model has events. Zero it on a fresh run; it is session state like y_curr.
  std::int64_t* event_counts = nullptr;

  // ---- stepper (persistent workspace: ab2/ab3/bdf history survives re-entry and resume) -----------
  double* ws = nullptr;                    // [StepperInfo::ws_size(n)]  zero it on a fresh run
  std::int64_t* iws = nullptr;             // [StepperInfo::iws_size(n)] zero it on a fresh run
  const double* stepper_config = nullptr;  // packed config (StepperInfo::config order)
  std::int64_t n_config = 0;               // fewer entries than the stepper expects -> its built-in defaults
  double* y_prop = nullptr;                // [n_state] scratch: the proposal
  double* scratch = nullptr;               // [CompiledModel::scratch_size()] runner/event scratch

  // ---- records (state-major) -------------------------------------------------------------------------
  double* T = nullptr;           // [cap_rec]
  double* Y = nullptr;           // [n_rec_states][cap_rec]: Y[k*cap_rec + i]
  double* AUX = nullptr;         // [n_rec_aux][cap_rec]
  std::int64_t* STEP = nullptr;  // [cap_rec]
  std::int64_t cap_rec = 0;
  const std::int64_t* state_rec_idx = nullptr;  // [n_rec_states] which states to record
  std::int64_t n_rec_states = 0;
  const std::int64_t* aux_rec_idx = nullptr;  // [n_rec_aux] which aux to record
  std::int64_t n_rec_aux = 0;

  // ---- event log ---------------------------------------------------------------------------------------
  std::int64_t* EVT_CODE = nullptr;   // [cap_evt] global event declaration index
  std::int64_t* EVT_INDEX = nullptr;  // [cap_evt] index of the last record written before the event, or -1
  double* EVT_LOG_DATA = nullptr;     // [cap_evt][log_width] row-major, log_width = Layout::log_width
  double* EVT_T = nullptr;            // [cap_evt] time of the event's context (pre: t_n, post: t_{n+1})
  std::int64_t* EVT_STEP = nullptr;   // [cap_evt] step of the state it saw (pre: n, post: n+1)
  std::int64_t cap_evt = 0;

  // ---- cursors (IN/OUT; written on every exit, read on every entry) -------------------------------
  double t = 0.0;         // current time (fresh run: t0)
  double dt = 0.0;        // current step (fresh run: dt_init; adaptive: proposal for the next step)
  std::int64_t i = 0;     // records written so far (next record slot)
  std::int64_t step = 0;  // committed steps (absolute within the run)
  std::int64_t m = 0;     // event rows written so far (next event slot)
  std::int32_t resume_point = kResumeStart;

  // ---- control / outputs --------------------------------------------------------------------------
  // May be null; another thread sets *flag != 0 (read relaxed-atomic). Must be writable memory: the
  // JIT's tiered compilation sets bit 30 in it for a moment to move a run to optimised code.
  const std::int32_t* user_break_flag = nullptr;
  std::int32_t status = 0;      // out: dynlib::Status value
  std::int64_t need_rec = 0;    // out on GROW_REC: minimal cap_rec needed to continue
  std::int64_t need_evt = 0;    // out on GROW_EVT: minimal cap_evt needed to continue
  double err_est = 0.0;         // out: last stepper error estimate
  std::int32_t nan_where = 0;   // out on NAN_DETECTED: a NanWhere
  std::int64_t nan_index = -1;  //   state / param index
  std::int64_t nan_event = -1;  //   event index for event_state / event_param; on EARLY_EXIT the
                                //   terminal root event that ended the run (-1: [sim].stop)
  double t_fail = 0.0;          // out on NAN_DETECTED / STEPFAIL: start time of the failing step
                                //   (event_state/event_param: the time of the event that wrote the value)

  // ---- dense output, output at chosen times, tstops (kernels/dense_output.hpp, kernels/save_at.hpp) -----
  // ODE runners only (maps ignore these). None of it is session state: dense_ws is recomputed after every
  // step that needs it, save_at/tstops are the host's schedule with the cursor save_at_next.
  double* dense_ws = nullptr;       // [dense_ws_size(stepper, n_state)] zero it before a runner call sequence
  const double* save_at = nullptr;  // [n_save_at] sorted times recorded from the interpolant (record_interval
                                    //   must be 0 then: the host replaces step records by these)
  std::int64_t n_save_at = 0;       // 0: no output at chosen times (nothing of it runs)
  std::int64_t save_at_next = 0;    // IN/OUT: index of the first save_at time not recorded yet
  const double* tstops = nullptr;   // [n_tstops] sorted times adaptive steppers land on exactly
  std::int64_t n_tstops = 0;        // 0: none (fixed-step steppers: the host refuses them)

  // ---- analysis (observers; only the ANALYSIS runner variant reads these, see kernels/observer.hpp) --
  // Sizes come from AnalysisLayout. Fresh run: zero analysis_ws and analysis_out, trace_count = 0.
  double* analysis_ws = nullptr;     // [AnalysisLayout::ws_size] persistent observer workspace
  double* analysis_out = nullptr;    // [AnalysisLayout::out_size] observer outputs
  double* analysis_trace = nullptr;  // [trace_cap][AnalysisLayout::trace_width] row-major
  std::int64_t trace_cap = 0;        // rows
  std::int64_t trace_stride = 0;     // a traced step: step % trace_stride == 0 (0 = no trace)
  std::int64_t trace_count = 0;      // IN/OUT rows written; trace_cap + 1 after TRACE_OVERFLOW
};

// The runner's status as the enum.
inline Status runner_status(const RunnerArgs& a) { return static_cast<Status>(a.status); }

}  // namespace dynlib::kernels
