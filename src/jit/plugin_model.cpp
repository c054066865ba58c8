// The CompiledModel the JIT component returns (plugin_model.hpp).
#include "jit/plugin_model.hpp"

#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>

#include "dynlib/errors.hpp"
#include "jit/codegen.hpp"
#include "jit/orc_engine.hpp"
#include "jit/unit_obtain.hpp"
#include "kernels/compiled_model.hpp"
#include "util/output_file.hpp"

namespace dynlib::jit {
namespace {

// The ANALYSIS runner of one observer spec, compiled as its own unit (shared across the process).
class JitAnalysisRunner final : public kernels::AnalysisRunner {
 public:
  JitAnalysisRunner(kernels::AnalysisLayout L, std::shared_ptr<AnalysisGenerated> gen)
      : L_(std::move(L)), gen_(std::move(gen)) {}
  const kernels::AnalysisLayout& layout() const override { return L_; }
  void run(kernels::RunnerArgs& args) const override { gen_->runner(&args); }
  bool is_jitted() const override { return true; }
  const std::string& bitcode() const { return gen_->bitcode; }

 private:
  kernels::AnalysisLayout L_;
  std::shared_ptr<AnalysisGenerated> gen_;
};

// The lane runner, compiled as its own unit (shared across the process).
class JitLaneRunner final : public kernels::LaneRunner {
 public:
  explicit JitLaneRunner(std::shared_ptr<AnalysisGenerated> gen) : gen_(std::move(gen)) {}
  void run(kernels::LaneRunnerArgs& args) const override {
    reinterpret_cast<void (*)(kernels::LaneRunnerArgs*)>(gen_->runner)(&args);
  }

 private:
  std::shared_ptr<AnalysisGenerated> gen_;
};

class JitModel final : public core::JitCompiledModel {
 public:
  JitModel(std::shared_ptr<const ir::ModelIR> m, const kernels::StepperInfo& s, ir::DType dtype,
           const core::JitOptions& opts, Registry<TieredUnit>::Got got)
      : m_(std::move(m)),
        s_(&s),
        dtype_(dtype),
        opts_(opts),
        layout_(kernels::compute_layout(*m_, s)),
        unit_(std::move(got.unit)),
        records_{std::move(got.rec)} {}

  // Waits for a pending optimising compile of the unit (TieredUnit::wait_done says why).
  ~JitModel() override { unit_->wait_done(); }

  const ir::ModelIR& model() const override { return *m_; }
  const kernels::StepperInfo& stepper() const override { return *s_; }
  const kernels::Layout& layout() const override { return layout_; }

  // Throws the JitError of a failed optimising compile (tiered compilation) before running anything.
  void run(kernels::RunnerArgs& args) const override { unit_->run(args); }

  void rhs(double t, const double* y, double* dy, const double* params, const double* ring,
           const std::int64_t* head) const override {
    gen().fns.rhs(t, y, dy, params, ring, head);
  }
  bool inverse(double t, const double* y, double* out, const double* params, const double* ring,
               const std::int64_t* head) const override {
    const auto& g = gen();
    if (!g.fns.inverse) return false;
    g.fns.inverse(t, y, out, params, ring, head);
    return true;
  }
  bool jacobian(double t, const double* y, double* J, const double* params, const double* ring,
                const std::int64_t* head) const override {
    const auto& g = gen();
    auto fn = g.fns.jacobian;
    if (fn == nullptr && g.jacobian_cold) fn = cold().jacobian;  // compiles the cold module
    if (fn == nullptr) return false;
    fn(t, y, J, params, ring, head);
    return true;
  }
  void update_aux(double t, const double* y, const double* params, double* aux_out, const double* ring,
                  const std::int64_t* head) const override {
    gen().fns.update_aux(t, y, params, aux_out, ring, head);
  }

  bool is_jitted(std::string_view component) const override { return find(component) != nullptr; }

