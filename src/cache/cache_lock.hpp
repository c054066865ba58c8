// Process-safe lock for one cache entry, built on flock(2).
//
// The lock file (`<shard>/.<digest>.lock`, next to the entry directory) is created if missing and is
// never deleted by the lock itself, so every process locks the same inode. A lock belongs to the open
// file description: it is released when the holder closes it or dies in any way (SIGKILL included),
// so a dead holder never blocks anyone. If the lock file is replaced or deleted while we wait
// (`dynlib cache clear`), the acquirer notices (inode check) and locks the new file instead.
// Threads: two CacheLock objects in one process on the same file exclude each other as well.
// Safety: the lock file is opened with O_NOFOLLOW|O_NONBLOCK and must be a regular file owned by the
// current user; it is never truncated, and our PID is written only into a file we just created (so a
// planted symlink or FIFO cannot make us clobber or hang on anything). A wait longer than
// kLockReportAfter is reported (once, naming the file and the holder's PID); every wait is bounded by
// the timeout and ends at once when the process no longer needs the lock (abandon_lock_waits()).
#pragma once
#include <atomic>
#include <chrono>
#include <dynlib/errors.hpp>
#include <dynlib/export.hpp>
#include <filesystem>

#include "cache/cache_root.hpp"

namespace dynlib::cache {

inline constexpr std::chrono::seconds kLockReportAfter{5};

// Thrown by a wait that abandon_lock_waits() ended: the caller no longer needs the lock.
class DYNLIB_INTERNAL_API LockAbandoned : public CacheError {
 public:
  using CacheError::CacheError;
};

// From now on, every lock wait in this process (current and future) gives up with LockAbandoned. Called
// when the process exits: background work still waiting for a lock is no longer needed.
DYNLIB_INTERNAL_API void abandon_lock_waits() noexcept;
bool lock_waits_abandoned() noexcept;

// While alive, lock waits on the current thread also give up with LockAbandoned once *flag is true
// (a background job whose result nobody waits for any more).
class DYNLIB_INTERNAL_API LockWaitCancelScope {
 public:
  explicit LockWaitCancelScope(const std::atomic<bool>* flag) noexcept;
  ~LockWaitCancelScope();
  LockWaitCancelScope(const LockWaitCancelScope&) = delete;
  LockWaitCancelScope& operator=(const LockWaitCancelScope&) = delete;

 private:
  const std::atomic<bool>* previous_;
};

class DYNLIB_INTERNAL_API CacheLock {
 public:
  // Blocks until the lock is held. Throws CacheError if the lock file cannot be opened/created or
  // the lock is not obtained within `timeout` (a live holder taking that long). A long wait is reported
  // once through `warn`.
  explicit CacheLock(const std::filesystem::path& lock_file,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(120000),
                     const WarningSink& warn = {});
  ~CacheLock();
  CacheLock(CacheLock&& other) noexcept;
  CacheLock& operator=(CacheLock&& other) noexcept;
  CacheLock(const CacheLock&) = delete;
  CacheLock& operator=(const CacheLock&) = delete;

  // Releases early (idempotent).
  void release() noexcept;
  bool held() const noexcept { return fd_ >= 0; }
  // How long the constructor waited for another holder.
  std::chrono::microseconds waited() const noexcept { return waited_; }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  int fd_ = -1;
  std::filesystem::path path_;
  std::chrono::microseconds waited_{0};
};

}  // namespace dynlib::cache
