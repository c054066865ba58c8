#include "cache/cache_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <dynlib/errors.hpp>
#include <string>
#include <thread>

#include "cache/cache_root.hpp"

namespace dynlib::cache {

namespace {
std::string errno_text(int e) { return std::strerror(e); }

std::atomic<bool> g_abandoned{false};
thread_local const std::atomic<bool>* t_cancel = nullptr;

// The PID its creator wrote into the lock file ("" if none), for messages only.
std::string holder_of(int fd) {
  char buf[24] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  std::string s(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  for (char c : s)
    if (c < '0' || c > '9') return {};
  return s;
}

// Opens (creating if missing) the lock file without following symlinks or blocking; `created` tells
// whether this call made it. -1 with errno ENOENT if it vanished in between (retry). Throws CacheError.
int open_lock_file(const std::filesystem::path& p, bool& created) {
  constexpr int kFlags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  created = false;
  int fd = ::open(p.c_str(), kFlags | O_CREAT | O_EXCL, 0600);
  bool second_open = false;
  if (fd >= 0) {
    created = true;
  } else if (errno == EEXIST) {
    second_open = true;
    fd = ::open(p.c_str(), kFlags);
  }
  if (fd < 0) {
    const int e = errno;
    if (e == ENOENT && second_open) return -1;
    if (e == ELOOP)
      throw CacheError("cache lock file " + p.string() + " is a symbolic link; not following it");
    throw CacheError("cannot open cache lock file " + p.string() + ": " + errno_text(e));
  }
  struct stat st {};
  std::string bad;
  if (::fstat(fd, &st) != 0)
    bad = errno_text(errno);
  else if (!S_ISREG(st.st_mode))
    bad = "not a regular file";
  else if (st.st_uid != ::geteuid())
    bad = "owned by uid " + std::to_string(st.st_uid) + ", not by the current user";
  if (!bad.empty()) {
    ::close(fd);
    throw CacheError("cache lock file " + p.string() + " is not usable (" + bad + ")");
  }
  return fd;
}
}  // namespace

void abandon_lock_waits() noexcept { g_abandoned.store(true); }
bool lock_waits_abandoned() noexcept {
  return g_abandoned.load() || (t_cancel != nullptr && t_cancel->load());
}

LockWaitCancelScope::LockWaitCancelScope(const std::atomic<bool>* flag) noexcept : previous_(t_cancel) {
  t_cancel = flag;
}
LockWaitCancelScope::~LockWaitCancelScope() { t_cancel = previous_; }

CacheLock::CacheLock(const std::filesystem::path& lock_file, std::chrono::milliseconds timeout,
                     const WarningSink& warn)
    : path_(lock_file) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto deadline = start + timeout;
  auto backoff = std::chrono::microseconds(500);
  bool reported = false;
  bool created = false;
  for (;;) {
    const int fd = open_lock_file(lock_file, created);
    if (fd < 0) continue;  // deleted between the two opens: try again
    for (;;) {
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0) break;
      const int e = errno;
      if (e == EINTR) continue;
      if (e != EWOULDBLOCK) {
        ::close(fd);
        throw CacheError("cannot lock " + lock_file.string() + ": " + errno_text(e));
      }
      if (lock_waits_abandoned()) {
        ::close(fd);
        throw LockAbandoned("stopped waiting for cache lock " + lock_file.string() + ": no longer needed");
      }
      const auto now = clock::now();
      const std::string holder = holder_of(fd);
      const std::string by = holder.empty() ? std::string() : " (its file names process " + holder + ")";
      if (now >= deadline) {
        ::close(fd);
        throw CacheError("timed out after " + std::to_string(timeout.count()) +
                         " ms waiting for cache lock " + lock_file.string() + by);
      }
      if (!reported && now - start >= kLockReportAfter) {
        reported = true;
        warn_once(warn, "dynlib disk cache: waiting for cache lock " + lock_file.string() + by +
                            " (at most " + std::to_string(timeout.count() / 1000) + " s)");
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::microseconds(20000));
    }
    // The file we locked must still be the one at the path (it may have been deleted/replaced while we
    // waited).
    struct stat held {
    }, current{};
    if (::fstat(fd, &held) == 0 && ::lstat(lock_file.c_str(), &current) == 0 &&
        held.st_ino == current.st_ino && held.st_dev == current.st_dev) {
      fd_ = fd;
      break;
    }
    ::close(fd);  // releases the stale lock; retry on the current file
  }
  // Record the holder (informational only; never used for liveness decisions), only in a file we made.
  if (created) {
    const std::string pid = std::to_string(::getpid()) + "\n";
    [[maybe_unused]] auto n = ::pwrite(fd_, pid.data(), pid.size(), 0);
  }
  waited_ = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start);
}

CacheLock::~CacheLock() { release(); }

CacheLock::CacheLock(CacheLock&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)), waited_(o.waited_) {
  o.fd_ = -1;
}

CacheLock& CacheLock::operator=(CacheLock&& o) noexcept {
  if (this != &o) {
    release();
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    waited_ = o.waited_;
    o.fd_ = -1;
  }
  return *this;
}

void CacheLock::release() noexcept {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace dynlib::cache
