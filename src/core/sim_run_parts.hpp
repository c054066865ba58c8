// Internal pieces of Sim::run (one job each): resolve the arguments into a RunPlan
// (Sim::Impl::plan_run, sim_run_plan.cpp), run the compiled runner over one chunk with buffer growth
// (sim_run_chunk.cpp), stitch a finished chunk into the session's Results (Sim::Impl::stitch_chunk,
// sim_run_stitch.cpp). Sim::run (sim_run.cpp) seeds the session and ties them together.
#pragma once
#include <cstdint>
#include <dynlib/options.hpp>
#include <dynlib/sim.hpp>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis.hpp"
#include "core/sim_impl.hpp"
#include "kernels/backend.hpp"

namespace dynlib::run_detail {

// Optional ABI extensions: if the runner ABI grows per-event step/time columns, use them.
template <class A>
concept HasEvtStep = requires(A a, std::int64_t* p) {
  a.EVT_STEP = p;
};
template <class A>
concept HasEvtT = requires(A a, double* p) {
  a.EVT_T = p;
};

template <class A>
void bind_evt_extra(A& a, std::int64_t* steps, double* times) {
  if constexpr (HasEvtStep<A>) a.EVT_STEP = steps;
  if constexpr (HasEvtT<A>) a.EVT_T = times;
  (void)a, (void)steps, (void)times;
}

inline std::string fmt_g(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

struct Chunk {
  std::vector<double> T, Y, AUX, EVT_LOG;
  std::vector<std::int64_t> STEP, EVT_CODE, EVT_INDEX, EVT_STEP;
  std::vector<double> EVT_T;
  std::vector<std::int64_t> event_fires;  // firings per event in this chunk (logged or not)
  std::optional<WorkStats> work;          // the stepper's work in this chunk, if it counts it
  std::int64_t cap_rec = 0, cap_evt = 0;
  bool event_limit = false;  // RECORD_LIMIT came from the event log (else from the records)
  kernels::RunnerArgs a;
};

struct ChunkSpec {
  bool start = true;  // kResumeStart (fresh runner start) vs kResumeLoop (continue)
  double t_end = 0.0;
  std::int64_t step_end = 0;
  std::int64_t record_interval = 0;
  double dt = 0.0;
  std::int64_t cap_rec = 1, cap_evt = 1;
  std::int64_t max_record_bytes = std::numeric_limits<std::int64_t>::max();  // stop with RECORD_LIMIT beyond
  std::int64_t max_events = std::numeric_limits<std::int64_t>::max();
  const std::vector<std::int64_t>* rec_states = nullptr;
  const std::vector<std::int64_t>* rec_aux = nullptr;
  // Output at chosen times and tstops on the session clock (null: none); the runner records save_at
  // from index 0 (Chunk::a.save_at_next says how far it got).
  const std::vector<double>* save_at = nullptr;
  const std::vector<double>* save_at_user = nullptr;  // the same times in run time: the records' t
  const std::vector<double>* tstops = nullptr;
};

// Everything Sim::run resolved from RunOptions, Sim::config and the model's [sim] before running.
struct RunPlan {
  bool is_map = false;
  bool adaptive = false;
  bool resume = false;
  double transient = 0.0;
  bool record = true;
  std::int64_t record_interval = 1;
  std::int64_t max_steps = 0;
  std::int64_t max_record_bytes = 0, max_events = 0;
  std::int64_t cap_rec = 1, cap_evt = 1;
  double dt = 0.0;
  double t0 = 0.0;
  std::int64_t target_N = 0;  // maps
  double target_T = 0.0;      // flows
  std::optional<core::AnalysisHandle> analysis;
  std::vector<double> stepper_cfg;
  std::vector<std::int64_t> rec_states, rec_aux;
  // Validated RunOptions::save_at / tstops in run time (not yet shifted by a transient); nullopt: none
  // given (a resume continues the session's).
  std::optional<std::vector<double>> save_at, tstops;
};

// save_at / tstops rules (ArgumentError naming the entry): finite, non-decreasing and, with
// `in_horizon`, within [lo, hi] (`resume` explains a lower end that is the current time).
void check_run_times(const std::vector<double>& v, const char* what, double lo, double hi, bool resume,
                     bool in_horizon = true);

// Runs the compiled runner on `st` (mutated in place: pass a copy) until it returns a final status.
Chunk execute(const kernels::CompiledModel& cm, Session& st, const ChunkSpec& spec, const std::int32_t* brk,
              const kernels::AnalysisRunner* ar = nullptr, core::AnalysisBuffers* ab = nullptr);

// Bytes of one record: t, step and every recorded state and aux value.
inline std::int64_t record_row_bytes(const ChunkSpec& spec) {
  return 8 * (2 + static_cast<std::int64_t>(spec.rec_states->size() + spec.rec_aux->size()));
}

// The warning text of a run stopped by RECORD_LIMIT (which limit, where, how to raise it).
std::string record_limit_message(const Chunk& c, const ChunkSpec& spec, double time_shift);

// The SimulationError text of a failed chunk (status, time, step, culprit, last state).
std::string failure_message(const ir::ModelIR& m, const kernels::StepperInfo& info, const Chunk& c,
                            const char* phase);

}  // namespace dynlib::run_detail
