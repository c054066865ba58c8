// Reading files we do not trust: snapshots, cache entries, models, configuration.
//
// A path may name a FIFO (a plain read blocks forever), a device (/dev/zero never ends), a directory, a
// symlink planted by someone else, or a huge sparse file. read_regular_file() opens without blocking,
// checks with fstat() that the open file is a regular file within a size limit, and only then reads, and
// never more than the limit even if the file grows while it is read.
#pragma once

#include <cstddef>
#include <dynlib/export.hpp>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace dynlib::util {

// Why a file could not be read. what() is "<path>: <reason>"; reason() is the part after the path.
class DYNLIB_INTERNAL_API FileReadError : public std::runtime_error {
 public:
  FileReadError(const std::filesystem::path& path, std::string reason);
  const std::string& reason() const noexcept { return reason_; }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  std::string reason_;
};

enum class Symlinks { follow, refuse };

// The whole content of the regular file at `path`, at most `max_bytes` long. Throws FileReadError when
// the path cannot be opened, is not a regular file (FIFO, device, socket, directory), is a symlink and
// `symlinks` is refuse, or is longer than `max_bytes`.
DYNLIB_INTERNAL_API std::string read_regular_file(const std::filesystem::path& path, std::size_t max_bytes,
                                                  Symlinks symlinks = Symlinks::follow);

// What a file that is not a regular file is, from its st_mode, for messages: "a FIFO (named pipe)".
const char* describe_file_type(unsigned int st_mode) noexcept;

// A size for messages: "256 MiB", "1.5 KiB", "17 bytes".
std::string describe_size(std::size_t bytes);

}  // namespace dynlib::util