  // Compiled on first request per analysis signature and kept for the model's lifetime.
  std::shared_ptr<const kernels::AnalysisRunner> analysis_runner(
      const kernels::AnalysisSpec& spec) const override {
    auto L = kernels::analysis_layout(spec, *m_, *s_);  // ArgumentError if it does not fit
    const std::string key = L.signature();
    std::lock_guard<std::mutex> lock(analysis_mutex_);
    auto it = analysis_.find(key);
    if (it != analysis_.end()) return it->second;
    auto got = obtain_analysis(*m_, *s_, dtype_, L, opts_);
    auto r = std::make_shared<const JitAnalysisRunner>(std::move(L), std::move(got.unit));
    analysis_.emplace(key, r);
    records_.push_back(std::move(got.rec));
    return r;
  }

  // Compiled on first request and kept for the model's lifetime; null if the model/stepper do not run
  // in lanes.
  std::shared_ptr<const kernels::LaneRunner> lane_runner() const override {
    if (!kernels::lanes_supported(*m_, *s_)) return nullptr;
    std::lock_guard<std::mutex> lock(analysis_mutex_);
    if (!lanes_) {
      auto got = obtain_lanes(*m_, *s_, dtype_, opts_);
      lanes_ = std::make_shared<const JitLaneRunner>(std::move(got.unit));
      records_.push_back(std::move(got.rec));
    }
    return lanes_;
  }

  std::vector<std::string> components() const override {
    std::vector<std::string> v;
    for (const auto& c : gen().components) v.push_back(c.name);
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
    if (it == texts_.end()) it = texts_.emplace(c->name, component_ir_text(gen().bitcode, c->symbols)).first;
    return it->second;
  }
  std::string optimized_ir() const override { return gen().optimized_ir; }

  std::map<std::string, std::filesystem::path> export_sources(
      const std::filesystem::path& dir) const override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw DynlibError("export_sources: cannot create " + dir.string() + ": " + ec.message());
    // Group by export file (events.ll holds events_pre and events_post).
    std::map<std::string, std::string> files;
    std::vector<std::string> order;
    for (const auto& c : gen().components) {
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
      try {
        util::write_output_file(p, text);  // temp file + rename: a failed write leaves no half file
      } catch (const util::FileWriteError& e) {
        throw DynlibError(std::string("export_sources: cannot write ") + e.what());
      }
      written[stem] = p;
    };
    for (const auto& f : order) write(f, ".ll", files[f]);
    write("model_info", ".txt", model_info());
    return written;
  }

  std::string model_info() const override {
    const auto& info = OrcEngine::instance().info();
    const core::JitCacheRecord base = cache_records().front();
    std::ostringstream os;
    os << "model: " << model_label(*m_) << "\n"
       << "model_hash: " << m_->hash.hex() << "\n"
       << "kind: " << (m_->kind == ir::Kind::ode ? "ode" : "map") << "\n"
       << "states: " << m_->n_states() << "\nparams: " << m_->n_params() << "\naux: " << m_->n_aux()
       << "\nevents: " << m_->events.size() << "\n"
       << "stepper: " << s_->name << " (" << s_->time_control() << ", " << s_->scheme() << ")\n"
       << "dtype: " << ir::dtype_name(dtype_) << " (kernels compute in float64)\n"
       << "unit: " << gen().unit_name << "\n"
       << "tier: " << tier_text() << "\n"
       << "cache: " << base.origin << (base.digest.empty() ? "" : " digest " + base.digest)
       << (opts_.disk_cache ? " (disk_cache)" : " (memory only)") << "\n"
       << "llvm_version: " << info.llvm_version << "\n"
       << "target_triple: " << info.triple << "\n"
       << "cpu: " << info.cpu << "\n"
       << "features: " << info.features << "\n"
       << "fp: strict IEEE (no fast-math, no FP contraction), libm calls nobuiltin\n"
       << "pipeline: optimised: new pass manager (lean pipeline, or O3 with runtime state loops), codegen "
          "Aggressive; baseline: O0 (always-inline), codegen None; ORC LLJIT (JITLink)\n"
       << "sources: unoptimised IR (as generated)\n"
       << "lazy: events_pre, events_post, guards, stepper standalone entry points are optimised and compiled "
          "on "
          "first use (the runner inlines its own copies)\n"
       << "components:\n";
    const auto& g = gen();
    for (const auto& c : g.components) os << "  " << c.name << ": " << c.signature << "\n";
    auto line = [&](const char* name, const core::JitTimings& t) {
      os << name << ": build_ir=" << t.build_ir_ms << " verify=" << t.verify_ms
         << " optimize=" << t.optimize_ms << " codegen_link=" << t.codegen_link_ms << " total=" << t.total_ms
         << "\n";
    };
    line("timings_ms", g.timings);  // of the code in use
    if (const auto* b = unit_->baseline(); b != nullptr) line("baseline_timings_ms", b->timings);
    return os.str();
  }

