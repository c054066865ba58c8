#include "cache/cache_root.hpp"

#include <dynlib/errors.hpp>

#include "cache/entry_file.hpp"
#include "core/warnings.hpp"
#include "model/config.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <system_error>

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <toml++/toml.h>

namespace dynlib::cache {
namespace fs = std::filesystem;

void warn_once(const std::string& message) {
  // Never destroyed: a background compile (tiered JIT) may warn while the process exits.
  static auto* m = new std::mutex;
  static auto* seen = new std::set<std::string>;
  {
    std::lock_guard<std::mutex> lock(*m);
    if (!seen->insert(message).second) return;
  }
  dynlib::warn(message);
}

namespace {

std::string home_dir() {
  if (const char* h = std::getenv("HOME"); h && *h) return h;
  if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return "/";
}

fs::path absolute_clean(const std::string& p) {
  fs::path path = model::expand_user_vars(p);
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  if (ec) abs = path;
  return abs.lexically_normal();
}

// `[cache] cache_root`, which model::load_config() does not read.
std::optional<std::string> cache_table_cache_root(const model::Config& cfg) {
  if (!cfg.file_loaded) return std::nullopt;
  toml::table doc;
  try {
    doc = toml::parse_file(cfg.file);
  } catch (const toml::parse_error&) {
    return std::nullopt;  // load_config() already validated the file; be lenient
  }
  const toml::node* n = doc["cache"]["cache_root"].node();
  if (!n) return std::nullopt;
  if (!n->is_string()) throw ConfigError("[cache].cache_root must be a string path in " + cfg.file);
  return n->as_string()->get();
}

}  // namespace

namespace {
fs::path primary_root(RootOrigin& origin) {
  const model::Config cfg = model::load_config();
  origin = RootOrigin::Config;
  if (cfg.cache_root && !cfg.cache_root->empty()) return absolute_clean(*cfg.cache_root);
  if (auto cr = cache_table_cache_root(cfg); cr && !cr->empty()) return absolute_clean(*cr);
  origin = RootOrigin::Default;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x == '/') return fs::path(x) / "dynlib";
  return fs::path(home_dir()) / ".cache" / "dynlib";
}
}  // namespace

fs::path primary_cache_root() {
  RootOrigin o{};
  return primary_root(o);
}

std::string probe_writable(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return "cannot create directory: " + ec.message();
  if (!fs::is_directory(dir, ec)) return "not a directory";
  const fs::path probe = dir / (".dynlib-write-test-" + std::to_string(::getpid()) + "-" + random_hex(8));
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return std::string("cannot create a file: ") + std::strerror(errno);
  const bool wrote = ::write(fd, "x", 1) == 1;
  const int werr = errno;
  ::close(fd);
  ::unlink(probe.c_str());
  if (!wrote) return std::string("cannot write a file: ") + std::strerror(werr);
  return {};
}

ResolvedRoot resolve_cache_root(const RootOptions& options) {
  ResolvedRoot r;
  if (options.configured) {
    r.primary = absolute_clean(options.configured->string());
    r.origin = RootOrigin::Explicit;
  } else {
    r.primary = primary_root(r.origin);
  }
  if (!options.probe) {
    r.path = r.primary;
    return r;
  }
  const std::string why = probe_writable(r.primary);
  if (why.empty()) {
    r.path = r.primary;
    return r;
  }
  const std::string why2 = probe_writable(options.fallback);
  if (why2.empty()) {
    warn_once("dynlib cache root " + r.primary.string() + " is not writable (" + why + "); using " +
              options.fallback.string() + " instead");
    r.path = options.fallback;
    r.origin = RootOrigin::Fallback;
    return r;
  }
  warn_once("dynlib cache root " + r.primary.string() + " is not writable (" + why + "), nor is " +
            options.fallback.string() + " (" + why2 + "); keeping compiled code in memory only");
  r.path.reset();
  r.origin = RootOrigin::MemoryOnly;
  return r;
}

}  // namespace dynlib::cache
