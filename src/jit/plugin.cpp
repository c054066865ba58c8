// The JIT component's entry point (extern "C" factory) and the CompiledModel it returns.
// No LLVM header here: code generation lives in codegen.cpp / llvm_backend.cpp, the ORC JIT in
// orc_engine.cpp. Every C++ exception is caught here and turned into a PluginResult, so nothing
// crosses the C boundary (and nothing is ever thrown through LLVM frames: LLVM calls none of our code).
//
// Caching (docs/jit.md "Caching compiled code", object_cache.hpp): every unit has a cache key. A process
// keeps each linked unit in a registry by digest, so a second setup() of the same key links nothing
// ("memory"). With disk_cache the unit's object files go through cache::CodeCache: a hit is loaded with
// addObjectFile ("disk": no IR, no O3, no codegen); a miss compiles with object capture on, forces the
// cold module, and stores hot.o + cold.o + the unoptimised bitcode ("built").
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "cache/cache_lock.hpp"
#include "cache/code_cache.hpp"
#include "cache/entry_file.hpp"
#include "core/cache_config.hpp"
#include "core/warnings.hpp"
#include "dynlib/errors.hpp"
#include "jit/codegen.hpp"
#include "jit/object_cache.hpp"
#include "jit/orc_engine.hpp"
#include "jit/tiered_unit.hpp"
#include "kernels/compiled_model.hpp"
#include "plugin_abi/plugin_abi.hpp"

namespace dynlib::jit {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// The cache could not capture the object files of a unit it just compiled (not an error: the unit is
// used, just not stored).
struct CaptureFailed {};

// Begin/end of object capture for one module-identifier prefix (RAII).
struct CaptureScope {
  std::string prefix;
  explicit CaptureScope(std::string p) : prefix(std::move(p)) { OrcEngine::begin_capture(prefix); }
  ~CaptureScope() { OrcEngine::end_capture(prefix); }
  CaptureScope(const CaptureScope&) = delete;
  CaptureScope& operator=(const CaptureScope&) = delete;
};

// Testing hook (tests/cache): DYNLIB_JIT_CACHE_TEST_HOLD_MS=<ms> makes a disk-cache build print
// "building" on stdout and sleep while it holds the entry lock (so a test can kill it there).
void test_hold() {
  const char* h = std::getenv("DYNLIB_JIT_CACHE_TEST_HOLD_MS");
  if (h == nullptr || *h == '\0') return;
  std::printf("building\n");
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::milliseconds(std::atoll(h)));
}

// Process-wide registry of linked units by key digest. Entries live until process exit (like the
// engine); concurrent requests for one digest link it once.
template <class T>
class Registry {
 public:
  struct Got {
    std::shared_ptr<T> unit;
    core::JitCacheRecord rec;
  };
  // make() -> Got (origin/entry filled); called at most once per digest at a time.
  template <class Make>
  Got get(const std::string& digest, Make&& make) {
    std::shared_ptr<std::mutex> inflight;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = units_.find(digest); it != units_.end()) return memory_hit(it->second);
      auto& m = inflight_[digest];
      if (!m) m = std::make_shared<std::mutex>();
      inflight = m;
    }
    std::lock_guard<std::mutex> one(*inflight);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = units_.find(digest); it != units_.end()) return memory_hit(it->second);
    }
    Got g = make();
    std::lock_guard<std::mutex> lock(mu_);
    units_[digest] = {g.unit, g.rec};
    return g;
  }

  // Drops a unit (a later get() builds it again); its holders keep it.
  void forget(const std::string& digest) {
    std::lock_guard<std::mutex> lock(mu_);
    units_.erase(digest);
  }

 private:
  struct Stored {
    std::shared_ptr<T> unit;
    core::JitCacheRecord rec;
  };
  static Got memory_hit(const Stored& s) {
    Got g{s.unit, s.rec};
    g.rec.origin = "memory";
    return g;
  }
  std::mutex mu_;
  std::map<std::string, Stored> units_;
  std::map<std::string, std::shared_ptr<std::mutex>> inflight_;
};

Registry<TieredUnit>& base_registry() {
  static auto* r = new Registry<TieredUnit>();  // never destroyed (code may run until exit)
  return *r;
}
Registry<AnalysisGenerated>& analysis_registry() {
  static auto* r = new Registry<AnalysisGenerated>();
  return *r;
}

std::string pack_components(const std::vector<Component>& cs) {
  std::vector<std::string> items;
  for (const auto& c : cs) items.push_back(pack_strings({c.name, c.file, c.signature, pack_strings(c.symbols)}));
  return pack_strings(items);
}

