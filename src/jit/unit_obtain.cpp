// Obtaining a unit: registry, disk cache, compile (unit_obtain.hpp).
#include "jit/unit_obtain.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "cache/cache_lock.hpp"
#include "cache/code_cache.hpp"
#include "core/cache_config.hpp"
#include "core/warnings.hpp"
#include "dynlib/errors.hpp"
#include "jit/codegen.hpp"
#include "jit/object_cache.hpp"
#include "jit/orc_engine.hpp"
#include "jit/unit_load.hpp"

namespace dynlib::jit {
namespace {

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
typename Registry<T>::Got via_disk(const cache::CacheKey& key, const std::string& digest,
                                   const std::string& variant, const std::string& sig,
                                   std::vector<std::string> components, Build&& build, Load&& load) {
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

// A unit's cache key with its canonical text and digest.
struct KeyedUnit {
  cache::CacheKey key;
  std::string text, digest;
};

// make_unit_key() and its digest cost about 50 us, most of an in-process hit, so they are remembered per
// process. The memo is keyed by every input of make_unit_key() that can differ between two calls, as the
// key itself has them: the model's IR hash AND its layout signature (hand-built IR may carry no hash,
// so the hash alone does not tell two models apart), the stepper's settings text, the dtype, the
// variant, the cache token and the fault-injection test hook; the rest (engine, tuning, build id,
// library version) is fixed for the process.
std::shared_ptr<const KeyedUnit> unit_key(const ir::ModelIR& model, const kernels::StepperInfo& stepper,
                                          ir::DType dtype, std::string_view variant, std::string_view sig,
                                          const std::string& cache_token) {
  static std::mutex mu;
  static auto* memo = new std::unordered_map<std::string, std::shared_ptr<const KeyedUnit>>;
  const char* fault = std::getenv("DYNLIB_JIT_INJECT_FAULT");
  const auto layout = kernels::compute_layout(model, stepper);
  const std::string settings = stepper_settings_text(stepper, layout.n_state);
  const std::string layout_sig = layout_signature(layout);
  std::string id = model.hash.hex();
  for (std::string_view part :
       {std::string_view(stepper.name), std::string_view(settings), std::string_view(layout_sig),
        std::string_view(ir::dtype_name(dtype)), variant, sig, std::string_view(cache_token),
        std::string_view(fault ? fault : "")}) {
    id += '\x1f';
    id += part;
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = memo->find(id); it != memo->end()) return it->second;
  }
  auto k = std::make_shared<KeyedUnit>();
  k->key = make_unit_key(model, stepper, dtype, OrcEngine::instance().info(), variant, sig, cache_token);
  k->text = k->key.canonical_text();
  k->digest = cache::xxh3_128_hex(k->text);
  std::lock_guard<std::mutex> lock(mu);
  if (memo->size() >= 4096) memo->clear();
  memo->emplace(std::move(id), k);
  return k;
}

}  // namespace

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
  const auto keyed = unit_key(model, stepper, dtype, "BASE", "", opts.cache_token);
  const cache::CacheKey& key = keyed->key;
  // A baseline-only unit must never be taken for the optimised one of the same key.
  const std::string digest = keyed->digest + (mode == TierMode::baseline_only ? "~baseline" : "");
  auto got = base_registry().get(digest, [&]() -> Registry<TieredUnit>::Got {
    auto baseline = [&] { return generate_unit(model, stepper, opts, true); };
    if (mode == TierMode::baseline_only)
      return {TieredUnit::start(baseline, nullptr), {"BASE", "", "", "built", ""}};
    // A disk hit needs no tiering (loading takes a few ms).
    if (opts.disk_cache && mode == TierMode::tiered) {
      cache::LookupOptions lo;
      lo.disk_cache = true;
      if (auto r = core::process_code_cache().lookup(key, keyed->text, lo)) {
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
    TieredUnit::Job job = [mp, &stepper, opts, keyed, digest] {
      const cache::CacheKey& key = keyed->key;
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

namespace {

// A unit of one runner function (the ANALYSIS variant, the lane runner): memory registry, then disk (with
// disk_cache), else an optimised compile (no tiering: it is made once per model and kept).
Registry<AnalysisGenerated>::Got obtain_runner_unit(
    const ir::ModelIR& model, const kernels::StepperInfo& stepper, const cache::CacheKey& key,
    const std::string& digest, const std::string& variant, const std::string& sig, const std::string& tag,
    const char* symbol, const core::JitOptions& opts, const std::function<AnalysisGenerated()>& generate) {
  return analysis_registry().get(digest, [&]() -> Registry<AnalysisGenerated>::Got {
    if (!opts.disk_cache) {
      Registry<AnalysisGenerated>::Got g;
      g.unit = std::make_shared<AnalysisGenerated>(generate());
      g.rec = {variant, sig, digest, "built", ""};
      return g;
    }
    auto build = [&](std::optional<AnalysisGenerated>& out) -> std::string {
      // Every module with this prefix is compiled from the same inputs (model hash, stepper, tag).
      const std::string prefix = "dynlib:" + model.hash.hex() + ":" + stepper.name + ":" + tag + "#";
      CaptureScope scope(prefix);
      out.emplace(generate());
      UnitPayload p;
      if (!OrcEngine::take_object_prefix(prefix, p.parts["runner.o"])) throw CaptureFailed{};
      p.parts["bitcode"] = out->bitcode;
      return p.encode();
    };
    return via_disk<AnalysisGenerated>(
        key, digest, variant, sig, {symbol}, build,
        [&](const std::string& payload) { return load_analysis(payload, model, stepper, digest, symbol); });
  });
}

}  // namespace

Registry<AnalysisGenerated>::Got obtain_analysis(const ir::ModelIR& model,
                                                 const kernels::StepperInfo& stepper, ir::DType dtype,
                                                 const kernels::AnalysisLayout& L,
                                                 const core::JitOptions& opts) {
  const std::string sig = L.signature();
  const auto keyed = unit_key(model, stepper, dtype, "ANALYSIS", sig, opts.cache_token);
  return obtain_runner_unit(model, stepper, keyed->key, keyed->digest, "ANALYSIS", sig,
                            "analysis[" + sig + "]", "runner_analysis", opts,
                            [&] { return generate_analysis_unit(model, stepper, L); });
}

Registry<AnalysisGenerated>::Got obtain_lanes(const ir::ModelIR& model, const kernels::StepperInfo& stepper,
                                              ir::DType dtype, const core::JitOptions& opts) {
  const auto keyed = unit_key(model, stepper, dtype, "LANES4", "", opts.cache_token);
  return obtain_runner_unit(model, stepper, keyed->key, keyed->digest, "LANES4", "", "lanes4", "runner_lanes",
                            opts, [&] { return generate_lane_unit(model, stepper); });
}

}  // namespace dynlib::jit
