// FullModel: a model bound to a stepper and a backend, with every compiled component inspectable.
#pragma once
#include <dynlib/export.hpp>
#include <dynlib/model.hpp>
#include <dynlib/options.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dynlib {
namespace kernels {
class CompiledModel;
}

class DYNLIB_API FullModel {
 public:
  FullModel(ModelPtr model, std::string stepper_name, std::string stepper_canonical, ir::DType dtype,
            BuildOptions options, std::shared_ptr<kernels::CompiledModel> compiled);
  ~FullModel();

  [[nodiscard]] const ir::ModelIR& model() const noexcept { return *model_; }
  [[nodiscard]] const ModelPtr& model_ptr() const noexcept { return model_; }
  [[nodiscard]] const std::string& stepper_name() const noexcept {
    return stepper_name_;
  }  // as given (aliases kept)
  [[nodiscard]] const std::string& stepper() const noexcept { return stepper_canonical_; }  // canonical name
  [[nodiscard]] ir::DType dtype() const noexcept { return dtype_; }
  [[nodiscard]] const char* dtype_name() const noexcept { return ir::dtype_name(dtype_); }
  [[nodiscard]] bool jit() const noexcept { return options_.jit; }
  [[nodiscard]] const BuildOptions& options() const noexcept { return options_; }
  [[nodiscard]] std::string model_hash() const { return model_->hash.hex(); }

  // Components: "rhs", "events_pre", "events_post", "update_aux", "jacobian", "guards", "stepper", "runner".
  [[nodiscard]] std::vector<std::string> components() const;
  [[nodiscard]] bool is_jitted(std::string_view component) const;  // false for every component when jit=false
  [[nodiscard]] std::string signature(
      std::string_view component) const;  // C-like signature of the compiled function
  [[nodiscard]] std::string source(
      std::string_view component) const;  // LLVM IR text when jitted, "" otherwise
  // Writes <component>.ll for every jitted component plus model_info.txt; returns {name: path}.
  std::map<std::string, std::filesystem::path> export_sources(const std::filesystem::path& dir) const;
  // Where the compiled code came from: "built" (compiled now), "disk" (disk cache), "memory" (already
  // compiled in this process); "" when jit=false.
  [[nodiscard]] std::string cache_origin() const;
  // Tiered compilation (docs/jit.md): "baseline" while the optimised code is still being compiled in
  // the background (the baseline is native code too, same results, slower), "optimized" after; ""
  // when jit=false.
  [[nodiscard]] std::string jit_tier() const;
  // Blocks until the optimised code is in use (no-op when jit=false or already optimised). Throws
  // JitError if the optimising compile failed. Call it before timing a JIT run.
  void wait_optimized() const;

  // Internal: the compiled kernels (src/kernels/compiled_model.hpp).
  kernels::CompiledModel& compiled() const noexcept { return *compiled_; }

 private:
  ModelPtr model_;
  std::string stepper_name_, stepper_canonical_;
  ir::DType dtype_;
  BuildOptions options_;
  std::shared_ptr<kernels::CompiledModel> compiled_;
};

using FullModelPtr = std::shared_ptr<const FullModel>;

// Load (URI/path/"inline: ...") and compile. Throws ModelLoadError..., UnknownStepperError (naming the
// valid steppers), StepperKindMismatchError, JITUnavailableError.
[[nodiscard]] DYNLIB_API FullModelPtr build(std::string_view uri, const BuildOptions& options = {});
// True if the JIT component can be loaded (this loads it, and with it libLLVM). Never throws.
[[nodiscard]] DYNLIB_API bool jit_available() noexcept;
[[nodiscard]] DYNLIB_API FullModelPtr build(ModelPtr model, const BuildOptions& options = {});

}  // namespace dynlib