std::vector<Component> unpack_components(const std::string& bytes) {
  std::vector<std::string> items;
  if (!unpack_strings(bytes, items)) throw JitError("cached unit: bad component table");
  std::vector<Component> out;
  for (const auto& it : items) {
    std::vector<std::string> f;
    if (!unpack_strings(it, f) || f.size() != 4) throw JitError("cached unit: bad component record");
    Component c;
    c.name = f[0];
    c.file = f[1];
    c.signature = f[2];
    if (!unpack_strings(f[3], c.symbols)) throw JitError("cached unit: bad component symbols");
    out.push_back(std::move(c));
  }
  return out;
}

const std::string& part(const UnitPayload& p, const char* name) {
  auto it = p.parts.find(name);
  if (it == p.parts.end()) throw JitError(std::string("cached unit: no part '") + name + "'");
  return it->second;
}

// A unit from its cached objects: no IR, no optimisation, no codegen; JITLink links on first lookup.
Generated load_unit(const std::string& payload, const ir::ModelIR& model, const kernels::StepperInfo& stepper,
                    const std::string& digest) {
  const auto t0 = Clock::now();
  UnitPayload p;
  if (std::string e = p.decode(payload); !e.empty()) throw JitError("cached unit: " + e);
  Generated g;
  g.unit_name = "dynlib:" + model.hash.hex() + ":" + stepper.name + ":cached-" + digest.substr(0, 12);
  g.components = unpack_components(part(p, "components"));
  g.bitcode = part(p, "bitcode");
  g.unit = OrcEngine::instance().create_unit(g.unit_name);
  g.unit->add_object_bytes(part(p, "hot.o"), g.unit_name + ":hot.o");
  g.unit->add_object_bytes(part(p, "cold.o"), g.unit_name + ":cold.o");
  auto& u = *g.unit;
  auto& F = g.fns;
  F.rhs = reinterpret_cast<NativeFns::BlockFn>(u.lookup("rhs"));
  F.update_aux = reinterpret_cast<NativeFns::AuxFn>(u.lookup("update_aux"));
  if (model.exact_jacobian()) F.jacobian = reinterpret_cast<NativeFns::BlockFn>(u.lookup("jacobian"));
  if (model.inverse) F.inverse = reinterpret_cast<NativeFns::BlockFn>(u.lookup("inverse"));
  F.runner = reinterpret_cast<NativeFns::RunnerFn>(u.lookup("runner"));
  g.timings.codegen_link_ms = g.timings.total_ms = ms_since(t0);
  return g;
}

AnalysisGenerated load_analysis(const std::string& payload, const ir::ModelIR& model,
                                const kernels::StepperInfo& stepper, const std::string& digest) {
  const auto t0 = Clock::now();
  UnitPayload p;
  if (std::string e = p.decode(payload); !e.empty()) throw JitError("cached unit: " + e);
  AnalysisGenerated g;
  const std::string name = "dynlib:" + model.hash.hex() + ":" + stepper.name + ":analysis-cached-" + digest.substr(0, 12);
  g.bitcode = part(p, "bitcode");
  g.unit = OrcEngine::instance().create_unit(name);
  g.unit->add_object_bytes(part(p, "runner.o"), name + ":runner.o");
  g.runner = reinterpret_cast<NativeFns::RunnerFn>(g.unit->lookup("runner_analysis"));
  g.timings.codegen_link_ms = g.timings.total_ms = ms_since(t0);
  return g;
}

// A cache entry passed every check but its code cannot be loaded: deleted (only this entry), so the
// rebuild can store a good one.
void discard_unloadable(const cache::CacheKey& key, const std::optional<std::filesystem::path>& entry,
                        const std::string& why) {
  const std::string where = entry ? entry->string() : "of digest " + key.digest();
  warn("dynlib cache entry " + where + " cannot be loaded (" + why + "); deleting it and rebuilding");
  if (std::string e = core::process_code_cache().discard(key); !e.empty()) warn("dynlib disk cache: " + e);
}

// Disk path shared by both unit kinds: CodeCache::get_or_build with a capturing builder; a loaded entry
// that cannot be linked is warned about, deleted and rebuilt once (never used).
template <class T, class Build, class Load>
typename Registry<T>::Got via_disk(const cache::CacheKey& key, const std::string& digest, const std::string& variant,
                                   const std::string& sig, std::vector<std::string> components, Build&& build,
                                   Load&& load) {
  typename Registry<T>::Got got;
  got.rec.variant = variant;
  got.rec.analysis_sig = sig;
  got.rec.digest = digest;
  cache::LookupOptions lo;
  lo.disk_cache = true;
  lo.components = std::move(components);
  for (int attempt = 0;; ++attempt) {
    std::optional<T> built;
    cache::CacheResult r;
    try {
      r = core::process_code_cache().get_or_build(
          key,
          [&] {
            test_hold();
            return build(built);
          },
          lo);
    } catch (const CaptureFailed&) {
      cache::warn_once(dynlib::warn,
                       "dynlib JIT cache: the object code of a unit could not be captured; it is not cached");
      got.unit = std::make_shared<T>(std::move(*built));
      got.rec.origin = "built";
      return got;
    }
    if (r.origin == cache::Origin::Built) {
      got.unit = std::make_shared<T>(std::move(*built));
      got.rec.origin = "built";
      if (r.entry) got.rec.entry = r.entry->string();
      return got;
    }
    try {
      got.unit = std::make_shared<T>(load(*r.object));
      got.rec.origin = "disk";
      if (r.entry) got.rec.entry = r.entry->string();
      return got;
    } catch (const std::exception& e) {
      if (attempt > 0) {
        core::process_code_cache().forget(key);
        throw JitError(std::string("JIT cache: a freshly stored unit cannot be loaded: ") + e.what());
      }
      discard_unloadable(key, r.entry, e.what());
    }
  }
}

