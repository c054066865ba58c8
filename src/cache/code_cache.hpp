// The persistent cache of compiled code: in-process map + disk entries + cross-process locking.
// LLVM-free: payloads are opaque bytes (object files). The JIT adapter in src/jit/ fills a CacheKey,
// calls get_or_build() with a builder that compiles and returns the object file bytes, and hands the
// result to addObjectFile. See docs/cache.md.
//
// get_or_build(key, build):
//   1. in-process map (no I/O at all);
//   2. disk: <root>/jit/<family>/<stepper>/<dtype>/<triple>/<2 hex>/<digest>/ validated (header, checksum,
//      key text, metadata);
//   3. CacheLock (flock on <shard>/.<digest>.lock), re-check disk (another process may have just finished:
//      "loaded"), a corrupt entry is warned about, deleted and rebuilt once, else build() and store
//      (temp dir + fsync + rename).
// Disk problems never fail the call: they warn (CacheSettings::warn, once per message) and keep the object in
// memory. Except one: a lock wait ended by abandon_lock_waits() (the process is exiting) throws
// LockAbandoned. Exceptions thrown by build() propagate unchanged (nothing is stored).
#pragma once
#include <chrono>
#include <cstdint>
#include <dynlib/export.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache/cache_key.hpp"
#include "cache/cache_root.hpp"

namespace dynlib::cache {

struct CacheSettings {
  // Explicit root (skips config_root and the platform default). Fallbacks still apply.
  std::optional<std::filesystem::path> root;
  // The root named by the configuration, asked for on the first disk use only (so a process whose
  // lookups all have disk_cache=false reads nothing). Empty or nullopt: the platform default. May throw.
  std::function<std::optional<std::filesystem::path>()> config_root;
  std::filesystem::path fallback_root = default_fallback_root();
  // How long to wait for another live process building the same entry before building without the lock.
  // Tests shorten it with the environment variable DYNLIB_CACHE_TEST_LOCK_TIMEOUT_MS (test-only; read
  // by the CodeCache constructor).
  std::chrono::milliseconds lock_timeout{120000};
  WarningSink warn;  // where disk problems are reported (the library passes dynlib::warn)
};

enum class Origin { Memory, Disk, Built };
DYNLIB_INTERNAL_API const char* origin_name(Origin o) noexcept;  // "memory", "disk", "built"

struct LookupOptions {
  bool disk_cache = true;               // false: in-process map only; nothing is read or written on disk
  std::vector<std::string> components;  // informational, recorded in meta.toml ("rhs", ..., "runner")
};

struct CacheResult {
  std::shared_ptr<const std::string> object;  // never null on return
  Origin origin = Origin::Built;
  std::string digest;
  std::optional<std::filesystem::path> entry;  // the entry directory if it is on disk
};

struct CacheStats {
  std::uint64_t memory_hits = 0, disk_hits = 0, builds = 0, corrupt_recovered = 0, store_failures = 0;
};

class DYNLIB_INTERNAL_API CodeCache {
 public:
  using Builder = std::function<std::string()>;

  explicit CodeCache(CacheSettings settings = {});
  CodeCache(const CodeCache&) = delete;
  CodeCache& operator=(const CodeCache&) = delete;

  // See the file comment. Thread-safe; concurrent callers for one key build once.
  CacheResult get_or_build(const CacheKey& key, const Builder& build, const LookupOptions& options = {});

  // Memory, then disk (validated; a corrupt entry is warned about and deleted), never builds and never
  // waits for a lock. nullopt on a miss. For an llvm::ObjectCache-style adapter (getObject).
  std::optional<CacheResult> lookup(const CacheKey& key, const LookupOptions& options = {});
  // Same, with key_text == key.canonical_text() already computed by the caller.
  std::optional<CacheResult> lookup(const CacheKey& key, const std::string& key_text,
                                    const LookupOptions& options);
  // Stores bytes compiled elsewhere (memory, and disk under the entry lock unless disk_cache=false).
  // For notifyObjectCompiled. Returns the entry directory if it is on disk.
  std::optional<std::filesystem::path> put(const CacheKey& key, std::string object,
                                           const LookupOptions& options = {});

  // In-process lookup only (no I/O). nullptr if absent.
  std::shared_ptr<const std::string> find_in_memory(const CacheKey& key) const;

  // The disk root (resolved once, lazily, with probing and fallbacks; may warn). nullopt: memory only.
  // Never called when every lookup uses disk_cache=false, so such a process writes nothing anywhere.
  // The resolved root is kept open and rechecked on every call (HeldRoot, two system calls): one that
  // was replaced or made writable by others since is dropped (one warning; memory only from then on).
  std::optional<std::filesystem::path> disk_root();

  // Drops one key from the in-process map (e.g. its object turned out to be unloadable).
  void forget(const CacheKey& key);
  // forget(key), and deletes its disk entry (only that entry, under its lock) if there is one: for an
  // entry that passed every check but whose code cannot be loaded. "" on success, else the reason.
  std::string discard(const CacheKey& key);
  void clear_memory();
  CacheStats stats() const;

 private:
  void warn(const std::string& message) const;  // through settings_.warn, if any
  void drop_root(const std::string& why);       // root_ failed its recheck: memory only from now on
  std::shared_ptr<std::mutex> inflight_mutex(const std::string& digest);
  void remember(const std::string& digest, std::shared_ptr<const std::string> obj);
  // Fills r from the in-process map (counting a memory hit); false if r.digest is not there.
  bool take_from_memory(CacheResult& r);
  // Fills r with a payload read from the disk entry `dir`, remembers it and counts a disk hit.
  void take_from_disk(CacheResult& r, std::string payload, const std::filesystem::path& dir);
  // Writes the entry; returns false (after a warning) on failure.
  bool store(const std::filesystem::path& dir, const CacheKey& key, const std::string& key_text,
             const std::string& digest, const std::string& payload,
             const std::vector<std::string>& components);

  CacheSettings settings_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const std::string>> memory_;
  std::unordered_map<std::string, std::shared_ptr<std::mutex>> inflight_;
  CacheStats stats_;
  std::once_flag root_once_;
  std::mutex root_mu_;  // guards root_ after the first resolution
  std::optional<std::filesystem::path> root_;
  HeldRoot held_root_;
};

}  // namespace dynlib::cache
