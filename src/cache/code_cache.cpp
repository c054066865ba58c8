#include "cache/code_cache.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dynlib/errors.hpp>
#include <system_error>

#include "cache/cache_lock.hpp"
#include "cache/entry_file.hpp"

namespace dynlib::cache {
namespace fs = std::filesystem;

const char* origin_name(Origin o) noexcept {
  switch (o) {
    case Origin::Memory:
      return "memory";
    case Origin::Disk:
      return "disk";
    case Origin::Built:
      return "built";
  }
  return "built";
}

CodeCache::CodeCache(CacheSettings settings) : settings_(std::move(settings)) {
  if (const char* t = std::getenv("DYNLIB_CACHE_TEST_LOCK_TIMEOUT_MS"); t != nullptr && *t != '\0')
    settings_.lock_timeout = std::chrono::milliseconds(std::atoll(t));
}

void CodeCache::warn(const std::string& message) const {
  if (settings_.warn) settings_.warn(message);
}

std::optional<fs::path> CodeCache::disk_root() {
  std::call_once(root_once_, [this] {
    RootOptions o;
    o.configured = settings_.root;
    if (!o.configured && settings_.config_root) o.config_root = settings_.config_root();
    o.fallback = settings_.fallback_root;
    o.warn = settings_.warn;
    root_ = resolve_cache_root(o).path;
    if (root_)
      if (std::string bad = held_root_.open(*root_); !bad.empty()) drop_root(bad);
  });
  std::lock_guard<std::mutex> lock(root_mu_);
  if (root_)
    if (std::string bad = held_root_.recheck(); !bad.empty()) drop_root(bad);
  return root_;
}

void CodeCache::drop_root(const std::string& why) {
  warn_once(settings_.warn, "dynlib cache root " + root_->string() + " is no longer used: " + why +
                                "; keeping compiled code in memory only");
  root_.reset();
}

std::shared_ptr<const std::string> CodeCache::find_in_memory(const CacheKey& key) const {
  const std::string digest = key.digest();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = memory_.find(digest);
  return it == memory_.end() ? nullptr : it->second;
}

bool CodeCache::take_from_memory(CacheResult& r) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = memory_.find(r.digest);
  if (it == memory_.end()) return false;
  ++stats_.memory_hits;
  r.object = it->second;
  r.origin = Origin::Memory;
  return true;
}

void CodeCache::take_from_disk(CacheResult& r, std::string payload, const fs::path& dir) {
  r.object = std::make_shared<const std::string>(std::move(payload));
  r.origin = Origin::Disk;
  r.entry = dir;
  remember(r.digest, r.object);
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.disk_hits;
}

void CodeCache::forget(const CacheKey& key) {
  const std::string digest = key.digest();
  std::lock_guard<std::mutex> lock(mu_);
  memory_.erase(digest);
}

void CodeCache::clear_memory() {
  std::lock_guard<std::mutex> lock(mu_);
  memory_.clear();
}

std::string CodeCache::discard(const CacheKey& key) {
  forget(key);
  const std::optional<fs::path> root = disk_root();
  if (!root) return {};
  const std::string digest = key.digest();
  const fs::path dir = entry_dir(*root, key, digest);
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec))) return {};
  std::optional<CacheLock> lock;
  try {
    lock.emplace(dir.parent_path() / ("." + digest + ".lock"), settings_.lock_timeout, settings_.warn);
  } catch (const LockAbandoned&) {
    throw;
  } catch (const CacheError&) {
    // Deleting without the lock is safe too: the rename makes the entry vanish at once.
  }
  return remove_entry_dir(dir);
}

CacheStats CodeCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

std::shared_ptr<std::mutex> CodeCache::inflight_mutex(const std::string& digest) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& m = inflight_[digest];
  if (!m) m = std::make_shared<std::mutex>();
  return m;
}

void CodeCache::remember(const std::string& digest, std::shared_ptr<const std::string> obj) {
  std::lock_guard<std::mutex> lock(mu_);
  memory_[digest] = std::move(obj);
}

