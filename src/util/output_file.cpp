#include "util/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "util/regular_file.hpp"

namespace dynlib::util {

FileWriteError::FileWriteError(const std::filesystem::path& path, std::string reason)
    : std::runtime_error(path.string() + ": " + reason), path_(path), reason_(std::move(reason)) {}

namespace {

constexpr std::size_t kBufferBytes = std::size_t{1} << 16;

std::filesystem::path directory_of(const std::filesystem::path& path) {
  return path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
}

// The target's mode when it is an existing regular file (kept for the new file); 0 when it does not exist.
mode_t check_target(const std::filesystem::path& path) {
  if (path.empty()) throw FileWriteError(path, "empty file name");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode))
      throw FileWriteError(path, std::string("is ") + describe_file_type(st.st_mode) +
                                     ", refused (only regular files are written)");
    return st.st_mode & 07777;
  }
  // ENOTDIR: a parent is not a directory; check_directory() says which.
  if (errno != ENOENT && errno != ENOTDIR) throw FileWriteError(path, std::strerror(errno));
  return 0;
}

void check_directory(const std::filesystem::path& path) {
  const auto dir = directory_of(path);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    throw FileWriteError(path, "directory '" + dir.string() + "': " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) throw FileWriteError(path, "'" + dir.string() + "' is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw FileWriteError(path, "directory '" + dir.string() + "' is not writable: " + std::strerror(errno));
}

}  // namespace

void check_output_path(const std::filesystem::path& path) {
  check_target(path);
  check_directory(path);
}

bool same_output_path(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::error_code ea, eb;
  if (std::filesystem::equivalent(a, b, ea)) return true;
  // absolute() first: weakly_canonical() leaves a relative path relative when no part of it exists.
  const auto ca = std::filesystem::weakly_canonical(std::filesystem::absolute(a, ea), ea);
  const auto cb = std::filesystem::weakly_canonical(std::filesystem::absolute(b, eb), eb);
  if (ea || eb) return a.lexically_normal() == b.lexically_normal();
  return ca == cb;
}

OutputFile::OutputFile(std::filesystem::path target) : target_(std::move(target)) {
  const mode_t mode = check_target(target_);
  check_directory(target_);
  static std::atomic<unsigned> counter{0};
  // Hidden, unique per process and call; O_EXCL so an existing file (or planted link) is never reused.
  std::string name = ".";
  name.append(target_.filename().string())
      .append(".tmp.")
      .append(std::to_string(::getpid()))
      .append(".")
      .append(std::to_string(counter.fetch_add(1)));
  temp_ = directory_of(target_) / name;
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
  if (fd_ < 0) {
    const int err = errno;
    throw FileWriteError(target_,
                         "cannot create temporary file '" + temp_.string() + "': " + std::strerror(err));
  }
  if (mode != 0) (void)::fchmod(fd_, mode);  // a replaced file keeps its permissions
  buffer_.reserve(kBufferBytes);
}

OutputFile::~OutputFile() {
  if (!committed_) discard();
}

void OutputFile::discard() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_.empty()) ::unlink(temp_.c_str());
  temp_.clear();
}

void OutputFile::fail(const std::string& reason) {
  discard();
  throw FileWriteError(target_, reason);
}

void OutputFile::flush_buffer() {
  std::size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(std::string("write failed: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  buffer_.clear();
}

void OutputFile::write(std::string_view bytes) {
  if (fd_ < 0 || committed_) throw FileWriteError(target_, "write after the file was closed");
  if (buffer_.size() + bytes.size() > kBufferBytes) flush_buffer();
  if (bytes.size() >= kBufferBytes) {
    buffer_.assign(bytes);
    flush_buffer();
  } else {
    buffer_.append(bytes);
  }
}

void OutputFile::commit() {
  if (fd_ < 0 || committed_) throw FileWriteError(target_, "commit after the file was closed");
  flush_buffer();
  if (::fsync(fd_) != 0) fail(std::string("fsync failed: ") + std::strerror(errno));
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail(std::string("close failed: ") + std::strerror(errno));
  // Checked again: the target may have been replaced by a device or directory while we wrote.
  try {
    check_target(target_);
  } catch (const FileWriteError&) {
    discard();
    throw;
  }
  if (::rename(temp_.c_str(), target_.c_str()) != 0)
    fail(std::string("rename failed: ") + std::strerror(errno));
  committed_ = true;
  // The rename itself is durable once the directory is synced; a failure here loses nothing written.
  const int dfd = ::open(directory_of(target_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
}

void write_output_file(const std::filesystem::path& path, std::string_view content) {
  OutputFile f(path);
  f.write(content);
  f.commit();
}

}  // namespace dynlib::util
