// ModelSpec -> checked, canonical ir::ModelIR with a stable hash (docs/internals/pipeline.md).
// Every semantic error the reference only finds late (in codegen) is raised here with a location.
#pragma once
#include <dynlib/export.hpp>
#include <dynlib/ir.hpp>

#include "model/spec.hpp"

namespace dynlib::model {

// All semantic checks, lowering and the model hash. Throws ModelLoadError subclasses.
DYNLIB_INTERNAL_API ir::ModelIR lower_model(const ModelSpec& spec);

}  // namespace dynlib::model

namespace dynlib::ir {
// XXH3-128 over the canonical byte serialization of the lowered model (src/model/hash.cpp).
DYNLIB_INTERNAL_API Hash128 compute_hash(const ModelIR& m);
}  // namespace dynlib::ir
