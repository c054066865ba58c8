// Observers and the analysis runner variant (docs/analysis.md, docs/internals/kernels.md), written once
// for every backend: the interpreter instantiates the hooks with DirectBackend,
// the JIT with its LLVM backend.
//
// Data (code-generation time, plain C++):
//   AnalysisSpec    which observers and their settings; signature() is the canonical text that goes
//                   into every runner cache key (a runner is never reused for other observers).
//   AnalysisLayout  where each observer lives in the three host-owned analysis buffers
//                   (RunnerArgs::analysis_ws / analysis_out / analysis_trace), its output and trace
//                   column names, and the tangent scheme matching the stepper.
// Kernels (templates over B):
//   AnalysisHooks::pre   after the pre-phase events of a step, before the step size is chosen
//                        (t_n, unclipped dt, step n).
//   AnalysisHooks::post  after commit, update_aux and the lag advance (y_prev = y_n, y_curr = y_{n+1},
//                        t_{n+1}, the dt actually taken, step n+1), before t is updated and recorded.
// The trace: one shared row per traced step (step % trace_stride == 0) for all observers of the run:
//   row = [t, step, <observer 0 columns>, <observer 1 columns>, ...] of width AnalysisLayout::trace_width.
// The runner owns the row cursor (RunnerArgs::trace_count): observers write their columns at the
// current row, then the runner writes t/step and advances. A traced step finding the buffer full sets
// trace_count = trace_cap + 1 and the runner ends the (completed, recorded) step with TRACE_OVERFLOW
// (a final status, like DONE). Hosts size the trace exactly from the horizon (1 + steps/stride), so a Sim run
// never overflows; a caller who passes a smaller trace_cap gets TRACE_OVERFLOW and the rows so far.
#pragma once
#include <cstdint>
#include <dynlib/export.hpp>
#include <string>
#include <vector>

#include "dynlib/ir.hpp"
#include "kernels/runner_view.hpp"
#include "steppers_catalogue/stepper_registry.hpp"

namespace dynlib::kernels {

enum class ObserverKind : std::uint8_t { lyapunov_mle, lyapunov_spectrum };

// The tangent (variational) scheme: the stepper's own scheme applied to dV/dt = J(t, y) V
// (flows) or V' = J(t, y_n) V (maps).
enum class TangentScheme : std::uint8_t { map, euler, rk2, rk4, ab2, ab3 };

struct ObserverConfig {
  ObserverKind kind = ObserverKind::lyapunov_mle;
  int k = 1;                      // tangent vectors (mle: 1; spectrum: 1..n)
  std::int64_t renorm_every = 1;  // re-orthonormalise every this many steps (>= 1)
};

struct DYNLIB_INTERNAL_API AnalysisSpec {
  std::vector<ObserverConfig> observers;  // in order; keys must be unique
  std::int64_t trace_stride = 1;          // 0 = no trace
  // Canonical text: "lyapunov_mle(k=1,renorm_every=1);lyapunov_spectrum(k=3,renorm_every=1)|trace_stride=1".
  std::string signature() const;
};

struct ObserverSlot {
  ObserverConfig cfg;
  std::string key;                         // "lyapunov_mle" / "lyapunov_spectrum"
  std::int64_t ws_off = 0, ws_size = 0;    // in analysis_ws
  std::int64_t out_off = 0, out_size = 0;  // in analysis_out
  std::int64_t tr_off = 0, tr_width = 0;   // columns in a trace row (tr_off counts the t/step columns)
  std::vector<std::string> output_names, trace_names;
};

struct AnalysisLayout {
  AnalysisSpec spec;
  int n = 0;  // states
  bool is_map = false;
  TangentScheme scheme = TangentScheme::map;
  std::vector<ObserverSlot> slots;
  std::int64_t ws_size = 0, out_size = 0;
  std::int64_t trace_width = 0;  // 0 if no trace, else 2 + sum of observer widths
  std::string signature() const { return spec.signature(); }
};

// Checks the spec against the model and stepper and lays it out. Throws dynlib::ArgumentError for an
// adaptive or otherwise unsupported stepper, k outside 1..n, renorm_every < 1, duplicate keys,
// trace_stride < 0, an empty observer list.
DYNLIB_INTERNAL_API AnalysisLayout analysis_layout(const AnalysisSpec& spec, const ir::ModelIR& model,
                                                   const StepperInfo& stepper);

// Trace rows needed for `total_steps` committed steps (steps s with s % stride == 0, s = 1..total).
inline std::int64_t trace_capacity(std::int64_t total_steps, std::int64_t stride) {
  return stride > 0 && total_steps > 0 ? total_steps / stride : 0;
}

// What a hook sees (beyond the RunnerView).
template <class B>
struct HookArgs {
  typename B::Val t_prev{};         // post: t_n (pre: = t)
  typename B::Val t{};              // pre: t_n; post: t_{n+1}
  typename B::Val dt{};             // pre: unclipped dt; post: the dt actually taken
  typename B::Int step{};           // pre: n; post: n+1
  typename B::Bool trace_row_ok{};  // post: this step writes trace row `trace_row`
  typename B::Int trace_row{};
};

// The runner's default: no hooks (BASE variant).
struct NoHooks {
  static constexpr bool enabled = false;
  template <class B>
  void pre(B&, const RunnerView<B>&, const HookArgs<B>&) const {}
  template <class B>
  void post(B&, const RunnerView<B>&, const HookArgs<B>&) const {}
};

}  // namespace dynlib::kernels
