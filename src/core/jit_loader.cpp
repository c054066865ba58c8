// Loads the JIT component on demand (dlopen), never linking LLVM into libdynlib (see jit_loader.hpp).
#include "core/jit_loader.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <map>
#include <mutex>

#include "dynlib/errors.hpp"
#include "kernels/runner_abi.hpp"
#include "plugin_abi/plugin_abi.hpp"

#ifndef DYNLIB_VERSION_STRING
#define DYNLIB_VERSION_STRING "unknown"
#endif

namespace dynlib::core {

namespace {

constexpr const char* kJitLibraryName = "libdynlib_jit.so";

std::string how_to_get_it() {
  return "The JIT component ships as a separate library, libdynlib_jit.so, loaded on the first jit=true. "
         "To get it: build dynlib with -DDYNLIB_WITH_LLVM=ON (needs LLVM 19: `apt install llvm-19-dev`) and "
         "install libdynlib_jit.so beside libdynlib.so, or set DYNLIB_JIT_LIBRARY=/path/to/libdynlib_jit.so. "
         "Use jit=false to run with the interpreter.";
}

// Directory of the libdynlib.so this code lives in. Looked up once: it cannot move while loaded, and
// resolving it (a readlink per path component) cost 25 us of every setup().
const std::string& own_directory() {
  static const std::string dir = [] {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&jit_library_path), &info) == 0 || info.dli_fname == nullptr)
      return std::string();
    std::filesystem::path p(info.dli_fname);
    std::error_code ec;
    auto canon = std::filesystem::weakly_canonical(p, ec);
    return (ec ? p : canon).parent_path().string();
  }();
  return dir;
}

struct Loaded {
  void* handle = nullptr;
  plugin_abi::FactoryFn factory = nullptr;
};

std::mutex g_mutex;
std::map<std::string, Loaded> g_loaded;  // by path; handles are never dlclose()d (code may be live)

plugin_abi::FactoryFn load_factory(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (auto it = g_loaded.find(path); it != g_loaded.end()) return it->second.factory;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw JITUnavailableError("jit=true, but the JIT component was not found at " + path + ". " +
                              how_to_get_it());
  }
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    throw JITUnavailableError("jit=true, but the JIT component " + path + " could not be loaded: " +
                              (err ? err : "unknown dlopen error") + ". " + how_to_get_it());
  }
  void* sym = dlsym(handle, plugin_abi::kFactorySymbol);
  if (sym == nullptr) {
    dlclose(handle);
    throw JITUnavailableError("jit=true, but " + path + " is not a dynlib JIT component (no symbol " +
                              plugin_abi::kFactorySymbol + "). " + how_to_get_it());
  }
  Loaded l{handle, reinterpret_cast<plugin_abi::FactoryFn>(sym)};
  g_loaded.emplace(path, l);
  return l.factory;
}

}  // namespace

std::string jit_library_path() {
  if (const char* env = std::getenv("DYNLIB_JIT_LIBRARY"); env != nullptr && *env != '\0') return env;
  const std::string& dir = own_directory();
  return dir.empty() ? std::string(kJitLibraryName) : (std::filesystem::path(dir) / kJitLibraryName).string();
}

bool jit_available() noexcept {
  try {
    load_factory(jit_library_path());
    return true;
  } catch (...) {
    return false;
  }
}

std::unique_ptr<JitCompiledModel> jit_compile(std::shared_ptr<const ir::ModelIR> model,
                                              const kernels::StepperInfo& stepper, ir::DType dtype,
                                              const JitOptions& options) {
  if (!model) throw ArgumentError("jit_compile: null model");
  if (stepper.kind != model->kind)
    throw StepperKindMismatchError(stepper.name, stepper.kind_name(),
                                   model->kind == ir::Kind::ode ? "ode" : "map");
  const std::string path = jit_library_path();
  plugin_abi::FactoryFn factory = load_factory(path);

  std::string message, skind, mkind;
  plugin_abi::PluginRequest req;
  req.sizeof_runner_args = sizeof(kernels::RunnerArgs);
  req.dynlib_version = DYNLIB_VERSION_STRING;
  req.model = &model;
  req.stepper = &stepper;
  req.dtype = dtype;
  req.options = &options;
  plugin_abi::PluginResult res;
  res.message = &message;
  res.stepper_kind = &skind;
  res.model_kind = &mkind;
  factory(&req, &res);
  switch (res.status) {
    case plugin_abi::PluginStatus::ok:
      if (res.model == nullptr) throw JitError("JIT component returned no model for " + model->source);
      return std::unique_ptr<JitCompiledModel>(res.model);
    case plugin_abi::PluginStatus::abi_mismatch:
      throw JITUnavailableError("jit=true, but the JIT component " + path +
                                " does not match this libdynlib (" + message + "). " + how_to_get_it());
    case plugin_abi::PluginStatus::jit_error:
      throw JitError(message);
    case plugin_abi::PluginStatus::kind_mismatch:
      throw StepperKindMismatchError(stepper.name, skind, mkind);
    case plugin_abi::PluginStatus::other_error:
    default:
      throw DynlibError(message);
  }
}

}  // namespace dynlib::core
