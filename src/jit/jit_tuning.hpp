// The JIT's tuning knobs (measurement settings: bench/README.md, orc_engine.cpp, llvm_backend.hpp), read
// from the environment once per process into one struct. They change the generated machine code, so the
// whole struct is part of every cache key (object_cache.cpp): a knob added here keeps cache entries
// apart without further work. An empty variable counts as unset. Test hooks (DYNLIB_JIT_INJECT_FAULT,
// DYNLIB_JIT_TEST_*) and DYNLIB_JIT_TIER are not knobs: they are read where used, since tests change them
// within one process. No LLVM here.
#pragma once
#include <string>

namespace dynlib::jit {

struct JitTuning {
  std::string opt;              // DYNLIB_JIT_OPT=O0..O3: default<On> pipelines instead of the lean one
  std::string codegen;          // DYNLIB_JIT_CODEGEN=none|less|default|aggressive
  std::string pipeline;         // DYNLIB_JIT_PIPELINE: IR pipeline text, modules without runtime loops
  std::string pipeline_loops;   // DYNLIB_JIT_PIPELINE_LOOPS: the same for modules with them
  std::string loop_opt;         // DYNLIB_JIT_LOOP_OPT=1: loop unroll/vectorize in every module
  std::string unroll_max;       // DYNLIB_JIT_UNROLL_MAX (ModuleGen::unroll_max)
  std::string inline_max;       // DYNLIB_JIT_INLINE_MAX (ModuleGen::inline_max_nodes)
  std::string local_state_max;  // DYNLIB_JIT_LOCAL_STATE_MAX (ModuleGen::local_state_max)
  std::string slp_min_states;   // DYNLIB_JIT_SLP_MIN_STATES (ModuleGen::slp_min_states)
  std::string large_module;     // DYNLIB_JIT_LARGE_MODULE: IR instructions of a large module (orc_engine.cpp)
  bool time_passes = false;     // DYNLIB_JIT_TIME_PASSES set: LLVM pass timings on stderr

  // The values of this process (read on first use, never again).
  static const JitTuning& get();
  // Every field as "name=value;" text, for the cache key.
  std::string canonical_text() const;
  // The C string of a knob, nullptr if unset (for code written against std::getenv).
  static const char* c_str_or_null(const std::string& v) { return v.empty() ? nullptr : v.c_str(); }
};

}  // namespace dynlib::jit
