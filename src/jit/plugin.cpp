// The JIT component's entry point (extern "C" factory) and the CompiledModel it returns.
// No LLVM header here: code generation lives in codegen.cpp / llvm_backend.cpp, the ORC JIT in
// orc_engine.cpp. Every C++ exception is caught here and turned into a PluginResult, so nothing
// crosses the C boundary (and nothing is ever thrown through LLVM frames: LLVM calls none of our code).
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "dynlib/errors.hpp"
#include "jit/codegen.hpp"
#include "jit/orc_engine.hpp"
#include "jit/plugin_api.hpp"
#include "kernels/compiled_model.hpp"

namespace dynlib::jit {
namespace {

// The ANALYSIS runner of one observer spec, compiled as its own unit.
class JitAnalysisRunner final : public kernels::AnalysisRunner {
 public:
  JitAnalysisRunner(kernels::AnalysisLayout L, AnalysisGenerated gen) : L_(std::move(L)), gen_(std::move(gen)) {}
  const kernels::AnalysisLayout& layout() const override { return L_; }
  void run(kernels::RunnerArgs& args) const override { gen_.runner(&args); }
  bool is_jitted() const override { return true; }
  const std::string& bitcode() const { return gen_.bitcode; }

 private:
  kernels::AnalysisLayout L_;
  AnalysisGenerated gen_;
};

class JitModel final : public core::JitCompiledModel {
 public:
  JitModel(std::shared_ptr<const ir::ModelIR> m, const kernels::StepperInfo& s, ir::DType dtype, Generated gen)
      : m_(std::move(m)), s_(&s), dtype_(dtype), layout_(kernels::compute_layout(*m_, s)), gen_(std::move(gen)) {}

  const ir::ModelIR& model() const override { return *m_; }
  const kernels::StepperInfo& stepper() const override { return *s_; }
  const kernels::Layout& layout() const override { return layout_; }

  void run(kernels::RunnerArgs& args) const override { gen_.fns.runner(&args); }

  void rhs(double t, const double* y, double* dy, const double* params, const double* ring,
           const std::int64_t* head) const override {
    gen_.fns.rhs(t, y, dy, params, ring, head);
  }
  bool inverse(double t, const double* y, double* out, const double* params, const double* ring,
               const std::int64_t* head) const override {
    if (!gen_.fns.inverse) return false;
    gen_.fns.inverse(t, y, out, params, ring, head);
    return true;
  }
  bool jacobian(double t, const double* y, double* J, const double* params, const double* ring,
                const std::int64_t* head) const override {
    if (!gen_.fns.jacobian) return false;
    gen_.fns.jacobian(t, y, J, params, ring, head);
    return true;
  }
  void update_aux(double t, const double* y, const double* params, double* aux_out, const double* ring,
                  const std::int64_t* head) const override {
    gen_.fns.update_aux(t, y, params, aux_out, ring, head);
  }

  bool is_jitted(std::string_view component) const override { return find(component) != nullptr; }

  // Compiled on first request per analysis signature and kept for the model's lifetime.
  std::shared_ptr<const kernels::AnalysisRunner> analysis_runner(const kernels::AnalysisSpec& spec) const override {
    auto L = kernels::analysis_layout(spec, *m_, *s_);  // ArgumentError if it does not fit
    const std::string key = L.signature();
    std::lock_guard<std::mutex> lock(analysis_mutex_);
    auto it = analysis_.find(key);
    if (it != analysis_.end()) return it->second;
    auto gen = generate_analysis_unit(*m_, *s_, L);
    auto r = std::make_shared<const JitAnalysisRunner>(std::move(L), std::move(gen));
    analysis_.emplace(key, r);
    return r;
  }

  std::vector<std::string> components() const override {
    std::vector<std::string> v;
    for (const auto& c : gen_.components) v.push_back(c.name);
    return v;
  }
  std::string signature(std::string_view component) const override {
    const auto* c = find(component);
    return c ? c->signature : std::string();
  }
  std::string source(std::string_view component) const override {
    const auto* c = find(component);
    if (c == nullptr) return {};
    std::lock_guard<std::mutex> lock(text_mutex_);
    auto it = texts_.find(c->name);
    if (it == texts_.end()) it = texts_.emplace(c->name, component_ir_text(gen_.bitcode, c->symbols)).first;
    return it->second;
  }
  std::string optimized_ir() const override { return gen_.optimized_ir; }

  std::map<std::string, std::filesystem::path> export_sources(const std::filesystem::path& dir) const override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw DynlibError("export_sources: cannot create " + dir.string() + ": " + ec.message());
    // Group by export file (events.ll holds events_pre and events_post).
    std::map<std::string, std::string> files;
    std::vector<std::string> order;
    for (const auto& c : gen_.components) {
      if (!files.count(c.file)) order.push_back(c.file);
      auto& text = files[c.file];
      text += "; dynlib JIT component '" + c.name + "' of " + model_label(*m_) + "\n; " + c.signature +
              "\n; unoptimised LLVM IR as generated from the kernel templates (O3 runs after this)\n";
      text += source(c.name);
      text += "\n";
    }
    std::map<std::string, std::filesystem::path> written;
    auto write = [&](const std::string& stem, const std::string& ext, const std::string& text) {
      auto p = dir / (stem + ext);
      std::ofstream os(p, std::ios::binary | std::ios::trunc);
      os << text;
      os.close();
      if (!os) throw DynlibError("export_sources: cannot write " + p.string());
      written[stem] = p;
    };
    for (const auto& f : order) write(f, ".ll", files[f]);
    write("model_info", ".txt", model_info());
    return written;
  }

