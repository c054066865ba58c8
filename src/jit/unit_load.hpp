// Units loaded from the object files of a disk cache entry (no IR, no optimisation, no codegen), and
// the component table stored beside them. No LLVM header here.
#pragma once
#include <string>
#include <vector>

#include "dynlib/ir.hpp"
#include "jit/codegen.hpp"
#include "steppers_catalogue/stepper_registry.hpp"

namespace dynlib::jit {

// The component table of a unit as stored in its cache entry (part "components").
std::string pack_components(const std::vector<Component>& cs);

// A BASE unit from its cached payload (hot.o, cold.o, bitcode, components). Throws JitError.
Generated load_unit(const std::string& payload, const ir::ModelIR& model, const kernels::StepperInfo& stepper,
                    const std::string& digest);

// An ANALYSIS runner (or the lane runner: symbol "runner_lanes") from its cached payload (runner.o,
// bitcode). Throws JitError.
AnalysisGenerated load_analysis(const std::string& payload, const ir::ModelIR& model,
                                const kernels::StepperInfo& stepper, const std::string& digest,
                                const char* symbol = "runner_analysis");

}  // namespace dynlib::jit
