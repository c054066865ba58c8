// The lock that keeps two sweeps from writing the same output file at once (sweep_file.cpp): two
// processes appending to one "<out>.partial" would interleave their blocks and truncate each other's.
//
// The lock is flock(2) on "<out>.partial.lock", taken without waiting: a second sweep on the same file is
// refused at once, naming the file and the holder's process, before it touches any of the first sweep's
// files. flock belongs to the open file, so it ends with its process however that process ends
// (SIGKILL included): a lock file left behind by a killed sweep never blocks the resume.
//
// Safe in a folder other users can write: the lock file is opened with O_NOFOLLOW|O_NONBLOCK and must be
// a regular file owned by the current user holding nothing but a lock record (an empty file, or one
// starting with our marker); anything else is refused and left alone. It is removed when the lock is
// released, while still held, and only if it is still the file that was locked; a process that opened
// the removed file meanwhile notices (inode check) and locks the new one instead. On a file system
// without locks (flock fails with ENOSYS, ENOLCK, ...) the sweep runs unguarded, with a warning.
#pragma once
#include <dynlib/export.hpp>
#include <filesystem>

namespace dynlib::core {

class DYNLIB_INTERNAL_API SweepLock {
 public:
  // Takes the lock of `out` or throws DynlibError (another sweep holds it; the lock file is unusable).
  // Warns and holds nothing where the file system has no locks.
  explicit SweepLock(const std::filesystem::path& out);
  SweepLock(const SweepLock&) = delete;
  SweepLock& operator=(const SweepLock&) = delete;
  ~SweepLock();  // removes the lock file, then releases the lock

  static std::filesystem::path lock_path(const std::filesystem::path& out) {
    return out.string() + ".partial.lock";
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace dynlib::core