  std::string model_info() const override {
    const auto& info = OrcEngine::instance().info();
    std::ostringstream os;
    os << "model: " << model_label(*m_) << "\n"
       << "model_hash: " << m_->hash.hex() << "\n"
       << "kind: " << (m_->kind == ir::Kind::ode ? "ode" : "map") << "\n"
       << "states: " << m_->n_states() << "\nparams: " << m_->n_params() << "\naux: " << m_->n_aux()
       << "\nevents: " << m_->events.size() << "\n"
       << "stepper: " << s_->name << " (" << s_->time_control() << ", " << s_->scheme() << ")\n"
       << "dtype: " << ir::dtype_name(dtype_) << " (kernels compute in float64)\n"
       << "unit: " << gen_.unit_name << "\n"
       << "llvm_version: " << info.llvm_version << "\n"
       << "target_triple: " << info.triple << "\n"
       << "cpu: " << info.cpu << "\n"
       << "features: " << info.features << "\n"
       << "fp: strict IEEE (no fast-math, no FP contraction), libm calls nobuiltin\n"
       << "pipeline: new pass manager O3, codegen Aggressive, ORC LLJIT (JITLink)\n"
       << "sources: unoptimised IR (as generated)\n"
       << "lazy: events_pre, events_post, guards, stepper standalone entry points are optimised and compiled on "
          "first use (the runner inlines its own copies)\n"
       << "components:\n";
    for (const auto& c : gen_.components) os << "  " << c.name << ": " << c.signature << "\n";
    const auto& t = gen_.timings;
    os << "timings_ms: build_ir=" << t.build_ir_ms << " verify=" << t.verify_ms << " optimize=" << t.optimize_ms
       << " codegen_link=" << t.codegen_link_ms << " total=" << t.total_ms << "\n";
    return os.str();
  }

  core::JitTimings timings() const override { return gen_.timings; }

  void materialize_all() const override { (void)cold(); }

  // The cold entry points, looked up (so compiled) on first use.
  const NativeFns& cold() const {
    std::lock_guard<std::mutex> lock(cold_mutex_);
    if (!cold_ready_) {
      auto& u = *gen_.unit;
      cold_.events_pre = reinterpret_cast<NativeFns::EventsFn>(u.lookup("events_pre"));
      cold_.events_post = reinterpret_cast<NativeFns::EventsFn>(u.lookup("events_post"));
      cold_.allfinite = reinterpret_cast<NativeFns::GuardFn>(u.lookup("allfinite"));
      cold_.stepper = reinterpret_cast<NativeFns::StepperFn>(u.lookup("stepper"));
      cold_ready_ = true;
    }
    return cold_;
  }

 private:
  const Component* find(std::string_view name) const {
    for (const auto& c : gen_.components)
      if (c.name == name) return &c;
    return nullptr;
  }

  std::shared_ptr<const ir::ModelIR> m_;
  const kernels::StepperInfo* s_;
  ir::DType dtype_;
  kernels::Layout layout_;
  Generated gen_;
  mutable std::mutex text_mutex_, analysis_mutex_, cold_mutex_;
  mutable NativeFns cold_;
  mutable bool cold_ready_ = false;
  mutable std::map<std::string, std::shared_ptr<const kernels::AnalysisRunner>> analysis_;
  mutable std::map<std::string, std::string> texts_;  // rendered component IR, by component
};

}  // namespace
}  // namespace dynlib::jit

extern "C" __attribute__((visibility("default"))) void dynlib_jit_create_v1(const dynlib::jit::PluginRequest* req,
                                                                            dynlib::jit::PluginResult* res) noexcept {
  using namespace dynlib;
  using jit::PluginStatus;
  auto fail = [&](PluginStatus s, const std::string& msg) {
    res->status = s;
    res->model = nullptr;
    if (res->message) *res->message = msg;
  };
  try {
    if (req == nullptr || res == nullptr) return;
    if (req->abi_version != jit::kPluginAbiVersion || req->sizeof_runner_args != sizeof(kernels::RunnerArgs)) {
      fail(PluginStatus::abi_mismatch, "plugin ABI " + std::to_string(jit::kPluginAbiVersion) + " with sizeof(RunnerArgs) " +
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
    auto gen = jit::generate_unit(*model, stepper, opts);
    res->model = new jit::JitModel(model, stepper, req->dtype, std::move(gen));
    res->status = PluginStatus::ok;
  } catch (const JitError& e) {
    fail(PluginStatus::jit_error, e.what());
  } catch (const std::exception& e) {
    fail(PluginStatus::jit_error, std::string("JIT compilation failed: ") + e.what());
  } catch (...) {
    fail(PluginStatus::other_error, "JIT compilation failed with an unknown exception");
  }
}
