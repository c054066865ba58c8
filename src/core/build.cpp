// build()/setup(): load the model, resolve the stepper, choose the backend (interpreter or JIT).
#include <dynlib/errors.hpp>
#include <dynlib/full_model.hpp>
#include <dynlib/sim.hpp>
#include <sstream>
#include <string>
#include <utility>

#include "core/jit_bridge.hpp"
#include "core/jit_loader.hpp"
#include "interp/interp.hpp"
#include "kernels/compiled_model.hpp"
#include "model/lower.hpp"
#include "steppers_catalogue/stepper_registry.hpp"
#include "steppers_catalogue/stepper_settings.hpp"
#include "util/output_file.hpp"
#include "util/text.hpp"

namespace dynlib {
namespace {

ir::DType resolve_dtype(const std::string& name, ir::DType model_dtype) {
  if (name.empty()) return model_dtype;
  for (auto d : {ir::DType::float64, ir::DType::float32, ir::DType::int64}) {
    if (name == ir::dtype_name(d)) return d;
  }
  throw ArgumentError("Unknown dtype '" + name + "'. Valid dtypes: ['float64', 'float32', 'int64']");
}

const char* kComponents[] = {"rhs",     "events_pre", "events_post", "update_aux", "jacobian",
                             "inverse", "guards",     "stepper",     "runner"};

}  // namespace

FullModel::FullModel(ModelPtr model, std::string stepper_name, std::string stepper_canonical, ir::DType dtype,
                     BuildOptions options, std::shared_ptr<kernels::CompiledModel> compiled)
    : model_(std::move(model)),
      stepper_name_(std::move(stepper_name)),
      stepper_canonical_(std::move(stepper_canonical)),
      dtype_(dtype),
      options_(std::move(options)),
      compiled_(std::move(compiled)) {}

FullModel::~FullModel() = default;

std::vector<std::string> FullModel::components() const {
  std::vector<std::string> out;
  for (const char* c : kComponents) {
    std::string_view sv(c);
    if (sv == "jacobian" && !model_->exact_jacobian()) continue;
    if (sv == "inverse" && !model_->inverse) continue;
    out.emplace_back(c);
  }
  return out;
}

bool FullModel::is_jitted(std::string_view component) const {
  if (!options_.jit) return false;
  return compiled_->is_jitted(component);
}

std::string FullModel::signature(std::string_view c) const {
  if (options_.jit) {
    std::string s = detail::jit_signature(*compiled_, c);
    if (!s.empty()) return s;
  }
  if (c == "rhs" || c == "inverse")
    return "void " + std::string(c) +
           "(double t, const double* y, double* out, const double* params, const double* lag_ring, const "
           "int64_t* lag_head)";
  if (c == "jacobian")
    return "void jacobian(double t, const double* y, double* J, const double* params, const double* "
           "lag_ring, const int64_t* lag_head)";
  if (c == "update_aux")
    return "void update_aux(double t, const double* y, const double* params, double* aux, const double* "
           "lag_ring, const int64_t* lag_head)";
  if (c == "events_pre" || c == "events_post")
    return "int64_t " + std::string(c) +
           "(double t, double* y, double* params, double* log_row, RunnerArgs* args)";
  if (c == "guards") return "bool allfinite(const double* v, int64_t n)";
  if (c == "stepper")
    return "int32_t stepper_" + stepper_canonical_ +
           "(double t, double dt, const double* y, const double* params, double* ws, int64_t* iws, const "
           "double* config, double* y_prop, double* t_prop, double* dt_next, double* err_est)";
  if (c == "runner") return "void dynlib_runner(RunnerArgs* args)";
  throw ArgumentError("Unknown component '" + std::string(c) +
                      "'. Valid components: rhs, events_pre, events_post, update_aux, jacobian, inverse, "
                      "guards, stepper, runner");
}

std::string FullModel::source(std::string_view component) const {
  (void)signature(component);  // validates the name
  if (!options_.jit) return {};
  return detail::jit_source(*compiled_, component);
}

bool jit_available() noexcept { return core::jit_available(); }

std::string FullModel::cache_origin() const { return detail::jit_cache_origin(*compiled_); }

std::string FullModel::jacobian_source(const StepperSettings& settings) const {
  const auto& info = compiled_->stepper();
  std::vector<double> config = compiled_->default_config();
  const int k = info.config_index("jacobian_mode");
  for (const auto& [name, value] : settings) {
    if (name != "jacobian_mode" || k < 0) continue;  // other settings do not change the Jacobian
    const auto& f = info.config[static_cast<std::size_t>(k)];
    const auto code =
        value.is_name() ? kernels::setting_code(f, value.name) : std::optional<double>(value.number);
    const std::string err =
        code ? kernels::setting_value_error(f, *code) : "must be one of " + kernels::setting_value_names(f);
    if (!err.empty())
      throw ArgumentError("Invalid stepper setting jacobian_mode='" +
                          (value.is_name() ? value.name : util::shortest_double(value.number)) + "': " + err);
    config[static_cast<std::size_t>(k)] = *code;
  }
  return kernels::jacobian_source(info, *model_, config);
}
std::string FullModel::jit_tier() const { return detail::jit_tier(*compiled_); }
void FullModel::wait_optimized() const { detail::jit_wait_optimized(*compiled_); }

namespace {
// One exported file, replaced atomically; errors name the file and the reason.
void write_export(const std::filesystem::path& p, std::string_view text) {
  try {
    util::write_output_file(p, text);
  } catch (const util::FileWriteError& e) {
    throw DynlibError(std::string("export_sources: cannot write ") + e.what());
  }
}
}  // namespace

std::map<std::string, std::filesystem::path> FullModel::export_sources(
    const std::filesystem::path& dir) const {
  if (options_.jit) {
    auto j = detail::jit_export(*compiled_, dir);
    if (!j.empty()) return j;
  }
  std::filesystem::create_directories(dir);
  std::map<std::string, std::filesystem::path> out;
  for (const auto& c : components()) {
    std::string src = source(c);
    if (src.empty()) continue;
    auto p = dir / (c + ".ll");
    write_export(p, src);
    out[c] = p;
  }
  auto info = dir / "model_info.txt";
  std::ostringstream f;
  const auto& m = *model_;
  f << "Model Information\n" << std::string(60, '=') << "\n";
  f << "Model Hash: " << m.hash.hex() << "\nKind: " << (m.kind == ir::Kind::ode ? "ode" : "map")
    << "\nStepper: " << stepper_name_ << "\nDtype: " << ir::dtype_name(dtype_)
    << "\nJIT: " << (options_.jit ? "yes" : "no") << "\nStates: ";
  for (std::size_t i = 0; i < m.states.size(); ++i) f << (i ? ", " : "") << m.states[i];
  f << "\nParameters: ";
  for (std::size_t i = 0; i < m.params.size(); ++i) f << (i ? ", " : "") << m.params[i];
  f << "\n\nEquations (RHS):\n";
  for (std::size_t i = 0; i < m.rhs.size(); ++i)
    f << "  " << m.states[i] << ": " << ir::to_string(m.rhs[i], m) << "\n";
  f << "\nEvents (" << m.events.size() << "):\n";
  for (std::size_t i = 0; i < m.events.size(); ++i) {
    const auto& e = m.events[i];
    if (e.root)
      f << "  [" << i << "] " << e.name << ": root=" << ir::to_string(e.root, m) << "\n";
    else
      f << "  [" << i << "] " << e.name << ": cond=" << ir::to_string(e.cond, m) << "\n";
  }
  write_export(info, f.str());
  out["info"] = info;
  return out;
}

FullModelPtr build(ModelPtr model, const BuildOptions& options) {
  if (!model) throw ArgumentError("build(): null model");
  const std::string given = !options.stepper.empty() ? options.stepper : model->default_stepper();
  const kernels::StepperInfo& info =
      kernels::get_stepper(given);  // UnknownStepperError naming the valid ones
  const char* model_kind = model->kind == ir::Kind::ode ? "ode" : "map";
  if (info.kind != model->kind) throw StepperKindMismatchError(given, info.kind_name(), model_kind);
  const ir::DType dtype = resolve_dtype(options.dtype, model->dtype);
  if (model->kind == ir::Kind::ode && dtype == ir::DType::int64)
    throw ArgumentError("ODE models require a floating dtype (float64, float32); got 'int64'");
  if (dtype != model->dtype) {
    // Both backends read the storage dtype from the model (docs/simulation.md "dtype"): a copy with
    // the requested dtype, rehashed (the hash covers dtype; caches must not mix them).
    auto copy = std::make_shared<ir::ModelIR>(*model);
    copy->dtype = dtype;
    if (dtype == ir::DType::int64) copy->derived_jacobian.reset();  // as lowering does for int64
    copy->hash = ir::compute_hash(*copy);
    model = std::move(copy);
  }
  std::shared_ptr<kernels::CompiledModel> compiled;
  if (options.jit) {
    compiled = detail::make_jitted(model, info, dtype, options);  // JITUnavailableError; never a fallback
  } else {
    compiled = interp::make_interpreted(model, info);
  }
  return std::make_shared<const FullModel>(std::move(model), given, info.name, dtype, options,
                                           std::move(compiled));
}

FullModelPtr build(std::string_view uri, const BuildOptions& options) {
  LoadOptions lo;
  lo.mods = options.mods;
  return build(load_model(uri, lo), options);
}

Sim setup(std::string_view uri, const BuildOptions& options) { return Sim(build(uri, options)); }
Sim setup(ModelPtr model, const BuildOptions& options) { return Sim(build(std::move(model), options)); }

}  // namespace dynlib
