// Reads the JIT tuning knobs once (see jit_tuning.hpp). No LLVM here.
#include "jit/jit_tuning.hpp"

#include <cstdlib>

namespace dynlib::jit {

namespace {
std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}
}  // namespace

const JitTuning& JitTuning::get() {
  static const JitTuning t = [] {
    JitTuning r;
    r.opt = env("DYNLIB_JIT_OPT");
    r.codegen = env("DYNLIB_JIT_CODEGEN");
    r.pipeline = env("DYNLIB_JIT_PIPELINE");
    r.pipeline_loops = env("DYNLIB_JIT_PIPELINE_LOOPS");
    r.loop_opt = env("DYNLIB_JIT_LOOP_OPT");
    r.unroll_max = env("DYNLIB_JIT_UNROLL_MAX");
    r.inline_max = env("DYNLIB_JIT_INLINE_MAX");
    r.local_state_max = env("DYNLIB_JIT_LOCAL_STATE_MAX");
    r.slp_min_states = env("DYNLIB_JIT_SLP_MIN_STATES");
    r.large_module = env("DYNLIB_JIT_LARGE_MODULE");
    r.time_passes = std::getenv("DYNLIB_JIT_TIME_PASSES") != nullptr;
    return r;
  }();
  return t;
}

std::string JitTuning::canonical_text() const {
  // Lengths first, so no value can imitate another field.
  std::string out;
  auto add = [&](const char* name, const std::string& v) {
    out += name;
    out += '=';
    out += std::to_string(v.size());
    out += ':';
    out += v;
    out += ';';
  };
  add("opt", opt);
  add("codegen", codegen);
  add("pipeline", pipeline);
  add("pipeline_loops", pipeline_loops);
  add("loop_opt", loop_opt);
  add("unroll_max", unroll_max);
  add("inline_max", inline_max);
  add("local_state_max", local_state_max);
  add("slp_min_states", slp_min_states);
  add("large_module", large_module);
  add("time_passes", time_passes ? "1" : "0");
  return out;
}

}  // namespace dynlib::jit
