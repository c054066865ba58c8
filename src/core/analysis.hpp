// Internal glue between the public observers (dynlib/observers.hpp) and the ANALYSIS runner
// (kernels/observer.hpp): used by Sim::run and the batch runner.
#pragma once
#include <dynlib/full_model.hpp>
#include <dynlib/observers.hpp>
#include <memory>
#include <vector>

#include "kernels/compiled_model.hpp"

namespace dynlib::core {

// Resolves k (0 -> default) and checks equal trace strides. ArgumentError on misuse.
kernels::AnalysisSpec analysis_spec(const std::vector<Observer>& observers, const ir::ModelIR& model);

// The analysis runner of `fm` for `observers`: the backend's own, else (a backend without the
// ANALYSIS variant, currently the JIT) the interpreter's, which is bit-identical by construction.
struct AnalysisHandle {
  std::shared_ptr<kernels::CompiledModel> keep;  // an interpreter built for the fallback (or null)
  std::shared_ptr<const kernels::AnalysisRunner> runner;
  const kernels::AnalysisLayout& layout() const { return runner->layout(); }
};
AnalysisHandle make_analysis(const FullModel& fm, const std::vector<Observer>& observers);

// Per-run analysis buffers (zeroed) with a trace sized for `total_steps` steps.
struct AnalysisBuffers {
  std::vector<double> ws, out, trace;
  std::int64_t trace_cap = 0;
  void init(const kernels::AnalysisLayout& L, std::int64_t total_steps);
  void bind(kernels::RunnerArgs& a, const kernels::AnalysisLayout& L);
};

// Outputs per observer; trace times shifted by -time_shift.
std::vector<ObserverOutput> collect_outputs(const kernels::AnalysisLayout& L, const std::vector<double>& out,
                                            const std::vector<double>& trace, std::int64_t trace_count,
                                            double time_shift);

// Fixed-step committed steps from t_base to t_end with dt (the runner's plan, runner.hpp).
std::int64_t fixed_step_count(double t_base, double t_end, double dt);

}  // namespace dynlib::core
