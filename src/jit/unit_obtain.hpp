// Obtaining a unit of (model, stepper, dtype): the process registry, then the disk cache (with
// disk_cache), else a compile (tiered unless tiering is off). No LLVM header here.
//
// Caching (docs/jit.md "Caching compiled code", object_cache.hpp): every unit has a cache key. A process
// keeps each linked unit in a registry by digest, so a second setup() of the same key links nothing
// ("memory"). With disk_cache the unit's object files go through cache::CodeCache: a hit is loaded with
// addObjectFile ("disk": no IR, no O3, no codegen); a miss compiles with object capture on, forces the
// cold module, and stores hot.o + cold.o + the unoptimised bitcode ("built").
#pragma once
#include <memory>

#include "core/jit_loader.hpp"
#include "dynlib/ir.hpp"
#include "jit/unit_registry.hpp"
#include "kernels/observer.hpp"
#include "steppers_catalogue/stepper_registry.hpp"

namespace dynlib::jit {

// The BASE unit of (model, stepper, dtype), with its cache record.
Registry<TieredUnit>::Got obtain_unit(const std::shared_ptr<const ir::ModelIR>& mp,
                                      const kernels::StepperInfo& stepper, ir::DType dtype,
                                      const core::JitOptions& opts);

// The ANALYSIS runner of one observer layout, with its cache record.
Registry<AnalysisGenerated>::Got obtain_analysis(const ir::ModelIR& model,
                                                 const kernels::StepperInfo& stepper, ir::DType dtype,
                                                 const kernels::AnalysisLayout& L,
                                                 const core::JitOptions& opts);

// The lane runner (kernels/runner_lanes.hpp) of (model, stepper, dtype), runner variant "LANES4", with its
// cache record. The model and stepper must pass kernels::lanes_supported.
Registry<AnalysisGenerated>::Got obtain_lanes(const ir::ModelIR& model, const kernels::StepperInfo& stepper,
                                              ir::DType dtype, const core::JitOptions& opts);

}  // namespace dynlib::jit
