// Writing output files (CSV results, snapshots, exported sources) so that a failure never leaves a
// half-written or destroyed file behind.
//
// The content goes to a temporary file in the target's directory; every write is checked, the file is
// flushed, fsync'ed and closed, and only then renamed over the target. On any failure the temporary file
// is removed and an existing target is left as it was. A target that exists but is not a regular file
// (device such as /dev/full, FIFO, directory, socket) is refused: renaming over it would replace the node.
// A symbolic link as target is replaced by the new file, like mv does; the file it pointed to is kept.
#pragma once

#include <cstddef>
#include <dynlib/export.hpp>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dynlib::util {

// Why an output could not be written. what() is "<path>: <reason>"; reason() is the part after the path.
class DYNLIB_INTERNAL_API FileWriteError : public std::runtime_error {
 public:
  FileWriteError(const std::filesystem::path& path, std::string reason);
  const std::string& reason() const noexcept { return reason_; }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  std::string reason_;
};

// Throws FileWriteError unless `path` could be written now: it names a regular file or nothing, and its
// directory exists and is writable. Used before a long run so a typo does not cost the run.
DYNLIB_INTERNAL_API void check_output_path(const std::filesystem::path& path);

// Whether two output paths name the same file (the same path, or the same existing file by another name).
DYNLIB_INTERNAL_API bool same_output_path(const std::filesystem::path& a, const std::filesystem::path& b);

// An output file being written. write() buffers and checks; commit() makes the content visible under the
// target name. Destroying an uncommitted OutputFile removes the temporary file.
class DYNLIB_INTERNAL_API OutputFile {
 public:
  explicit OutputFile(std::filesystem::path target);  // checks the target, creates the temporary file
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile();

  void write(std::string_view bytes);
  void commit();
  const std::filesystem::path& target() const noexcept { return target_; }

 private:
  void flush_buffer();
  [[noreturn]] void fail(const std::string& reason);
  void discard() noexcept;

  std::filesystem::path target_, temp_;
  int fd_ = -1;
  std::string buffer_;
  bool committed_ = false;
};

// The whole of `content` as the new content of `path` (an OutputFile written once and committed).
DYNLIB_INTERNAL_API void write_output_file(const std::filesystem::path& path, std::string_view content);

}  // namespace dynlib::util
