// The process-wide registries of linked units, by cache key digest: a second setup() of the same key
// links nothing ("memory"). No LLVM header here.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/jit_loader.hpp"
#include "jit/codegen.hpp"
#include "jit/tiered_unit.hpp"

namespace dynlib::jit {

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

// The BASE units (tiered) and the ANALYSIS runners of this process; never destroyed.
Registry<TieredUnit>& base_registry();
Registry<AnalysisGenerated>& analysis_registry();

}  // namespace dynlib::jit
