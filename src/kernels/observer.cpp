#include "kernels/observer.hpp"

#include <set>
#include <string>

#include "dynlib/errors.hpp"
#include "kernels/lyapunov.hpp"

namespace dynlib::kernels {

namespace {
const char* kind_key(ObserverKind k) {
  return k == ObserverKind::lyapunov_mle ? "lyapunov_mle" : "lyapunov_spectrum";
}
}  // namespace

std::string AnalysisSpec::signature() const {
  std::string s;
  for (std::size_t i = 0; i < observers.size(); ++i) {
    const auto& o = observers[i];
    if (i) s += ';';
    s += kind_key(o.kind);
    s += "(k=" + std::to_string(o.k) + ",renorm_every=" + std::to_string(o.renorm_every) + ")";
  }
  s += "|trace_stride=" + std::to_string(trace_stride);
  return s;
}

AnalysisLayout analysis_layout(const AnalysisSpec& spec, const ir::ModelIR& model, const StepperInfo& st) {
  if (spec.observers.empty()) throw ArgumentError("observers: the list is empty");
  if (spec.trace_stride < 0) throw ArgumentError("observers: trace_stride must be >= 0");
  AnalysisLayout L;
  L.spec = spec;
  L.n = static_cast<int>(model.n_states());
  L.is_map = model.kind == ir::Kind::map;
  if (st.adaptive)
    throw ArgumentError("Observers need a fixed-step stepper; '" + st.name +
                        "' is adaptive. Use ab2, ab3, euler, rk2, rk4 (or map for maps)");
  switch (st.id) {
    case StepperId::map:
      L.scheme = TangentScheme::map;
      break;
    case StepperId::euler:
      L.scheme = TangentScheme::euler;
      break;
    case StepperId::rk2:
      L.scheme = TangentScheme::rk2;
      break;
    case StepperId::rk4:
      L.scheme = TangentScheme::rk4;
      break;
    case StepperId::ab2:
      L.scheme = TangentScheme::ab2;
      break;
    case StepperId::ab3:
      L.scheme = TangentScheme::ab3;
      break;
    default:
      throw ArgumentError("Selected stepper '" + st.name +
                          "' does not support variational stepping; results would be inconsistent. "
                          "Use ab2, ab3, euler, rk2, rk4");
  }
  if (L.n < 1) throw ArgumentError("observers: the model has no states");
  std::set<std::string> keys;
  std::int64_t ws = 0, out = 0, tr = 2;
  for (const auto& o : spec.observers) {
    ObserverSlot s;
    s.cfg = o;
    s.key = kind_key(o.kind);
    if (!keys.insert(s.key).second) throw ArgumentError("observers: duplicate observer '" + s.key + "'");
    if (o.kind == ObserverKind::lyapunov_mle && o.k != 1)
      throw ArgumentError("lyapunov_mle: k must be 1 (got " + std::to_string(o.k) +
                          "); use lyapunov_spectrum");
    if (o.k < 1 || o.k > L.n)
      throw ArgumentError(s.key + ": k must be in 1.." + std::to_string(L.n) +
                          " (the number of states), got " + std::to_string(o.k));
    if (o.renorm_every < 1) throw ArgumentError(s.key + ": renorm_every must be >= 1");
    s.ws_off = ws;
    s.ws_size = lyapunov_ws_size(L.n, o.k);
    s.out_off = out;
    s.out_size = lyapunov_out_size(o.k);
    s.tr_off = tr;
    s.tr_width = spec.trace_stride > 0 ? o.k : 0;
    if (o.kind == ObserverKind::lyapunov_mle) {
      s.output_names = {"log_growth", "denom", "steps", "mle"};
      s.trace_names = {"mle"};
    } else {
      for (int j = 0; j < o.k; ++j) s.output_names.push_back("log_r" + std::to_string(j));
      s.output_names.push_back("denom");
      s.output_names.push_back("steps");
      for (int j = 0; j < o.k; ++j) {
        s.output_names.push_back("lyap" + std::to_string(j));
        s.trace_names.push_back("lyap" + std::to_string(j));
      }
    }
    if (spec.trace_stride == 0) s.trace_names.clear();
    ws += s.ws_size;
    out += s.out_size;
    tr += s.tr_width;
    L.slots.push_back(std::move(s));
  }
  L.ws_size = ws;
  L.out_size = out;
  L.trace_width = spec.trace_stride > 0 ? tr : 0;
  return L;
}

}  // namespace dynlib::kernels