// DYNLIB_JIT_TIER=tiered|optimized|baseline (default: JitOptions::tiered). "baseline" never optimises
// (diagnosis, and the parity test of baseline code); nothing is then stored on disk.
enum class TierMode { tiered, optimized, baseline_only };
TierMode tier_mode(const core::JitOptions& opts) {
  const char* e = std::getenv("DYNLIB_JIT_TIER");
  const std::string v = e != nullptr ? e : "";
  if (v == "baseline") return TierMode::baseline_only;
  if (v == "optimized") return TierMode::optimized;
  if (v == "tiered") return TierMode::tiered;
  return opts.tiered ? TierMode::tiered : TierMode::optimized;
}

// The optimised BASE unit: compiled, or through the disk cache (which may also hold it already).
TieredUnit::Optimized optimized_unit(const std::shared_ptr<const ir::ModelIR>& mp,
                                     const kernels::StepperInfo& stepper, const core::JitOptions& opts,
                                     const cache::CacheKey& key, const std::string& digest) {
  const ir::ModelIR& model = *mp;
  if (!opts.disk_cache)
    return {std::make_shared<Generated>(generate_unit(model, stepper, opts)),
            {"BASE", "", digest, "built", ""}};
  auto build = [&](std::optional<Generated>& out) -> std::string {
    CaptureScope scope("dynlib:" + model.hash.hex() + ":" + stepper.name + "#");
    out.emplace(generate_unit(model, stepper, opts));
    for (const char* sym : kColdSymbols) (void)out->unit->lookup(sym);  // compile the cold module now
    UnitPayload p;
    if (!OrcEngine::take_object(out->unit_name, p.parts["hot.o"]) ||
        !OrcEngine::take_object(out->unit_name + ":cold", p.parts["cold.o"]))
      throw CaptureFailed{};
    p.parts["bitcode"] = out->bitcode;
    p.parts["components"] = pack_components(out->components);
    return p.encode();
  };
  std::vector<std::string> comps;
  // Component names only need the model and stepper: known before compiling.
  for (const char* c : {"rhs", "events_pre", "events_post", "update_aux", "jacobian", "inverse", "guards",
                        "stepper", "runner"}) {
    const std::string n = c;
    if ((n == "jacobian" && !model.exact_jacobian()) || (n == "inverse" && !model.inverse)) continue;
    comps.push_back(n);
  }
  auto got = via_disk<Generated>(
      key, digest, "BASE", "", std::move(comps), build,
      [&](const std::string& payload) { return load_unit(payload, model, stepper, digest); });
  return {std::move(got.unit), std::move(got.rec)};
}

