// Observers: analyses that run inside the runner loop alongside the state (docs/analysis.md), e.g.
//   sim.run({.T = 200, .dt = 0.01, .transient = 20, .observers = {dynlib::lyapunov_mle()}});
//   double mle = sim.results().observer("lyapunov_mle")["mle"];
// Observers need a fixed-step stepper with a tangent scheme: euler, rk2, rk4, ab2, ab3 (ODEs) or
// map (maps); anything else -> ArgumentError. See docs/analysis.md.
#pragma once
#include <cstdint>
#include <dynlib/export.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dynlib {

class FullModel;

struct LyapunovOptions {
  int k = 0;                      // tangent vectors: mle 0/1 -> 1; spectrum 0 -> all n states, else 1..n
  std::int64_t renorm_every = 1;  // re-orthonormalise every this many steps (>= 1)
  std::int64_t trace_stride = 1;  // trace row every this many steps (0 = no trace)
};

class DYNLIB_API Observer {
 public:
  enum class Kind : std::uint8_t { lyapunov_mle, lyapunov_spectrum };
  Observer(Kind kind, LyapunovOptions options) : kind_(kind), opt_(options) {}
  [[nodiscard]] Kind kind() const noexcept { return kind_; }
  [[nodiscard]] const LyapunovOptions& options() const noexcept { return opt_; }
  [[nodiscard]] std::string key()
      const;  // "lyapunov_mle" / "lyapunov_spectrum" (the name of its outputs in Results)

 private:
  Kind kind_;
  LyapunovOptions opt_;
};

// Largest Lyapunov exponent (Benettin, one tangent vector). Outputs: log_growth, denom, steps, mle.
// Trace column: mle (the running estimate).
[[nodiscard]] DYNLIB_API Observer lyapunov_mle(const LyapunovOptions& options = {});
// The k leading Lyapunov exponents (Benettin with modified Gram-Schmidt). Outputs: log_r0.., denom,
// steps, lyap0..; trace columns lyap0...
[[nodiscard]] DYNLIB_API Observer lyapunov_spectrum(const LyapunovOptions& options = {});

// The canonical analysis signature of an observer list on a model (part of every runner cache key),
// e.g. "lyapunov_mle(k=1,renorm_every=1)|trace_stride=1"; "" for no observers. Throws ArgumentError
// if the list does not fit the model (k out of range, duplicate observers, different trace strides).
[[nodiscard]] DYNLIB_API std::string analysis_signature(const std::vector<Observer>& observers,
                                                        const FullModel& model);

// One observer's outputs and trace after a run (Results::observer).
struct DYNLIB_API ObserverOutput {
  std::string key;
  std::vector<std::string> output_names;
  std::vector<double> outputs;
  std::vector<std::string> trace_names;
  std::vector<double> trace_t;                  // time of each trace row (relative to the recording's t0)
  std::vector<std::int64_t> trace_step;         // step of each trace row
  std::vector<std::vector<double>> trace_cols;  // [column][row]

  [[nodiscard]] double operator[](
      std::string_view output) const;  // ArgumentError naming the outputs if unknown
  [[nodiscard]] bool has(std::string_view output) const noexcept;
  [[nodiscard]] std::span<const double> trace(std::string_view column) const;  // ArgumentError if unknown
  // The exponent estimates: {mle} or {lyap0, ..., lyap{k-1}}.
  [[nodiscard]] std::vector<double> exponents() const;
};

}  // namespace dynlib
