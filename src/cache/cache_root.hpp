// Where the persistent cache lives (docs/cache.md "Where the files go", docs/internals/cache.md).
//
// The cache knows nothing of the configuration file nor of the library's warning sink: its callers pass
// them in RootOptions (core::cache_root_options() fills in what the library uses). Primary root, first
// that applies:
//   1. RootOptions::configured (explicit, e.g. tests or an application setting);
//   2. RootOptions::config_root (the root named by DYNLIB_CONFIG, looked up by core);
//   3. ${XDG_CACHE_HOME:-~/.cache}/dynlib.
// Writability is checked by creating the directory (mode 0700) if it is missing and asking access(2)
// whether we may create files in it (permissions, read-only file system; a full disk shows on the
// first store, which warns and keeps the code in memory). If the primary is not writable:
// RootOptions::fallback (default ${TMPDIR:-/tmp}/dynlib-cache-<uid>) with one warning; if that fails too,
// memory only (path = nullopt) with a warning. Trust: the cache executes the object code it finds in the
// root, so a root is only used if nobody else can write to it (root_trust_problem()). A configured or default
// root that is a symlink is resolved once and its target checked; the fallback must not be a symlink at all
// (anyone can plant one in /tmp). A root that fails the checks is not used: one warning naming the path and
// the reason, then memory only. Warnings go to RootOptions::warn, once per process per message.
#pragma once
#include <dynlib/export.hpp>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace dynlib::cache {

// ${TMPDIR:-/tmp}/dynlib-cache-<uid>: one fallback root per user, never shared.
DYNLIB_INTERNAL_API std::filesystem::path default_fallback_root();

// Where the cache's warnings go (the library passes dynlib::warn). Empty: they are dropped.
using WarningSink = std::function<void(std::string_view)>;

enum class RootOrigin { Explicit, Config, Default, Fallback, MemoryOnly };

struct RootOptions {
  std::optional<std::filesystem::path> configured;   // overrides config_root and the default
  std::optional<std::filesystem::path> config_root;  // the root named by the configuration, if any
  std::filesystem::path fallback = default_fallback_root();
  bool probe = true;  // false: no directory is created, no writability check (for `dynlib cache list`)
  WarningSink warn;
};

struct ResolvedRoot {
  std::optional<std::filesystem::path> path;  // nullopt: memory only
  std::filesystem::path primary;              // the root that was asked for
  RootOrigin origin = RootOrigin::MemoryOnly;
};

// The primary root without any probing (configured -> config_root -> default).
DYNLIB_INTERNAL_API std::filesystem::path primary_cache_root(const RootOptions& options = {});

// Full resolution with probing and fallbacks (may create directories; warns).
DYNLIB_INTERNAL_API ResolvedRoot resolve_cache_root(const RootOptions& options);

// Creates `dir` (and parents) if missing, then checks that we may create files in it (access(2) with the
// effective ids). "" if writable, else the reason. Never throws.
std::string probe_writable(const std::filesystem::path& dir);

// "" if the existing directory `dir` may hold our cache: a directory (not a symlink) owned by the
// current user and not writable by group or others. Else the reason. Never throws.
std::string root_trust_problem(const std::filesystem::path& dir);

// A resolved root kept open, so that every later use can check in two system calls that it is still
// the directory that passed root_trust_problem(). Between two uses in one process, whoever can write the
// folder above the root could rename the root away and put their own directory or a symlink in its
// place (the path no longer names the inode we hold), and the root's owner could make it writable by
// others (fstat of the held descriptor shows it). Nobody else can change the root itself. Thread-safe
// (immutable after open()).
class DYNLIB_INTERNAL_API HeldRoot {
 public:
  HeldRoot() = default;
  ~HeldRoot();
  HeldRoot(const HeldRoot&) = delete;
  HeldRoot& operator=(const HeldRoot&) = delete;
  // Opens `dir` (never through a symlink) and checks it. "" on success, else the reason. Never throws.
  std::string open(const std::filesystem::path& dir);
  // "" if the path still names the held directory and it still passes the checks, else the reason.
  std::string recheck() const;

 private:
  int fd_ = -1;
  std::filesystem::path path_;
};

// sink(message) unless the same message was already emitted by this process (nothing if sink is empty).
DYNLIB_INTERNAL_API void warn_once(const WarningSink& sink, const std::string& message);

}  // namespace dynlib::cache