  // The compile timings of the code in use (the baseline's until the optimised code replaces it).
  core::JitTimings timings() const override { return gen().timings; }

  std::string tier() const override { return unit_->optimized() ? "optimized" : "baseline"; }
  void wait_optimized() const override { unit_->wait(); }

  std::string cache_origin() const override { return cache_records().front().origin; }
  std::vector<core::JitCacheRecord> cache_records() const override {
    std::vector<core::JitCacheRecord> out;
    {
      std::lock_guard<std::mutex> lock(analysis_mutex_);
      out = records_;
    }
    // Tiered compilation: once the optimised unit is there, say where it came from ("built" here, or
    // "disk" when another process stored it first) and its disk entry.
    if (auto r = unit_->optimized_record(); r && out.front().origin == "built") {
      out.front().origin = r->origin;
      out.front().entry = r->entry;
    }
    return out;
  }

  void materialize_all() const override { (void)cold(); }

  // The cold entry points of the unit in use, looked up (so compiled) on first use.
  NativeFns cold() const {
    const Generated& g = gen();
    std::lock_guard<std::mutex> lock(cold_mutex_);
    if (cold_from_ != &g) {
      auto& u = *g.unit;
      cold_.events_pre = reinterpret_cast<NativeFns::EventsFn>(u.lookup("events_pre"));
      cold_.events_post = reinterpret_cast<NativeFns::EventsFn>(u.lookup("events_post"));
      cold_.allfinite = reinterpret_cast<NativeFns::GuardFn>(u.lookup("allfinite"));
      cold_.stepper = reinterpret_cast<NativeFns::StepperFn>(u.lookup("stepper"));
      if (g.jacobian_cold) cold_.jacobian = reinterpret_cast<NativeFns::BlockFn>(u.lookup("jacobian"));
      cold_from_ = &g;
    }
    return cold_;
  }

 private:
  const Generated& gen() const noexcept { return unit_->current(); }

  std::string tier_text() const {
    if (unit_->baseline() == nullptr) return "optimized";
    std::string t = unit_->optimized()
                        ? "optimized (tiered: baseline replaced after " +
                              std::to_string(static_cast<long long>(unit_->tier_up_ms())) + " ms)"
                        : "baseline (the optimised code is being compiled)";
    return t + "; runs switched mid-run: " + std::to_string(unit_->switched_runs());
  }

  const Component* find(std::string_view name) const {
    for (const auto& c : gen().components)
      if (c.name == name) return &c;
    return nullptr;
  }

  std::shared_ptr<const ir::ModelIR> m_;
  const kernels::StepperInfo* s_;
  ir::DType dtype_;
  core::JitOptions opts_;
  kernels::Layout layout_;
  std::shared_ptr<TieredUnit> unit_;  // shared with every JitModel of the same key in this process
  mutable std::vector<core::JitCacheRecord> records_;  // BASE first; guarded by analysis_mutex_
  mutable std::mutex text_mutex_, analysis_mutex_, cold_mutex_;
  mutable NativeFns cold_;
  mutable const Generated* cold_from_ = nullptr;  // the unit cold_ was looked up in
  mutable std::map<std::string, std::shared_ptr<const kernels::AnalysisRunner>> analysis_;
  mutable std::shared_ptr<const kernels::LaneRunner> lanes_;  // guarded by analysis_mutex_
  mutable std::map<std::string, std::string> texts_;          // rendered component IR, by component
};

}  // namespace

core::JitCompiledModel* new_jit_model(std::shared_ptr<const ir::ModelIR> m, const kernels::StepperInfo& s,
                                      ir::DType dtype, const core::JitOptions& opts,
                                      Registry<TieredUnit>::Got got) {
  return new JitModel(std::move(m), s, dtype, opts, std::move(got));
}

}  // namespace dynlib::jit
