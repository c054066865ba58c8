// The process-wide ORC JIT (one LLJIT, created lazily, concurrent compilation on).
// Only src/jit/ includes this header; it forward-declares the LLVM types it mentions so that
// including it stays cheap.
//
// Life of a compiled unit:  build IR (llvm_backend.cpp) -> OrcEngine::prepare(module) (triple and
// data layout of the JIT) -> OrcEngine::optimize(module) (new pass manager: a lean hand-built pipeline,
// or default<O3> for modules with runtime state loops; see orc_engine.cpp) -> OrcEngine::add(...)
// (one JITDylib per unit, so every unit may use the same symbol names) -> Unit::lookup(name) (the first
// lookup triggers codegen + link).
//
// Object cache (docs/jit.md "Caching compiled code"): every ConcurrentIRCompiler gets a capturing
// `llvm::ObjectCache` that never serves objects (getObject -> null) but keeps a copy of the object file
// of every module whose identifier starts with a registered capture prefix (begin_capture/take_object).
// A cached unit is loaded with create_unit() + Unit::add_object_bytes(): no IR, no O3, no codegen
// (loading a relocatable object is far cheaper than compiling it).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace llvm {
class LLVMContext;
class Module;
class MemoryBuffer;
}  // namespace llvm

namespace dynlib::jit {

class OrcEngine;

// Module flag of a baseline module (tiered compilation, docs/jit.md): the IR pipeline is default<O0>
// (always-inline only) and code generation uses CodeGenOptLevel::None. Never stored in the disk cache.
inline constexpr const char* kBaselineFlag = "dynlib.baseline";
// Module flag set by the IR transform on optimised modules above the large-module size (orc_engine.cpp):
// they get the large-module pipeline and CodeGenOptLevel::None.
inline constexpr const char* kLargeFlag = "dynlib.large";

// One JITDylib holding one compiled unit. Destroying it removes the code: no thread may still run it.
class Unit {
 public:
  ~Unit();
  Unit(const Unit&) = delete;
  Unit& operator=(const Unit&) = delete;
  // Address of a symbol of this unit (materialises the unit on first use). Throws JitError.
  void* lookup(const std::string& symbol);
  // Addresses of several symbols in one lookup of the session (each lookup has a fixed cost of a
  // query and a wait; a cache hit looks up four or five). Throws JitError.
  std::vector<void*> lookup_all(const std::vector<std::string>& symbols);
  // Adds an already compiled object file (the disk cache). Linked on the first lookup of one of its
  // symbols. Throws JitError.
  void add_object(std::unique_ptr<llvm::MemoryBuffer> object);
  // Same, from bytes (copied). `name` identifies the buffer in error messages.
  void add_object_bytes(const std::string& bytes, const std::string& name);
  const std::string& name() const { return name_; }

 private:
  friend class OrcEngine;
  Unit(OrcEngine& engine, void* jd, std::string name) : engine_(engine), jd_(jd), name_(std::move(name)) {}
  OrcEngine& engine_;
  void* jd_;  // llvm::orc::JITDylib*
  std::string name_;
};

struct EngineInfo {
  std::string llvm_version, triple, cpu, features, data_layout;
  // Everything else of the code generator's configuration that changes the machine code (cache key).
  std::string codegen_flags;
};

class OrcEngine {
 public:
  // The process-wide engine, created on first use (thread-safe). Throws JitError if LLVM cannot
  // create a JIT for the host.
  static OrcEngine& instance();

  // Sets the JIT's target triple and data layout on a freshly built module.
  void prepare(llvm::Module& m) const;
  // Runs the IR pipeline (kLeanPipeline, or default<O3> for modules flagged dynlib.runtime_state_loops,
  // default<O0> for baseline modules; env knobs in orc_engine.cpp). Strict FP: no contraction, no fast math.
  // Thread-safe: each call uses its own TargetMachine.
  void optimize(llvm::Module& m) const;
  // Whether optimize() would treat this (unoptimised, non-baseline) module as large (short pipeline,
  // fast codegen): more IR instructions than the threshold in a long function, or far more in all.
  bool counts_as_large(const llvm::Module& m) const;
  // Adds modules (sharing one context) as a new unit: one JITDylib. Nothing is optimised or
  // compiled yet: a module is optimised (in the IR transform layer) and compiled when one of its
  // symbols is first looked up, so a module whose symbols are never needed costs nothing.
  // Thread-safe.
  std::unique_ptr<Unit> add(std::unique_ptr<llvm::LLVMContext> ctx,
                            std::vector<std::unique_ptr<llvm::Module>> mods, const std::string& unit_name);

  // An empty unit (one JITDylib) for object files (Unit::add_object*). Thread-safe.
  std::unique_ptr<Unit> create_unit(const std::string& unit_name);

  // Object capture for the cache. While a prefix is registered (counted: begin/end pairs may nest and
  // overlap across threads), the object file compiled from any module whose identifier starts with it
  // is kept; take_object(id) hands it over (once). end_capture drops untaken objects of the prefix
  // when its count reaches zero. Thread-safe; called from LLVM frames, so nothing there throws.
  static void begin_capture(const std::string& prefix);
  static void end_capture(const std::string& prefix);
  static bool take_object(const std::string& module_id, std::string& out);
  // Takes any captured object whose module identifier starts with `prefix`.
  static bool take_object_prefix(const std::string& prefix, std::string& out);

  // Milliseconds spent in the O3 pipeline on the module with this identifier (materialisation may
  // run on an ORC worker thread); resets the count.
  static double take_optimize_ms(const std::string& module_id);
  // While set, the optimised IR text of the module with this identifier is appended to *sink when it
  // is optimised. nullptr unregisters.
  static void set_ir_sink(const std::string& module_id, std::string* sink);

  const EngineInfo& info() const { return info_; }

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  OrcEngine();
  ~OrcEngine();
  std::unique_ptr<Impl> impl_;
  EngineInfo info_;
  int opt_level_ = -1;                  // DYNLIB_JIT_OPT=O0..O3 (-1: not set)
  std::string pipeline_;                // IR pipeline of modules without runtime state loops
  std::string pipeline_runtime_loops_;  // IR pipeline of modules flagged dynlib.runtime_state_loops
  bool loop_opts_forced_ = false;       // DYNLIB_JIT_LOOP_OPT=1: loop unroll/vectorize in every module
  unsigned large_module_ = 0;           // IR instructions above which a module counts as large
};

}  // namespace dynlib::jit
