#include "core/analysis.hpp"

#include <algorithm>
#include <cmath>
#include <dynlib/errors.hpp>

#include "interp/interp.hpp"
#include "kernels/runner.hpp"

namespace dynlib {

std::string Observer::key() const {
  return kind_ == Kind::lyapunov_mle ? "lyapunov_mle" : "lyapunov_spectrum";
}

Observer lyapunov_mle(const LyapunovOptions& options) {
  return Observer(Observer::Kind::lyapunov_mle, options);
}
Observer lyapunov_spectrum(const LyapunovOptions& options) {
  return Observer(Observer::Kind::lyapunov_spectrum, options);
}

std::string analysis_signature(const std::vector<Observer>& observers, const FullModel& model) {
  if (observers.empty()) return "";
  return core::analysis_spec(observers, model.model()).signature();
}

double ObserverOutput::operator[](std::string_view output) const {
  for (std::size_t i = 0; i < output_names.size(); ++i)
    if (output_names[i] == output) return outputs[i];
  std::string names;
  for (const auto& n : output_names) names += (names.empty() ? "" : ", ") + n;
  throw ArgumentError("Observer '" + key + "' has no output '" + std::string(output) +
                      "' (outputs: " + names + ")");
}

bool ObserverOutput::has(std::string_view output) const noexcept {
  return std::find(output_names.begin(), output_names.end(), output) != output_names.end();
}

std::span<const double> ObserverOutput::trace(std::string_view column) const {
  for (std::size_t i = 0; i < trace_names.size(); ++i)
    if (trace_names[i] == column) return trace_cols[i];
  std::string names;
  for (const auto& n : trace_names) names += (names.empty() ? "" : ", ") + n;
  throw ArgumentError("Observer '" + key + "' has no trace column '" + std::string(column) +
                      "' (columns: " + (names.empty() ? "none" : names) + ")");
}

std::vector<double> ObserverOutput::exponents() const {
  std::vector<double> v;
  if (has("mle")) return {(*this)["mle"]};
  for (int j = 0;; ++j) {
    const std::string n = "lyap" + std::to_string(j);
    if (!has(n)) break;
    v.push_back((*this)[n]);
  }
  return v;
}

namespace core {

kernels::AnalysisSpec analysis_spec(const std::vector<Observer>& observers, const ir::ModelIR& model) {
  kernels::AnalysisSpec spec;
  if (observers.empty()) throw ArgumentError("observers: the list is empty");
  spec.trace_stride = observers.front().options().trace_stride;
  const int n = static_cast<int>(model.n_states());
  for (const auto& o : observers) {
    const auto& op = o.options();
    if (op.trace_stride != spec.trace_stride)
      throw ArgumentError("observers: every observer of a run needs the same trace_stride (got " +
                          std::to_string(spec.trace_stride) + " and " + std::to_string(op.trace_stride) +
                          ")");
    kernels::ObserverConfig c;
    c.kind = o.kind() == Observer::Kind::lyapunov_mle ? kernels::ObserverKind::lyapunov_mle
                                                      : kernels::ObserverKind::lyapunov_spectrum;
    c.k = op.k;
    if (c.k == 0) c.k = c.kind == kernels::ObserverKind::lyapunov_mle ? 1 : n;
    if (c.k < 0 || c.k > n)
      throw ArgumentError(o.key() + ": k must be in 1.." + std::to_string(n) +
                          " (the number of states), got " + std::to_string(op.k));
    c.renorm_every = op.renorm_every;
    spec.observers.push_back(c);
  }
  return spec;
}

AnalysisHandle make_analysis(const FullModel& fm, const std::vector<Observer>& observers) {
  const auto spec = analysis_spec(observers, fm.model());
  AnalysisHandle h;
  h.runner = fm.compiled().analysis_runner(spec);
  if (!h.runner) {
    // Backend without the ANALYSIS variant: the interpreter's runner (same kernels, same numbers).
    std::shared_ptr<kernels::CompiledModel> cm =
        interp::make_interpreted(fm.model_ptr(), fm.compiled().stepper());
    h.runner = cm->analysis_runner(spec);
    h.keep = std::move(cm);
  }
  return h;
}

void AnalysisBuffers::init(const kernels::AnalysisLayout& L, std::int64_t total_steps) {
  ws.assign(static_cast<std::size_t>(std::max<std::int64_t>(1, L.ws_size)), 0.0);
  out.assign(static_cast<std::size_t>(std::max<std::int64_t>(1, L.out_size)), 0.0);
  trace_cap = L.trace_width > 0 ? kernels::trace_capacity(total_steps, L.spec.trace_stride) + 1 : 0;
  trace.assign(static_cast<std::size_t>(std::max<std::int64_t>(1, trace_cap * L.trace_width)), 0.0);
}

void AnalysisBuffers::bind(kernels::RunnerArgs& a, const kernels::AnalysisLayout& L) {
  a.analysis_ws = ws.data();
  a.analysis_out = out.data();
  a.analysis_trace = trace.data();
  a.trace_cap = trace_cap;
  a.trace_stride = L.trace_width > 0 ? L.spec.trace_stride : 0;
  a.trace_count = 0;
}

std::vector<ObserverOutput> collect_outputs(const kernels::AnalysisLayout& L, const std::vector<double>& out,
                                            const std::vector<double>& trace, std::int64_t trace_count,
                                            double time_shift) {
  std::vector<ObserverOutput> r;
  const std::int64_t W = L.trace_width;
  const std::int64_t rows = W > 0 ? std::max<std::int64_t>(0, trace_count) : 0;
  for (const auto& s : L.slots) {
    ObserverOutput o;
    o.key = s.key;
    o.output_names = s.output_names;
    o.outputs.assign(out.begin() + s.out_off, out.begin() + s.out_off + s.out_size);
    o.trace_names = s.trace_names;
    const auto urows = static_cast<std::size_t>(
        std::min<std::int64_t>(rows, static_cast<std::int64_t>(trace.size()) / std::max<std::int64_t>(1, W)));
    o.trace_cols.assign(s.trace_names.size(), std::vector<double>(urows));
    o.trace_t.resize(urows);
    o.trace_step.resize(urows);
    for (std::size_t i = 0; i < urows; ++i) {
      const auto base = static_cast<std::size_t>(W) * i;
      o.trace_t[i] = trace[base] - time_shift;
      o.trace_step[i] = static_cast<std::int64_t>(trace[base + 1]);
      for (std::size_t j = 0; j < o.trace_cols.size(); ++j)
        o.trace_cols[j][i] = trace[base + static_cast<std::size_t>(s.tr_off) + j];
    }
    r.push_back(std::move(o));
  }
  return r;
}

std::int64_t fixed_step_count(double t_base, double t_end, double dt) {
  if (!(dt > 0)) return 0;
  const double r = std::fmin(std::fmax((t_end - t_base) / dt, 0.0), 4.0e18);
  const auto nf = static_cast<std::int64_t>(r);
  const double rem = r - static_cast<double>(nf);
  std::int64_t n = rem >= 1.0 - kernels::kFixedStepTol ? nf + 1 : nf;
  if (rem > kernels::kFixedStepTol && rem < 1.0 - kernels::kFixedStepTol) ++n;
  return n;
}

}  // namespace core
}  // namespace dynlib
