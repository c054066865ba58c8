#include "cache/cache_lock.hpp"

#include <dynlib/errors.hpp>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dynlib::cache {

namespace {
std::string errno_text(int e) { return std::strerror(e); }
}  // namespace

CacheLock::CacheLock(const std::filesystem::path& lock_file, std::chrono::milliseconds timeout) : path_(lock_file) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto deadline = start + timeout;
  auto backoff = std::chrono::microseconds(500);
  for (;;) {
    int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      const int e = errno;
      throw CacheError("cannot open cache lock file " + lock_file.string() + ": " + errno_text(e));
    }
    for (;;) {
      if (::flock(fd, LOCK_EX | LOCK_NB) == 0) break;
      const int e = errno;
      if (e == EINTR) continue;
      if (e != EWOULDBLOCK) {
        ::close(fd);
        throw CacheError("cannot lock " + lock_file.string() + ": " + errno_text(e));
      }
      if (clock::now() >= deadline) {
        ::close(fd);
        throw CacheError("timed out after " + std::to_string(timeout.count()) + " ms waiting for cache lock " +
                         lock_file.string());
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::microseconds(20000));
    }
    // The file we locked must still be the one at the path (it may have been deleted/replaced while we waited).
    struct stat held {}, current {};
    if (::fstat(fd, &held) == 0 && ::stat(lock_file.c_str(), &current) == 0 && held.st_ino == current.st_ino &&
        held.st_dev == current.st_dev) {
      fd_ = fd;
      break;
    }
    ::close(fd);  // releases the stale lock; retry on the current file
  }
  // Record the holder (informational only; never used for liveness decisions).
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] auto n = ::pwrite(fd_, pid.data(), pid.size(), 0);
  }
  waited_ = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start);
}

CacheLock::~CacheLock() { release(); }

CacheLock::CacheLock(CacheLock&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)), waited_(o.waited_) { o.fd_ = -1; }

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