bool CodeCache::store(const fs::path& dir, const CacheKey& key, const std::string& key_text,
                      const std::string& digest, const std::string& payload,
                      const std::vector<std::string>& components) {
  const fs::path shard = dir.parent_path();
  const fs::path tmp = shard / ("." + digest + ".tmp-" + random_hex(8));
  std::error_code ec;
  remove_stale_leftovers(shard, kLeftoverGracePeriod);  // of writers killed mid-write
  try {
    const std::string entry = encode_entry(key_text, payload);
    if (!fs::create_directory(tmp, ec) || ec)
      throw CacheError("cannot create " + tmp.string() + ": " + (ec ? ec.message() : "exists"));
    write_file_durable(tmp / kEntryFileName, entry);
    write_file_durable(tmp / kMetaFileName,
                       make_meta_text(key, digest, payload.size(), entry.size(), components));
    fsync_dir(tmp);
    if (std::rename(tmp.c_str(), dir.c_str()) != 0) {
      const int e = errno;
      if (e == EEXIST ||
          e == ENOTEMPTY) {  // someone else stored it (lock timed out): theirs is as good as ours
        fs::remove_all(tmp, ec);
        return true;
      }
      throw CacheError("cannot rename " + tmp.string() + " to " + dir.string() + ": " + std::strerror(e));
    }
    fsync_dir(shard);
    return true;
  } catch (const CacheError& e) {
    fs::remove_all(tmp, ec);
    warn_once(settings_.warn, std::string("dynlib disk cache: could not store an entry (") + e.what() +
                                  "); keeping the compiled code in memory");
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.store_failures;
    return false;
  }
}

CacheResult CodeCache::get_or_build(const CacheKey& key, const Builder& build, const LookupOptions& options) {
  const std::string key_text = key.canonical_text();
  CacheResult r;
  r.digest = xxh3_128_hex(key_text);
  if (take_from_memory(r)) return r;
  // One builder per digest within this process; the others wait and take it from memory.
  const auto inflight = inflight_mutex(r.digest);
  std::lock_guard<std::mutex> inflight_lock(*inflight);
  if (take_from_memory(r)) return r;
  auto finish_built = [&](std::string payload) {
    r.object = std::make_shared<const std::string>(std::move(payload));
    r.origin = Origin::Built;
    remember(r.digest, r.object);
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.builds;
  };
  auto finish_loaded = [&](EntryCheck& c, const fs::path& dir) {
    take_from_disk(r, std::move(c.entry.payload), dir);
  };

  const std::optional<fs::path> root = options.disk_cache ? disk_root() : std::nullopt;
  if (!root) {
    finish_built(build());
    return r;
  }
  const fs::path dir = entry_dir(*root, key, r.digest);

  // Fast path: a finished entry needs no lock (entries appear atomically by rename).
  EntryCheck c = check_entry_dir(dir, &key_text);
  if (c.state == EntryState::Ok) {
    finish_loaded(c, dir);
    return r;
  }

  std::error_code ec;
  fs::create_directories(dir.parent_path(), ec);
  if (ec) {
    warn_once(settings_.warn, "dynlib disk cache: cannot create " + dir.parent_path().string() + " (" +
                                  ec.message() + "); keeping the compiled code in memory");
    finish_built(build());
    return r;
  }
  std::optional<CacheLock> lock;
  try {
    lock.emplace(dir.parent_path() / ("." + r.digest + ".lock"), settings_.lock_timeout, settings_.warn);
  } catch (const LockAbandoned&) {
    throw;
  } catch (const CacheError& e) {
    warn_once(settings_.warn, std::string("dynlib disk cache: ") + e.what() + "; building without the lock");
  }
  c = check_entry_dir(dir, &key_text);  // another process may have finished while we waited
  if (c.state == EntryState::Ok) {
    finish_loaded(c, dir);
    return r;
  }
  bool can_store = true;
  if (c.state == EntryState::Corrupt) {
    warn(std::string("dynlib cache entry ") + dir.string() + " is corrupt (" + c.reason +
         "); deleting it and rebuilding");
    if (std::string e = remove_entry_dir(dir); !e.empty()) {
      warn("dynlib disk cache: " + e + "; keeping the rebuilt code in memory");
      can_store = false;
    }
    std::lock_guard<std::mutex> l(mu_);
    ++stats_.corrupt_recovered;
  }
  std::string payload = build();  // may throw: the lock is released, nothing is stored
  if (can_store && store(dir, key, key_text, r.digest, payload, options.components)) r.entry = dir;
  finish_built(std::move(payload));
  return r;
}

