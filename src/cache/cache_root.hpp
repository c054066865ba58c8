// Where the persistent cache lives (docs/cache.md "Where the files go", docs/internals/cache.md).
//
// Primary root, first that applies:
//   1. RootOptions::configured (explicit, e.g. tests or an application setting);
//   2. DYNLIB_CONFIG (via model::load_config()): top-level `cache_root`, else `[cache] cache_root`,
//      else `[cache] root` ($VARS and ~ expanded);
//   3. ${XDG_CACHE_HOME:-~/.cache}/dynlib.
// Writability is probed by creating the directory (mode 0700) and a file in it. If the primary is not
// writable: RootOptions::fallback (default ${TMPDIR:-/tmp}/dynlib-cache-<uid>) with one warning; if that
// fails too, memory only (path = nullopt) with a warning.
// Trust: the cache executes the object code it finds in the root, so a root is only used if nobody else
// can write to it (root_trust_problem()). A configured or default root that is a symlink is resolved once
// and its target checked; the fallback must not be a symlink at all (anyone can plant one in /tmp). A root
// that fails the checks is not used: one warning naming the path and the reason, then memory only.
// Warnings go through dynlib::warn, once per process per message.
#pragma once
#include <filesystem>
#include <optional>
#include <string>

namespace dynlib::cache {

// ${TMPDIR:-/tmp}/dynlib-cache-<uid>: one fallback root per user, never shared.
std::filesystem::path default_fallback_root();

enum class RootOrigin { Explicit, Config, Default, Fallback, MemoryOnly };

struct RootOptions {
  std::optional<std::filesystem::path> configured;  // overrides the config file and the default
  std::filesystem::path fallback = default_fallback_root();
  bool probe = true;  // false: no directory is created, no writability check (for `dynlib cache list`)
};

struct ResolvedRoot {
  std::optional<std::filesystem::path> path;  // nullopt: memory only
  std::filesystem::path primary;              // the root that was asked for
  RootOrigin origin = RootOrigin::MemoryOnly;
};

// The primary root without any probing (config -> default). Throws ConfigError for a malformed config.
std::filesystem::path primary_cache_root();

// Full resolution with probing and fallbacks (may create directories; warns). Throws ConfigError.
ResolvedRoot resolve_cache_root(const RootOptions& options = {});

// Creates `dir` (and parents) and a probe file in it. "" if writable, else the reason. Never throws.
std::string probe_writable(const std::filesystem::path& dir);

// "" if the existing directory `dir` may hold our cache: a directory (not a symlink) owned by the
// current user and not writable by group or others. Else the reason. Never throws.
std::string root_trust_problem(const std::filesystem::path& dir);

// dynlib::warn(message) unless the same message was already emitted by this process.
void warn_once(const std::string& message);

}  // namespace dynlib::cache
