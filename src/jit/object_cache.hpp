// The JIT's use of the compiled-code cache (src/cache/, docs/jit.md "Caching compiled code"). No LLVM here.
//
// Mapping to the cache families: one compiled unit holds everything of (model x stepper) (hot module:
// model functions + BASE runner; cold module: standalone events/guards/stepper), so a unit is ONE entry
// under `runners/` with runner_variant "BASE". Each ANALYSIS runner (observers compiled in) is its own
// unit and its own `runners/` entry with runner_variant "ANALYSIS" and the observers' signature.
// `triplets/` and `steppers/` stay unused by the JIT (reserved for per-component entries).
//
// An entry's payload (opaque to src/cache) is a UnitPayload: named parts
//   BASE:      "hot.o", "cold.o" (object files), "bitcode" (unoptimised IR of the whole unit, for
//              source()/export_sources() on a cache hit: rendered lazily, never optimised),
//              "components" (name/file/symbols/signature), "timings" (of the original compile)
//   ANALYSIS:  "runner.o", "bitcode"
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "cache/cache_key.hpp"
#include "dynlib/ir.hpp"
#include "kernels/compiled_model.hpp"
#include "steppers_catalogue/stepper_registry.hpp"

namespace dynlib::jit {

struct EngineInfo;

// Version of our code generator (templates in src/kernels + codegen.cpp + llvm_backend.cpp). Bump it
// whenever the generated code changes in a way the other key fields do not capture. The build id of
// libdynlib_jit.so (GNU build-id note) is in the key as well, so a rebuilt component never loads
// code cached by another build.
inline constexpr const char* kJitTemplateVersion = "jit-templates-15";
// Version of the UnitPayload layout.
inline constexpr std::uint32_t kUnitPayloadVersion = 1;

// The cache key of a unit. runner_variant "BASE" (analysis_sig "") or "ANALYSIS".
cache::CacheKey make_unit_key(const ir::ModelIR& model, const kernels::StepperInfo& stepper, ir::DType dtype,
                              const EngineInfo& engine, std::string_view runner_variant,
                              std::string_view analysis_sig, std::string_view cache_token);

// Compile-time settings of a stepper that shape the generated code, as canonical text.
std::string stepper_settings_text(const kernels::StepperInfo& stepper, std::int64_t n_state);
// The workspace/guard layout signature.
std::string layout_signature(const kernels::Layout& L);
// Hex GNU build-id of the loaded object containing this code ("" if none).
std::string own_build_id();

struct UnitPayload {
  std::map<std::string, std::string> parts;
  std::string encode() const;
  // "" on success, else the reason.
  std::string decode(std::string_view bytes);
};

// Length-prefixed string lists (for the "components" and "timings" parts).
std::string pack_strings(const std::vector<std::string>& v);
bool unpack_strings(std::string_view bytes, std::vector<std::string>& out);

}  // namespace dynlib::jit