std::optional<CacheResult> CodeCache::lookup(const CacheKey& key, const LookupOptions& options) {
  return lookup(key, key.canonical_text(), options);
}

std::optional<CacheResult> CodeCache::lookup(const CacheKey& key, const std::string& key_text,
                                             const LookupOptions& options) {
  CacheResult r;
  r.digest = xxh3_128_hex(key_text);
  if (take_from_memory(r)) return r;
  const std::optional<fs::path> root = options.disk_cache ? disk_root() : std::nullopt;
  if (!root) return std::nullopt;
  const fs::path dir = entry_dir(*root, key, r.digest);
  EntryCheck c = check_entry_dir(dir, &key_text);
  if (c.state == EntryState::Corrupt) {
    std::optional<CacheLock> lock;
    try {
      lock.emplace(dir.parent_path() / ("." + r.digest + ".lock"), settings_.lock_timeout, settings_.warn);
    } catch (const CacheError&) {
      return std::nullopt;  // someone is (re)building it; a miss is the safe answer
    }
    c = check_entry_dir(dir, &key_text);
    if (c.state == EntryState::Corrupt) {
      warn(std::string("dynlib cache entry ") + dir.string() + " is corrupt (" + c.reason + "); deleting it");
      if (std::string e = remove_entry_dir(dir); !e.empty()) warn("dynlib disk cache: " + e);
      std::lock_guard<std::mutex> l(mu_);
      ++stats_.corrupt_recovered;
    }
  }
  if (c.state != EntryState::Ok) return std::nullopt;
  take_from_disk(r, std::move(c.entry.payload), dir);
  return r;
}

std::optional<fs::path> CodeCache::put(const CacheKey& key, std::string object,
                                       const LookupOptions& options) {
  const std::string key_text = key.canonical_text();
  const std::string digest = xxh3_128_hex(key_text);
  std::optional<fs::path> stored;
  const std::optional<fs::path> root = options.disk_cache ? disk_root() : std::nullopt;
  if (root) {
    const fs::path dir = entry_dir(*root, key, digest);
    std::error_code ec;
    fs::create_directories(dir.parent_path(), ec);
    if (ec) {
      warn_once(settings_.warn, "dynlib disk cache: cannot create " + dir.parent_path().string() + " (" +
                                    ec.message() + "); keeping the compiled code in memory");
    } else {
      std::optional<CacheLock> lock;
      try {
        lock.emplace(dir.parent_path() / ("." + digest + ".lock"), settings_.lock_timeout, settings_.warn);
      } catch (const LockAbandoned&) {
        throw;
      } catch (const CacheError& e) {
        warn_once(settings_.warn,
                  std::string("dynlib disk cache: ") + e.what() + "; storing without the lock");
      }
      const EntryCheck c = check_entry_dir(dir, &key_text);
      bool can_store = true;
      if (c.state == EntryState::Corrupt) can_store = remove_entry_dir(dir).empty();
      if (c.state == EntryState::Ok)
        stored = dir;  // already there (identical key, so identical code)
      else if (can_store && store(dir, key, key_text, digest, object, options.components))
        stored = dir;
    }
  }
  remember(digest, std::make_shared<const std::string>(std::move(object)));
  return stored;
}

}  // namespace dynlib::cache
