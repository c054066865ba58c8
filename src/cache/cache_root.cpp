#include "cache/cache_root.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <system_error>

namespace dynlib::cache {
namespace fs = std::filesystem;

void warn_once(const WarningSink& sink, const std::string& message) {
  if (!sink) return;
  // Never destroyed: a background compile (tiered JIT) may warn while the process exits.
  static auto* m = new std::mutex;
  static auto* seen = new std::set<std::string>;
  {
    std::lock_guard<std::mutex> lock(*m);
    if (!seen->insert(message).second) return;
  }
  sink(message);
}

namespace {

std::string home_dir() {
  if (const char* h = std::getenv("HOME"); h && *h) return h;
  if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) return pw->pw_dir;
  return "/";
}

fs::path absolute_clean(const std::string& p) {
  fs::path path(p);
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  if (ec) abs = path;
  return abs.lexically_normal();
}

}  // namespace

namespace {
fs::path primary_root(const RootOptions& options, RootOrigin& origin) {
  origin = RootOrigin::Explicit;
  if (options.configured) return absolute_clean(options.configured->string());
  origin = RootOrigin::Config;
  if (options.config_root && !options.config_root->empty())
    return absolute_clean(options.config_root->string());
  origin = RootOrigin::Default;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x == '/') return fs::path(x) / "dynlib";
  return fs::path(home_dir()) / ".cache" / "dynlib";
}
}  // namespace

fs::path primary_cache_root(const RootOptions& options) {
  RootOrigin o{};
  return primary_root(options, o);
}

fs::path default_fallback_root() {
  const char* t = std::getenv("TMPDIR");
  const fs::path tmp = (t != nullptr && *t == '/') ? fs::path(t) : fs::path("/tmp");
  return tmp / ("dynlib-cache-" + std::to_string(::geteuid()));
}

namespace {
// The checks of root_trust_problem() on the lstat() or fstat() of the root.
std::string trust_problem_of(const struct stat& st) {
  if (S_ISLNK(st.st_mode)) return "it is a symbolic link";
  if (!S_ISDIR(st.st_mode)) return "it is not a directory";
  if (st.st_uid != ::geteuid())
    return "it is owned by uid " + std::to_string(st.st_uid) + ", not by the current user (uid " +
           std::to_string(::geteuid()) + ")";
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return std::string("it is writable by other users (mode ") + mode +
           "; allowed: not group/other-writable)";
  }
  return {};
}

// "" if we may create files in the existing directory `dir`, else the reason.
std::string access_problem(const fs::path& dir) {
  if (::faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) != 0)
    return std::string("cannot create a file: ") + std::strerror(errno);
  return {};
}
}  // namespace

std::string root_trust_problem(const fs::path& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return std::string("cannot inspect it: ") + std::strerror(errno);
  return trust_problem_of(st);
}

HeldRoot::~HeldRoot() {
  if (fd_ >= 0) ::close(fd_);
}

std::string HeldRoot::open(const fs::path& dir) {
  if (fd_ >= 0) ::close(fd_);
  path_ = dir;
  fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd_ < 0) return std::string("cannot open it: ") + std::strerror(errno);
  return recheck();
}

std::string HeldRoot::recheck() const {
  if (fd_ < 0) return "it is not open";
  struct stat held {
  }, now{};
  if (::fstat(fd_, &held) != 0) return std::string("cannot inspect it: ") + std::strerror(errno);
  if (std::string bad = trust_problem_of(held); !bad.empty()) return bad;
  if (::lstat(path_.c_str(), &now) != 0) return std::string("cannot inspect it: ") + std::strerror(errno);
  if (now.st_dev != held.st_dev || now.st_ino != held.st_ino)
    return "it was replaced by another directory or a link since it was checked";
  return {};
}

std::string probe_writable(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir.parent_path(), ec);
  if (ec) return "cannot create directory: " + ec.message();
  // The root itself is ours alone: 0700 whatever the umask.
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return std::string("cannot create directory: ") + std::strerror(errno);
  if (!fs::is_directory(dir, ec)) return "not a directory";
  // access(2), not a probe file: creating and deleting one cost 150 us of a 1 ms warm start.
  return access_problem(dir);
}

namespace {
// Checks an existing `dir` (one lstat) before anything else, so that nothing is ever created in someone
// else's directory; a missing one is created 0700 and then checked. Returns the trust problem, if any;
// `not_writable` receives the reason it is not writable.
std::string existing_root_problem(const fs::path& dir, std::string& not_writable) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) == 0) {
    if (std::string bad = trust_problem_of(st); !bad.empty()) return bad;
    not_writable = access_problem(dir);
    return {};
  }
  not_writable = probe_writable(dir);
  if (!not_writable.empty()) return {};
  return root_trust_problem(dir);
}
}  // namespace

ResolvedRoot resolve_cache_root(const RootOptions& options) {
  ResolvedRoot r;
  r.primary = primary_root(options, r.origin);
  if (!options.probe) {
    r.path = r.primary;
    return r;
  }
  // Not writable: the next candidate. Writable but not trusted: memory only (a planted root must not
  // silently send us elsewhere either).
  auto untrusted = [&](const std::string& p, const std::string& why) {
    warn_once(options.warn,
              "dynlib cache root " + p + " is not used: " + why + "; keeping compiled code in memory only");
    r.path.reset();
    r.origin = RootOrigin::MemoryOnly;
    return r;
  };
  fs::path primary = r.primary;
  std::error_code ec;
  if (fs::is_symlink(primary, ec)) {
    // Resolved once: the target itself must be a real directory that passes the checks.
    fs::path target = fs::read_symlink(primary, ec);
    if (ec) return untrusted(primary.string(), "its symbolic link cannot be read (" + ec.message() + ")");
    if (target.is_relative()) target = primary.parent_path() / target;
    primary = target.lexically_normal();
  }
  const std::string shown =
      primary == r.primary ? primary.string() : r.primary.string() + " -> " + primary.string();
  std::string why;
  if (std::string bad = existing_root_problem(primary, why); !bad.empty()) return untrusted(shown, bad);
  if (why.empty()) {
    r.path = primary;
    return r;
  }
  std::string why2;
  if (std::string bad = existing_root_problem(options.fallback, why2); !bad.empty()) why2 = bad;
  if (why2.empty()) {
    warn_once(options.warn, "dynlib cache root " + r.primary.string() + " is not writable (" + why +
                                "); using " + options.fallback.string() + " instead");
    r.path = options.fallback;
    r.origin = RootOrigin::Fallback;
    return r;
  }
  warn_once(options.warn, "dynlib cache root " + r.primary.string() + " is not writable (" + why +
                              "), nor can " + options.fallback.string() + " be used (" + why2 +
                              "); keeping compiled code in memory only");
  r.path.reset();
  r.origin = RootOrigin::MemoryOnly;
  return r;
}

}  // namespace dynlib::cache
