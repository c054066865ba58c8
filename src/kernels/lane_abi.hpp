// The lane runner ABI (docs/internals/simd-lanes.md): kLanes fresh runs of one model with one
// fixed-step stepper (or a map) in the SIMD lanes of one core, each lane giving the bits of a scalar
// run (kernels/runner.hpp) with the same inputs. The compiled function is
// `void runner_lanes(LaneRunnerArgs*)`.
//
// Differences to RunnerArgs: a fresh run only (no re-entry, no resume); the host sizes the record
// buffers for the whole run (a run that would need more records ends every lane with GROW_REC and
// the host runs the points scalar). Every double buffer of the model is lane-interleaved: element k
// of lane j at [k*kLanes + j]. The lanes share t0, dt, the horizon, the record interval and the
// recorded states, so time, step count and record steps are common; each lane has its own status,
// step count, time, record count and NaN report (a lane that stops is frozen, the others go on).
#pragma once
#include <cstdint>
#include <dynlib/export.hpp>
#include <string>

#include "dynlib/ir.hpp"
#include "steppers_catalogue/stepper_registry.hpp"

namespace dynlib::kernels {

inline constexpr int kLanes = 4;

struct LaneRunnerArgs {
  // ---- shared by the lanes (as in RunnerArgs; fresh run: t = t_base, step = step_base) ----
  double t_end = 0.0;
  std::int64_t step_end = 0;
  std::int64_t record_interval = 1;  // 0 = no recording
  double t_base = 0.0;
  std::int64_t step_base = 0;
  double dt_nominal = 0.0;

  // ---- lane-interleaved buffers ----
  double* y_curr = nullptr;  // [n_state*kLanes] in: initial state; out: last committed state per lane
  double* y_prev = nullptr;  // [n_state*kLanes] out: previous committed state (in: the initial state)
  double* params = nullptr;  // [n_params*kLanes]
  double* ws = nullptr;      // [ws_size*kLanes] zeroed
  double* y_prop = nullptr;  // [n_state*kLanes] scratch
  const double* stepper_config = nullptr;  // packed config, shared (as RunnerArgs)
  std::int64_t n_config = 0;

  // ---- records at the shared record steps ----
  double* T = nullptr;           // [cap_rec]
  std::int64_t* STEP = nullptr;  // [cap_rec]
  double* Y = nullptr;           // [n_rec_states][cap_rec][kLanes]: Y[(k*cap_rec + i)*kLanes + j]
  std::int64_t cap_rec = 0;
  const std::int64_t* state_rec_idx = nullptr;  // [n_rec_states]
  std::int64_t n_rec_states = 0;

  const std::int32_t* user_break_flag = nullptr;  // may be null (read relaxed-atomic)

  // ---- per lane outputs (the RunnerArgs cursors of that lane's scalar run) ----
  std::int64_t status[kLanes] = {};     // dynlib::Status
  std::int64_t step[kLanes] = {};       // committed steps
  double t[kLanes] = {};                // time of the last commit
  std::int64_t n_rec[kLanes] = {};      // records written (the first n_rec slots of T/STEP/Y)
  std::int64_t nan_where[kLanes] = {};  // NanWhere on NAN_DETECTED
  std::int64_t nan_index[kLanes] = {};
  double t_fail[kLanes] = {};
};

// Can (model, stepper) run in lanes? Steppers map, euler, rk2, rk4; models without events and lags
// whose equations and stop condition have no sum()/prod() loops (a loop's bounds may differ per lane).
// Everything else runs scalar. `why` (if given) says what stands in the way.
DYNLIB_INTERNAL_API bool lanes_supported(const ir::ModelIR& model, const StepperInfo& stepper,
                                         std::string* why = nullptr);

}  // namespace dynlib::kernels
