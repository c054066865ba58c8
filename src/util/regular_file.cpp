#include "util/regular_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace dynlib::util {

FileReadError::FileReadError(const std::filesystem::path& path, std::string reason)
    : std::runtime_error(path.string() + ": " + reason), path_(path), reason_(std::move(reason)) {}

namespace {

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

const char* describe_file_type(unsigned int mode) noexcept {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

std::string describe_size(std::size_t bytes) {
  char buf[64];
  if (bytes >= (std::size_t{1} << 30) && bytes % (std::size_t{1} << 30) == 0)
    std::snprintf(buf, sizeof buf, "%zu GiB", bytes >> 30);
  else if (bytes >= (std::size_t{1} << 20) && bytes % (std::size_t{1} << 20) == 0)
    std::snprintf(buf, sizeof buf, "%zu MiB", bytes >> 20);
  else if (bytes >= (std::size_t{1} << 10) && bytes % (std::size_t{1} << 10) == 0)
    std::snprintf(buf, sizeof buf, "%zu KiB", bytes >> 10);
  else
    std::snprintf(buf, sizeof buf, "%zu bytes", bytes);
  return buf;
}

std::string read_regular_file(const std::filesystem::path& path, std::size_t max_bytes, Symlinks symlinks) {
  // O_NONBLOCK: opening a FIFO for reading must not wait for a writer. It has no effect on regular files.
  int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  if (symlinks == Symlinks::refuse) flags |= O_NOFOLLOW;
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    const int err = errno;
    if (err == ELOOP && symlinks == Symlinks::refuse)
      throw FileReadError(path, "is a symbolic link, refused");
    throw FileReadError(path, std::strerror(err));
  }
  FdCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw FileReadError(path, std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    throw FileReadError(path, std::string("is ") + describe_file_type(st.st_mode) + ", not a regular file");
  if (st.st_size < 0 || static_cast<std::uintmax_t>(st.st_size) > max_bytes)
    throw FileReadError(path, "is " + describe_size(static_cast<std::size_t>(st.st_size)) +
                                  ", larger than the limit of " + describe_size(max_bytes));
  std::string out;
  out.resize(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  // Read one byte past the size fstat() reported to see whether the file grew; stop at the limit.
  for (;;) {
    if (done == out.size()) {
      if (out.size() >= max_bytes) {
        char probe;
        const ssize_t n = ::read(fd, &probe, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw FileReadError(path, std::strerror(errno));
        if (n == 0) break;
        throw FileReadError(path,
                            "grew beyond the limit of " + describe_size(max_bytes) + " while being read");
      }
      out.resize(std::min(max_bytes, out.size() + 65536));
    }
    const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw FileReadError(path, std::strerror(errno));
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return out;
}

}  // namespace dynlib::util
