// Adapter between build()/FullModel and the JIT loader (src/core/jit_loader.hpp).
#pragma once
#include <dynlib/full_model.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "kernels/compiled_model.hpp"

namespace dynlib::detail {

// The JIT-compiled model, or JITUnavailableError / JitError. Never falls back to the interpreter.
std::shared_ptr<kernels::CompiledModel> make_jitted(const ModelPtr& model,
                                                    const kernels::StepperInfo& stepper, ir::DType dtype,
                                                    const BuildOptions& options);
// Inspection of a jitted model ("" / empty if `cm` is not a JIT model).
std::string jit_source(const kernels::CompiledModel& cm, std::string_view component);
std::string jit_signature(const kernels::CompiledModel& cm, std::string_view component);
std::map<std::string, std::filesystem::path> jit_export(const kernels::CompiledModel& cm,
                                                        const std::filesystem::path& dir);
std::string jit_cache_origin(const kernels::CompiledModel& cm);
// "baseline" / "optimized" for JIT models (tiered compilation), "" otherwise.
std::string jit_tier(const kernels::CompiledModel& cm);
// Blocks until a JIT model runs optimised code (rethrows a failed optimising compile); no-op otherwise.
void jit_wait_optimized(const kernels::CompiledModel& cm);

}  // namespace dynlib::detail
