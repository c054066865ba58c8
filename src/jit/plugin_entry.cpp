// The JIT component's entry point: the extern "C" factory of the plugin ABI (src/plugin_abi/plugin_abi.hpp).
// No LLVM header here: code generation lives in codegen.cpp / llvm_backend.cpp, the ORC JIT in
// orc_engine.cpp, units are obtained in unit_obtain.cpp. Every C++ exception is caught here and turned
// into a PluginResult, so nothing crosses the C boundary (and nothing is ever thrown through LLVM
// frames: LLVM calls none of our code).
#include <string>

#include "core/jit_loader.hpp"
#include "dynlib/errors.hpp"
#include "jit/plugin_model.hpp"
#include "jit/unit_obtain.hpp"
#include "kernels/runner_abi.hpp"
#include "plugin_abi/plugin_abi.hpp"

extern "C" __attribute__((visibility("default"))) void dynlib_jit_create_v1(
    const dynlib::plugin_abi::PluginRequest* req, dynlib::plugin_abi::PluginResult* res) noexcept {
  using namespace dynlib;
  using plugin_abi::PluginStatus;
  auto fail = [&](PluginStatus s, const std::string& msg) {
    res->status = s;
    res->model = nullptr;
    if (res->message) *res->message = msg;
  };
  try {
    if (req == nullptr || res == nullptr) return;
    if (req->abi_version != plugin_abi::kPluginAbiVersion ||
        req->sizeof_runner_args != sizeof(kernels::RunnerArgs)) {
      fail(PluginStatus::abi_mismatch,
           "plugin ABI " + std::to_string(plugin_abi::kPluginAbiVersion) + " with sizeof(RunnerArgs) " +
               std::to_string(sizeof(kernels::RunnerArgs)) + ", libdynlib ABI " +
               std::to_string(req->abi_version) + " with sizeof(RunnerArgs) " +
               std::to_string(req->sizeof_runner_args) + "; rebuild both together");
      return;
    }
    if (req->model == nullptr || !*req->model || req->stepper == nullptr) {
      fail(PluginStatus::other_error, "JIT component: incomplete request");
      return;
    }
    const auto& model = *req->model;
    const auto& stepper = *req->stepper;
    if (stepper.kind != model->kind) {
      res->status = PluginStatus::kind_mismatch;
      if (res->stepper_kind) *res->stepper_kind = stepper.kind_name();
      if (res->model_kind) *res->model_kind = model->kind == ir::Kind::ode ? "ode" : "map";
      return;
    }
    core::JitOptions opts = req->options ? *req->options : core::JitOptions{};
    auto got = jit::obtain_unit(model, stepper, req->dtype, opts);
    res->model = jit::new_jit_model(model, stepper, req->dtype, opts, std::move(got));
    res->status = PluginStatus::ok;
  } catch (const JitError& e) {
    fail(PluginStatus::jit_error, e.what());
  } catch (const std::exception& e) {
    fail(PluginStatus::jit_error, std::string("JIT compilation failed: ") + e.what());
  } catch (...) {
    fail(PluginStatus::other_error, "JIT compilation failed with an unknown exception");
  }
}
