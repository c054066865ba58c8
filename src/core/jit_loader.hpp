// The one door to the JIT (docs/internals/pipeline.md). libdynlib never links LLVM: on the first jit=true it
// dlopen()s the JIT component libdynlib_jit.so (beside libdynlib.so, or $DYNLIB_JIT_LIBRARY) and asks
// it to compile a (model, stepper, dtype) triple. No LLVM type appears here.
#pragma once
#include <cstdint>
#include <dynlib/export.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dynlib/ir.hpp"
#include "kernels/compiled_model.hpp"

namespace dynlib::core {

struct JitOptions {
  // Persist the compiled object code under the cache root (docs/cache.md) and load it from there in
  // later processes. false: nothing is read or written on disk (the in-process cache still applies).
  bool disk_cache = false;
  // Manual invalidation: part of the cache key (memory and disk).
  std::string cache_token;
  // Keep the O3-optimised IR of the whole unit as well (JitCompiledModel::optimized_ir()). Costs one
  // extra print of the module; off by default.
  bool keep_optimized_ir = false;
  // Tiered compilation (docs/jit.md): when the unit must be compiled (no memory or disk hit), compile
  // a baseline first (O0, fast instruction selection: about a third of the time) and return it, and
  // compile the optimised code on a background thread; runs switch to it at the next step boundary.
  // false: return only with the optimised code. DYNLIB_JIT_TIER=optimized|baseline overrides it.
  bool tiered = true;
};

// Where a compiled unit came from, and its cache identity.
struct JitCacheRecord {
  std::string variant;       // "BASE", "ANALYSIS" or "LANES4" (the SIMD lane runner)
  std::string analysis_sig;  // observers' signature ("" for BASE)
  std::string digest;        // cache key digest (32 hex); "" if the unit bypassed the cache
  std::string origin;        // "built" (compiled now), "disk" (object loaded from the disk cache),
                             // "memory" (linked unit reused from this process)
  std::string entry;         // the disk entry directory, if any
};

// Compile-time measurements of one unit (milliseconds, wall clock).
struct JitTimings {
  double build_ir_ms = 0, verify_ms = 0, optimize_ms = 0, codegen_link_ms = 0, total_ms = 0;
};

// What the JIT component returns: a CompiledModel whose every component is native code, plus the
// inspection hooks that FullModel (include/dynlib/full_model.hpp) forwards to.
class DYNLIB_INTERNAL_API JitCompiledModel : public kernels::CompiledModel {
 public:
  // Compiled components, in this order: "rhs", "events_pre", "events_post", "update_aux",
  // "jacobian" (only if the model has one), "inverse" (maps with [equations.inverse]), "guards",
  // "stepper", "runner".
  virtual std::vector<std::string> components() const = 0;
  // C-like signature of the native function(s) of a component ("" for an unknown component).
  virtual std::string signature(std::string_view component) const = 0;
  // LLVM IR text of a component, as generated (BEFORE optimisation; a valid, self-contained module:
  // the component's functions are defined, the others it calls are declared). "" if unknown.
  virtual std::string source(std::string_view component) const = 0;
  // The whole unit after the O3 pipeline (empty unless JitOptions::keep_optimized_ir).
  virtual std::string optimized_ir() const = 0;
  // Writes rhs.ll, events.ll (events_pre + events_post), aux.ll, jacobian.ll (if any), stepper.ll,
  // runner.ll, guards.ll and model_info.txt into dir (created if needed). Returns {file stem: path}
  // ("rhs", "events", "aux", ..., "model_info"). Throws dynlib::DynlibError on I/O failure.
  virtual std::map<std::string, std::filesystem::path> export_sources(
      const std::filesystem::path& dir) const = 0;
  // Human-readable description: model, hash, stepper, dtype, LLVM version, triple, CPU, features,
  // component list, timings.
  virtual std::string model_info() const = 0;
  virtual JitTimings timings() const = 0;
  // The standalone entry points of events_pre/events_post/guards/stepper (the host never calls them:
  // the runner inlines its own copies) are optimised and compiled on first use; this compiles them
  // now. Throws JitError on failure.
  virtual void materialize_all() const = 0;
  // "baseline" while the optimised code is still being compiled (tiered compilation), else "optimized".
  virtual std::string tier() const = 0;
  // Blocks until the optimised code is in use. Throws the JitError of a failed optimising compile.
  virtual void wait_optimized() const = 0;
  // How the BASE unit was obtained: "built", "disk" or "memory" (see JitCacheRecord::origin).
  virtual std::string cache_origin() const = 0;
  // The BASE unit first, then every ANALYSIS / LANES4 runner made so far (in creation order).
  virtual std::vector<JitCacheRecord> cache_records() const = 0;
};

// Compiles the model with the JIT component. Throws:
//  * JITUnavailableError if the component cannot be found/loaded (the message says how to get it);
//  * StepperKindMismatchError if the stepper does not fit the model kind;
//  * JitError naming the component and the model if code generation or compilation fails.
// Thread-safe: several threads may compile at once.
DYNLIB_INTERNAL_API std::unique_ptr<JitCompiledModel> jit_compile(std::shared_ptr<const ir::ModelIR> model,
                                                                  const kernels::StepperInfo& stepper,
                                                                  ir::DType dtype,
                                                                  const JitOptions& options = {});

// True if the JIT component can be loaded (loads it). Never throws.
DYNLIB_INTERNAL_API bool jit_available() noexcept;

// The path the loader would dlopen(): $DYNLIB_JIT_LIBRARY if set, else libdynlib_jit.so beside libdynlib.so.
DYNLIB_INTERNAL_API std::string jit_library_path();

}  // namespace dynlib::core
