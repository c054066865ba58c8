// read_regular_file(): only regular files within a limit, never blocking on FIFOs or devices.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "util/regular_file.hpp"

namespace fs = std::filesystem;
using dynlib::util::FileReadError;
using dynlib::util::read_regular_file;
using dynlib::util::Symlinks;

namespace {
struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/dynlib-regular-file-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string message_of(const fs::path& p, std::size_t limit, Symlinks s = Symlinks::follow) {
  try {
    (void)read_regular_file(p, limit, s);
  } catch (const FileReadError& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("read_regular_file reads a regular file whole, empty files included", "[util]") {
  TempDir d;
  std::ofstream(d.path / "a") << "hello\nworld";
  std::ofstream(d.path / "empty");
  CHECK(read_regular_file(d.path / "a", 1024) == "hello\nworld");
  CHECK(read_regular_file(d.path / "a", 11) == "hello\nworld");
  CHECK(read_regular_file(d.path / "empty", 1024).empty());
  std::string big(200000, 'x');
  std::ofstream(d.path / "big") << big;
  CHECK(read_regular_file(d.path / "big", 1 << 20) == big);
}

TEST_CASE("read_regular_file refuses files over the limit before reading them", "[util]") {
  TempDir d;
  std::ofstream(d.path / "a") << "0123456789";
  CHECK_THAT(message_of(d.path / "a", 9), Catch::Contains("larger than the limit of 9 bytes"));
  // A 3 GiB sparse file is refused at once, not read.
  { std::ofstream f(d.path / "sparse"); }
  REQUIRE(::truncate((d.path / "sparse").c_str(), off_t{3} << 30) == 0);
  CHECK_THAT(message_of(d.path / "sparse", std::size_t{256} << 20),
             Catch::Contains("3 GiB, larger than the limit of 256 MiB"));
}

TEST_CASE("read_regular_file refuses FIFOs, devices and directories without blocking", "[util]") {
  TempDir d;
  REQUIRE(::mkfifo((d.path / "fifo").c_str(), 0600) == 0);
  CHECK_THAT(message_of(d.path / "fifo", 1024),
             Catch::Contains("is a FIFO (named pipe), not a regular file"));
  CHECK_THAT(message_of("/dev/zero", 1024), Catch::Contains("is a character device"));
  CHECK_THAT(message_of(d.path, 1024), Catch::Contains("is a directory"));
  CHECK_THAT(message_of(d.path / "missing", 1024), Catch::Contains("No such file or directory"));
  // A symlink to /dev/zero is judged by what it points to.
  fs::create_symlink("/dev/zero", d.path / "zero");
  CHECK_THAT(message_of(d.path / "zero", 1024), Catch::Contains("character device"));
}

TEST_CASE("read_regular_file refuses symlinks when asked to", "[util]") {
  TempDir d;
  std::ofstream(d.path / "target") << "x";
  fs::create_symlink(d.path / "target", d.path / "link");
  CHECK(read_regular_file(d.path / "link", 16) == "x");
  CHECK_THAT(message_of(d.path / "link", 16, Symlinks::refuse),
             Catch::Contains("is a symbolic link, refused"));
  CHECK(read_regular_file(d.path / "target", 16, Symlinks::refuse) == "x");
}
