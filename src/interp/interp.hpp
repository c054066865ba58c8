// The interpreter backend (jit=false): the kernel templates instantiated with DirectBackend over
// expressions compiled once to bytecode.
#pragma once
#include <dynlib/export.hpp>
#include <memory>

#include "dynlib/ir.hpp"
#include "kernels/compiled_model.hpp"

namespace dynlib::interp {

// Throws dynlib::StepperKindMismatchError if the stepper's kind differs from the model's.
DYNLIB_INTERNAL_API std::unique_ptr<kernels::CompiledModel> make_interpreted(
    std::shared_ptr<const ir::ModelIR> model, const kernels::StepperInfo& stepper);

}  // namespace dynlib::interp
