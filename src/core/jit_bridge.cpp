// Adapter between build()/FullModel and the JIT loader: jit=true goes through core::jit_compile,
// which raises JITUnavailableError when the component is missing (never a silent fallback).
#include "core/jit_bridge.hpp"

#include <dynlib/errors.hpp>

#include "core/jit_loader.hpp"

namespace dynlib::detail {

std::shared_ptr<kernels::CompiledModel> make_jitted(const ModelPtr& model,
                                                    const kernels::StepperInfo& stepper, ir::DType dtype,
                                                    const BuildOptions& options) {
  core::JitOptions jo;
  jo.disk_cache = options.disk_cache;
  jo.cache_token = options.cache_token;
  jo.tiered = options.jit_tiered;
  return core::jit_compile(model, stepper, dtype, jo);
}

std::string jit_source(const kernels::CompiledModel& cm, std::string_view component) {
  const auto* j = dynamic_cast<const core::JitCompiledModel*>(&cm);
  return j ? j->source(component) : std::string();
}

std::string jit_signature(const kernels::CompiledModel& cm, std::string_view component) {
  const auto* j = dynamic_cast<const core::JitCompiledModel*>(&cm);
  return j ? j->signature(component) : std::string();
}

std::map<std::string, std::filesystem::path> jit_export(const kernels::CompiledModel& cm,
                                                        const std::filesystem::path& dir) {
  const auto* j = dynamic_cast<const core::JitCompiledModel*>(&cm);
  return j ? j->export_sources(dir) : std::map<std::string, std::filesystem::path>{};
}

std::string jit_cache_origin(const kernels::CompiledModel& cm) {
  const auto* j = dynamic_cast<const core::JitCompiledModel*>(&cm);
  return j ? j->cache_origin() : std::string();
}

std::string jit_tier(const kernels::CompiledModel& cm) {
  const auto* j = dynamic_cast<const core::JitCompiledModel*>(&cm);
  return j ? j->tier() : std::string();
}

void jit_wait_optimized(const kernels::CompiledModel& cm) {
  if (const auto* j = dynamic_cast<const core::JitCompiledModel*>(&cm)) j->wait_optimized();
}

}  // namespace dynlib::detail
