// SweepLock (sweep_lock.hpp): flock on "<out>.partial.lock" for the whole of a sweep that writes <out>.
#include "core/sweep_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <dynlib/errors.hpp>
#include <dynlib/warnings.hpp>
#include <string>

namespace dynlib::core {
namespace {

constexpr std::string_view kMarker = "dynlib sweep lock";

// The first bytes of the lock file (its record), at most `n`.
std::string read_record(int fd, std::size_t n) {
  std::string s(n, '\0');
  const ssize_t got = ::pread(fd, s.data(), n, 0);
  s.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  return s;
}

// "process 1234 on node7" from the holder's record, for messages ("" if it wrote none).
std::string holder_of(int fd) {
  std::string r = read_record(fd, 256);
  if (!r.starts_with(kMarker) || r.size() == kMarker.size() || r[kMarker.size()] != ':') return {};
  r = r.substr(kMarker.size() + 1);
  r = r.substr(0, r.find('\n'));
  for (char& c : r)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';  // never echo control bytes
  while (!r.empty() && r.front() == ' ') r.erase(r.begin());
  return r;
}

bool same_file(int fd, const std::filesystem::path& p) {
  struct stat held {
  }, current{};
  return ::fstat(fd, &held) == 0 && ::lstat(p.c_str(), &current) == 0 && held.st_ino == current.st_ino &&
         held.st_dev == current.st_dev;
}

}  // namespace

SweepLock::SweepLock(const std::filesystem::path& out) : path_(lock_path(out)) {
  const std::string unusable =
      "Cannot use '" + path_.string() + "' as the lock of the sweep writing '" + out.string() + "': ";
  const std::string delete_it = " (delete it if no sweep is writing '" + out.string() + "')";
  // A few rounds at most: a round is repeated only when the holder removed the file we opened.
  for (int round = 0; round < 100 && fd_ < 0; ++round) {
    constexpr int kFlags = O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    int fd = ::open(path_.c_str(), kFlags | O_CREAT | O_EXCL, 0600);
    const bool created = fd >= 0;
    if (!created && errno == EEXIST) {
      fd = ::open(path_.c_str(), kFlags);
      if (fd < 0 && errno == ENOENT) continue;  // removed between the two opens
    }
    if (fd < 0) {
      const int e = errno;
      if (e == ELOOP) throw DynlibError(unusable + "it is a symbolic link" + delete_it);
      throw DynlibError(unusable + std::strerror(e));
    }
    struct stat st {};
    std::string bad;
    if (::fstat(fd, &st) != 0)
      bad = std::strerror(errno);
    else if (!S_ISREG(st.st_mode))
      bad = "it is not a regular file";
    else if (st.st_uid != ::geteuid())
      bad = "it belongs to user id " + std::to_string(st.st_uid) + ", not to the current user";
    if (!bad.empty()) {
      ::close(fd);
      throw DynlibError(unusable + bad + delete_it);
    }
    int rc;
    do rc = ::flock(fd, LOCK_EX | LOCK_NB);
    while (rc != 0 && errno == EINTR);
    if (rc != 0) {
      const int e = errno;
      const std::string holder = holder_of(fd);
      // A file made just now and not lockable (a file system without locks) is not left behind; one
      // that another sweep locked in the meantime is that sweep's.
      if (created && e != EWOULDBLOCK && same_file(fd, path_)) ::unlink(path_.c_str());
      ::close(fd);
      if (e == ENOSYS || e == ENOLCK || e == EOPNOTSUPP || e == EINVAL) {
        // Some cluster file systems have no locks unless mounted for them (Lustre without -o flock): the
        // sweep still runs, as it did before there was a lock, but unguarded, and says so.
        warn("'" + out.string() + "': its folder's file system does not support locks (" + std::strerror(e) +
             "), so nothing stops a second sweep on the same file while this one runs");
        return;
      }
      if (e == EWOULDBLOCK)
        throw DynlibError("'" + out.string() + "' is being written by another sweep (" +
                          (holder.empty() ? std::string("its lock") : holder + ", which holds") + " '" +
                          path_.string() +
                          "'). Wait for it to end, or stop it; then run its command again to complete it.");
      throw DynlibError("Cannot lock '" + path_.string() + "': " + std::strerror(e));
    }
    if (!same_file(fd, path_)) {  // the holder removed it while we were opening: lock the new one
      ::close(fd);
      continue;
    }
    const std::string old = read_record(fd, kMarker.size());
    if (!old.empty() && old != kMarker) {
      ::close(fd);
      throw DynlibError(unusable + "it is not a sweep's lock file" + delete_it);
    }
    fd_ = fd;
  }
  if (fd_ < 0) throw DynlibError("Cannot lock '" + path_.string() + "': it keeps being replaced");
  // Who holds it, for the message of a second sweep (informational only: the lock itself is the flock).
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::string record = std::string(kMarker) + ": process " + std::to_string(::getpid());
  if (host[0]) record += std::string(" on ") + host;
  record += '\n';
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] const auto n = ::pwrite(fd_, record.data(), record.size(), 0);
  }
}

SweepLock::~SweepLock() {
  if (fd_ < 0) return;  // not locked: a file system without locks
  // Removed while held, so no other sweep can have locked this file in between.
  if (same_file(fd_, path_)) ::unlink(path_.c_str());
  ::close(fd_);
}

}  // namespace dynlib::core
