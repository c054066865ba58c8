// Code generation of one compiled unit (model x stepper): no LLVM types in this header.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/jit_loader.hpp"
#include "dynlib/ir.hpp"
#include "jit/orc_engine.hpp"
#include "kernels/observer.hpp"
#include "kernels/runner_abi.hpp"
#include "steppers_catalogue/stepper_registry.hpp"

namespace dynlib::jit {

// The standalone events/guard/stepper entry points live in a second module of the unit that ORC
// optimises and compiles on first lookup (the runner inlines its own copies).
extern const char* const kColdSymbols[4];
bool is_cold_symbol(const std::string& name);

// Native entry points of a unit (C ABI; see signature texts in codegen.cpp).
struct NativeFns {
  using BlockFn = void (*)(double, const double*, double*, const double*, const double*, const std::int64_t*);
  using AuxFn = void (*)(double, const double*, const double*, double*, const double*, const std::int64_t*);
  using EventsFn = std::int64_t (*)(kernels::RunnerArgs*, double, double*);
  using StepperFn = std::int64_t (*)(double, double, const double*, double*, double*, const double*,
                                     std::int64_t*, double*, std::int64_t*, const double*, std::int64_t,
                                     double*);
  using GuardFn = std::int64_t (*)(const double*, std::int64_t);
  using RunnerFn = void (*)(kernels::RunnerArgs*);
  BlockFn rhs = nullptr, inverse = nullptr, jacobian = nullptr;
  AuxFn update_aux = nullptr;
  EventsFn events_pre = nullptr, events_post = nullptr;
  StepperFn stepper = nullptr;
  GuardFn allfinite = nullptr;
  RunnerFn runner = nullptr;
};

struct Component {
  std::string name;                  // "rhs", "events_pre", ...
  std::string file;                  // export stem: "rhs", "events", "aux", ...
  std::vector<std::string> symbols;  // functions of the component
  std::string signature;             // C-like text
};

struct Generated {
  std::unique_ptr<Unit> unit;
  NativeFns fns;
  std::vector<Component> components;
  std::string bitcode;       // the unoptimised unit (component texts are rendered from it on demand)
  std::string optimized_ir;  // only with JitOptions::keep_optimized_ir
  std::string unit_name;
  core::JitTimings timings;
  // The standalone `jacobian` is in the cold module (no kernel of the hot module calls it, e.g.
  // explicit steppers): fns.jacobian stays null, the host looks it up on first use.
  bool jacobian_cold = false;
  // Compiled for latency (tiered compilation): O0 IR pipeline, CodeGenOptLevel::None.
  bool baseline = false;
};

struct AnalysisGenerated {
  std::unique_ptr<Unit> unit;
  NativeFns::RunnerFn runner = nullptr;  // void runner_analysis(RunnerArgs*)
  std::string bitcode;                   // unoptimised
  core::JitTimings timings;
};

class ModuleGen;

// A unit of one runner function `symbol` (void symbol(args*)) that `emit` writes into the module: the
// ANALYSIS variant, the lane runner. `tag` names it in the unit name ("dynlib:<hash>:<stepper>:<tag>#")
// and in error messages.
AnalysisGenerated generate_runner_unit(const ir::ModelIR& model, const kernels::StepperInfo& stepper,
                                       const std::string& tag, const char* symbol,
                                       const std::function<void(ModuleGen&)>& emit);

// The lane runner (kernels/runner_lanes.hpp, symbol "runner_lanes", void(LaneRunnerArgs*)) as its own
// unit; the model and stepper must pass kernels::lanes_supported (lane_codegen.cpp).
AnalysisGenerated generate_lane_unit(const ir::ModelIR& model, const kernels::StepperInfo& stepper);

// The ANALYSIS runner variant (observers' hooks compiled in) for one analysis layout, as its own unit.
AnalysisGenerated generate_analysis_unit(const ir::ModelIR& model, const kernels::StepperInfo& stepper,
                                         const kernels::AnalysisLayout& L);

// Builds, verifies, optimises and links the unit. Throws JitError naming the component and the model.
// baseline: compile for latency, not speed (tiered compilation, docs/jit.md); same IR, same results.
Generated generate_unit(const ir::ModelIR& model, const kernels::StepperInfo& stepper,
                        const core::JitOptions& opts, bool baseline = false);

// The unoptimised IR text of the given functions: a self-contained module where only they keep
// their bodies (the functions they call are declared). Thread-safe (own LLVMContext).
std::string component_ir_text(const std::string& bitcode, const std::vector<std::string>& symbols);

// Text used in error messages: the model's name and source.
std::string model_label(const ir::ModelIR& m);

}  // namespace dynlib::jit
