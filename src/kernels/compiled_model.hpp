// The interface every backend provides for one (model, stepper) pair: the interpreter
// (src/interp, make_interpreted) and the JIT (src/jit). Both are instantiations of the same kernel
// templates (src/kernels/*.hpp), so results are bit-identical (docs/internals/kernels.md).
// All methods are const and thread-safe: a CompiledModel holds no mutable state; every run's state
// lives in the caller-owned RunnerArgs buffers.
#pragma once
#include <cstdint>
#include <dynlib/export.hpp>
#include <memory>
#include <string_view>
#include <vector>

#include "dynlib/ir.hpp"
#include "kernels/lane_abi.hpp"
#include "kernels/observer.hpp"
#include "kernels/runner_abi.hpp"
#include "steppers_catalogue/stepper_registry.hpp"

namespace dynlib::kernels {

// Buffer sizes a host must allocate for RunnerArgs (derived from the model and the stepper).
struct Layout {
  std::int64_t n_state = 0, n_params = 0, n_aux = 0;
  std::int64_t lag_ring_size = 0, n_lags = 0;
  std::int64_t n_events = 0;               // RunnerArgs::event_counts (one per declared event)
  std::int64_t ws_size = 0, iws_size = 0;  // stepper workspace
  std::int64_t scratch_size = 0;           // RunnerArgs::scratch
  std::int64_t log_width = 1;              // EVT_LOG_DATA row length (max log length, >= 1)
  std::int64_t max_events_per_step = 0;    // logged rows one step can produce (start + end phase)
  std::int64_t min_cap_evt = 1;            // cap_evt must be >= this (max(1, max_events_per_step))
};

// The ANALYSIS runner variant (kernels/observer.hpp) for one AnalysisSpec: the same runner with the
// observers' PRE/POST hooks compiled in. const and thread-safe like CompiledModel::run; it must not
// outlive the CompiledModel that made it.
class DYNLIB_INTERNAL_API AnalysisRunner {
 public:
  virtual ~AnalysisRunner() = default;
  virtual const AnalysisLayout& layout() const = 0;
  // RunnerArgs as for CompiledModel::run plus analysis_ws/out/trace, trace_cap/stride/count.
  virtual void run(RunnerArgs& args) const = 0;
  virtual bool is_jitted() const = 0;
};

// The lane runner (kernels/runner_lanes.hpp, lane_abi.hpp): kLanes fresh runs in the SIMD lanes of one
// core, each with the bits of CompiledModel::run. const and thread-safe; it must not outlive the
// CompiledModel that made it.
class DYNLIB_INTERNAL_API LaneRunner {
 public:
  virtual ~LaneRunner() = default;
  virtual void run(LaneRunnerArgs& args) const = 0;
};

class DYNLIB_INTERNAL_API CompiledModel {
 public:
  virtual ~CompiledModel() = default;

  virtual const ir::ModelIR& model() const = 0;
  virtual const StepperInfo& stepper() const = 0;
  virtual const Layout& layout() const = 0;

  // The runner loop (runner.hpp). See runner_abi.hpp and docs/internals/runner.md for the re-entry protocol.
  virtual void run(RunnerArgs& args) const = 0;

  // Model functions (host-side use: initial step, analysis, Results aux, tests).
  // lag_ring/lag_head may be null if the model has no lags. lag_shift as in ir::LagSlot.
  virtual void rhs(double t, const double* y, double* dy, const double* params,
                   const double* lag_ring = nullptr, const std::int64_t* lag_head = nullptr) const = 0;
  // Map inverse [equations.inverse]; returns false if the model has none.
  virtual bool inverse(double t, const double* y, double* out, const double* params,
                       const double* lag_ring = nullptr, const std::int64_t* lag_head = nullptr) const = 0;
  // The exact Jacobian, row-major J[i*n+j]: the model's [equations.jacobian], else the symbolic one
  // (ModelIR::exact_jacobian()); returns false if there is neither.
  virtual bool jacobian(double t, const double* y, double* J, const double* params,
                        const double* lag_ring = nullptr, const std::int64_t* lag_head = nullptr) const = 0;
  // Aux values as recorded (end-phase context, lag_shift = 1).
  virtual void update_aux(double t, const double* y, const double* params, double* aux_out,
                          const double* lag_ring = nullptr, const std::int64_t* lag_head = nullptr) const = 0;

  // The ANALYSIS runner for `spec` (throws ArgumentError if the spec does not fit the model/stepper).
  // Returns null if this backend cannot build one (the host then uses the interpreter's, which gives
  // bit-identical results). The signature spec.signature() is part of the runner's cache key.
  virtual std::shared_ptr<const AnalysisRunner> analysis_runner(const AnalysisSpec& spec) const {
    (void)spec;
    return nullptr;
  }

  // The lane runner, if this backend has one for the model and stepper (lanes_supported): the JIT
  // compiles it on first request; null otherwise (the interpreter always: it is the scalar reference).
  virtual std::shared_ptr<const LaneRunner> lane_runner() const { return nullptr; }

  // "rhs", "events_pre", "events_post", "update_aux", "jacobian", "inverse", "stepper", "runner", "guards".
  virtual bool is_jitted(std::string_view component) const = 0;

  // ---- host helpers (non-virtual; same for every backend) ----
  // Fill every lag ring with y0 and head = depth-1 (until enough steps exist, lags read y0).
  void seed_lags(const double* y0, double* lag_ring, std::int64_t* lag_head) const;
  // Effective default stepper config (sim overrides applied).
  std::vector<double> default_config() const { return stepper().default_config(model().sim); }
  // Initial step for adaptive steppers (weighted-RMS heuristic), using rhs(). max_dt: the run's dt (or inf);
  // a finite dt_max in `config` overrides it.
  double initial_step(double t0, double t_end, const double* y0, const double* params, const double* config,
                      std::int64_t n_config, double max_dt, const double* lag_ring = nullptr,
                      const std::int64_t* lag_head = nullptr) const;
};

// Layout for a model/stepper pair (shared by the backends).
DYNLIB_INTERNAL_API Layout compute_layout(const ir::ModelIR& m, const StepperInfo& s);

}  // namespace dynlib::kernels
