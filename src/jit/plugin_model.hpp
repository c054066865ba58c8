// The CompiledModel the JIT component returns: native code of a unit, its ANALYSIS runners, and the
// inspection hooks of core::JitCompiledModel. No LLVM header here.
#pragma once
#include <memory>

#include "core/jit_loader.hpp"
#include "dynlib/ir.hpp"
#include "jit/unit_registry.hpp"
#include "steppers_catalogue/stepper_registry.hpp"

namespace dynlib::jit {

// A new model over the obtained BASE unit `got` (owned by the caller).
core::JitCompiledModel* new_jit_model(std::shared_ptr<const ir::ModelIR> m, const kernels::StepperInfo& s,
                                      ir::DType dtype, const core::JitOptions& opts,
                                      Registry<TieredUnit>::Got got);

}  // namespace dynlib::jit
