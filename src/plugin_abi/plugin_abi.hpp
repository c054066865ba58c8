// The C entry point of the JIT component (libdynlib_jit.so): the one table both sides agree on, the
// loader (src/core/jit_loader.cpp) and the plugin (src/jit/plugin_entry.cpp). It includes nothing of
// ours, so neither side has to include the other: the types it points to are only declared here; each
// side includes their definitions itself (core/jit_loader.hpp, kernels/runner_abi.hpp). No LLVM here.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace dynlib {
namespace ir {
struct ModelIR;
enum class DType : std::uint8_t;
}  // namespace ir
namespace kernels {
struct StepperInfo;
}  // namespace kernels
namespace core {
struct JitOptions;
class JitCompiledModel;
}  // namespace core
}  // namespace dynlib

namespace dynlib::plugin_abi {

// Bump when anything below, RunnerArgs or the CompiledModel interface changes.
// 3: JitOptions::tiered, JitCompiledModel::tier(); 4: RunnerArgs::event_counts; 5: RunnerArgs dense_ws,
// save_at, tstops
inline constexpr std::int32_t kPluginAbiVersion = 5;
inline constexpr const char* kFactorySymbol = "dynlib_jit_create_v1";

enum class PluginStatus : std::int32_t {
  ok = 0,
  abi_mismatch = 1,   // -> JITUnavailableError (a stale plugin)
  jit_error = 2,      // -> JitError (message names component and model)
  kind_mismatch = 3,  // -> StepperKindMismatchError
  other_error = 4,    // -> DynlibError
};

struct PluginRequest {
  std::int32_t abi_version = kPluginAbiVersion;
  std::uint32_t sizeof_runner_args = 0;  // the caller's sizeof(kernels::RunnerArgs)
  const char* dynlib_version = "";
  const std::shared_ptr<const ir::ModelIR>* model = nullptr;
  const kernels::StepperInfo* stepper = nullptr;
  ir::DType dtype{};  // ir::DType::float64
  const core::JitOptions* options = nullptr;
};

struct PluginResult {
  PluginStatus status = PluginStatus::other_error;
  core::JitCompiledModel* model = nullptr;  // owned by the caller on success
  std::string* message = nullptr;           // filled on failure (caller-owned)
  std::string* stepper_kind = nullptr;      // for kind_mismatch
  std::string* model_kind = nullptr;
};

using FactoryFn = void (*)(const PluginRequest*, PluginResult*) noexcept;

}  // namespace dynlib::plugin_abi