// The BASE unit of (model, stepper, dtype): memory registry, then disk (with disk_cache), else compile:
// tiered (a baseline now, the optimised unit in the background) unless tiering is off.
Registry<TieredUnit>::Got obtain_unit(const std::shared_ptr<const ir::ModelIR>& mp,
                                      const kernels::StepperInfo& stepper, ir::DType dtype,
                                      const core::JitOptions& opts) {
  const ir::ModelIR& model = *mp;
  const TierMode mode = tier_mode(opts);
  if (opts.keep_optimized_ir) {  // the optimised IR text only exists for a fresh compile: bypass the caches
    Registry<TieredUnit>::Got g;
    g.unit = std::make_shared<TieredUnit>(std::make_shared<Generated>(generate_unit(model, stepper, opts)));
    g.rec = {"BASE", "", "", "built", ""};
    return g;
  }
  OrcEngine& engine = OrcEngine::instance();
  const cache::CacheKey key = make_unit_key(model, stepper, dtype, engine.info(), "BASE", "", opts.cache_token);
  // A baseline-only unit must never be taken for the optimised one of the same key.
  const std::string digest = key.digest() + (mode == TierMode::baseline_only ? "~baseline" : "");
  auto got = base_registry().get(digest, [&]() -> Registry<TieredUnit>::Got {
    auto baseline = [&] { return generate_unit(model, stepper, opts, true); };
    if (mode == TierMode::baseline_only)
      return {TieredUnit::start(baseline, nullptr), {"BASE", "", "", "built", ""}};
    // A disk hit needs no tiering (loading takes a few ms).
    if (opts.disk_cache && mode == TierMode::tiered) {
      cache::LookupOptions lo;
      lo.disk_cache = true;
      if (auto r = core::process_code_cache().lookup(key, lo)) {
        try {
          Registry<TieredUnit>::Got g;
          g.unit = std::make_shared<TieredUnit>(
              std::make_shared<Generated>(load_unit(*r->object, model, stepper, digest)));
          g.rec = {"BASE", "", digest, cache::origin_name(r->origin), r->entry ? r->entry->string() : ""};
          return g;
        } catch (const std::exception& e) {
          discard_unloadable(key, r->entry, e.what());  // then built below like a miss
        }
      }
    }
    if (mode == TierMode::optimized) {
      auto o = optimized_unit(mp, stepper, opts, key, digest);
      return {std::make_shared<TieredUnit>(std::move(o.gen)), std::move(o.rec)};
    }
    TieredUnit::Job job = [mp, &stepper, opts, key, digest] {
      // A failed unit leaves the registry, so a later setup() compiles again (the failure may have been
      // transient); the JitModels already holding it report the error.
      try {
        return optimized_unit(mp, stepper, opts, key, digest);
      } catch (const cache::LockAbandoned&) {
        base_registry().forget(digest);  // a later setup() tries again
        throw;
      } catch (const JitError&) {
        base_registry().forget(digest);
        throw;
      } catch (const std::exception& e) {
        base_registry().forget(digest);
        throw JitError("JIT: the optimising compile of model " + model_label(*mp) + " failed: " + e.what());
      }
    };
    return {TieredUnit::start(baseline, std::move(job)), {"BASE", "", digest, "built", ""}};
  });
  if (mode == TierMode::optimized) got.unit->wait();  // e.g. a memory hit on a unit still being optimised
  return got;
}

Registry<AnalysisGenerated>::Got obtain_analysis(const ir::ModelIR& model, const kernels::StepperInfo& stepper,
                                                 ir::DType dtype, const kernels::AnalysisLayout& L,
                                                 const core::JitOptions& opts) {
  OrcEngine& engine = OrcEngine::instance();
  const std::string sig = L.signature();
  const cache::CacheKey key = make_unit_key(model, stepper, dtype, engine.info(), "ANALYSIS", sig, opts.cache_token);
  const std::string digest = key.digest();
  return analysis_registry().get(digest, [&]() -> Registry<AnalysisGenerated>::Got {
    if (!opts.disk_cache) {
      Registry<AnalysisGenerated>::Got g;
      g.unit = std::make_shared<AnalysisGenerated>(generate_analysis_unit(model, stepper, L));
      g.rec = {"ANALYSIS", sig, digest, "built", ""};
      return g;
    }
    auto build = [&](std::optional<AnalysisGenerated>& out) -> std::string {
      // Every module with this prefix is compiled from the same inputs (model hash, stepper, signature).
      const std::string prefix = "dynlib:" + model.hash.hex() + ":" + stepper.name + ":analysis[" + sig + "]#";
      CaptureScope scope(prefix);
      out.emplace(generate_analysis_unit(model, stepper, L));
      UnitPayload p;
      if (!OrcEngine::take_object_prefix(prefix, p.parts["runner.o"])) throw CaptureFailed{};
      p.parts["bitcode"] = out->bitcode;
      return p.encode();
    };
    return via_disk<AnalysisGenerated>(
        key, digest, "ANALYSIS", sig, {"runner_analysis"}, build,
        [&](const std::string& payload) { return load_analysis(payload, model, stepper, digest); });
  });
}

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
  std::shared_ptr<const kernels::AnalysisRunner> analysis_runner(const kernels::AnalysisSpec& spec) const override {
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

  std::map<std::string, std::filesystem::path> export_sources(const std::filesystem::path& dir) const override {
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
  mutable std::map<std::string, std::string> texts_;  // rendered component IR, by component
};

}  // namespace
}  // namespace dynlib::jit

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
    res->model = new jit::JitModel(model, stepper, req->dtype, opts, std::move(got));
    res->status = PluginStatus::ok;
  } catch (const JitError& e) {
    fail(PluginStatus::jit_error, e.what());
  } catch (const std::exception& e) {
    fail(PluginStatus::jit_error, std::string("JIT compilation failed: ") + e.what());
  } catch (...) {
    fail(PluginStatus::other_error, "JIT compilation failed with an unknown exception");
  }
}
