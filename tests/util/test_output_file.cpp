// OutputFile / write_output_file(): atomic replace, every write checked, refused non-regular targets,
// a failed write leaves the old file and no temporary file behind.
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/output_file.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using dynlib::util::check_output_path;
using dynlib::util::FileWriteError;
using dynlib::util::OutputFile;
using dynlib::util::same_output_path;
using dynlib::util::write_output_file;

namespace {
struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/dynlib-output-file-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t entries(const fs::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}
}  // namespace

TEST_CASE("write_output_file replaces the content and keeps the mode", "[output_file]") {
  TempDir d;
  const auto p = d.path / "out.csv";
  write_output_file(p, "one\n");
  CHECK(read_all(p) == "one\n");
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
  write_output_file(p, "two\n");
  CHECK(read_all(p) == "two\n");
  CHECK(fs::status(p).permissions() == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(entries(d.path) == 1);
  // Large content goes through the buffer in several writes.
  std::string big(300000, 'x');
  OutputFile f(p);
  f.write("a");
  f.write(big);
  f.write("b");
  f.commit();
  CHECK(read_all(p) == "a" + big + "b");
}

TEST_CASE("an uncommitted OutputFile leaves the old file and no temporary", "[output_file]") {
  TempDir d;
  const auto p = d.path / "out.csv";
  write_output_file(p, "old\n");
  {
    OutputFile f(p);
    f.write("new\n");
  }
  CHECK(read_all(p) == "old\n");
  CHECK(entries(d.path) == 1);
}

TEST_CASE("targets that are not regular files are refused", "[output_file]") {
  TempDir d;
  CHECK_THROWS_WITH(write_output_file("/dev/full", "x"),
                    "/dev/full: is a character device, refused (only regular files are written)");
  struct stat st {};
  REQUIRE(::stat("/dev/full", &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
  CHECK_THROWS_WITH(write_output_file(d.path, "x"), Contains("is a directory, refused"));
  const auto fifo = d.path / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(write_output_file(fifo, "x"), Contains("is a FIFO (named pipe), refused"));
  CHECK_THROWS_WITH(check_output_path("/nonexistent-dir/x.csv"),
                    "/nonexistent-dir/x.csv: directory '/nonexistent-dir': No such file or directory");
  CHECK_THROWS_WITH(check_output_path(fifo / "x.csv"), Contains("is not a directory"));
  CHECK(entries(d.path) == 1);
}

TEST_CASE("a write that fails half-way keeps the old file", "[output_file]") {
  TempDir d;
  const auto p = d.path / "out.csv";
  write_output_file(p, "old\n");
  // A file size limit makes write() fail with EFBIG once SIGXFSZ is ignored, as a full disk would.
  rlimit old_limit{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old_limit;
  small.rlim_cur = 100000;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
  std::string message;
  try {
    write_output_file(p, std::string(300000, 'y'));
  } catch (const FileWriteError& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  CHECK(message == p.string() + ": write failed: File too large");
  CHECK(read_all(p) == "old\n");
  CHECK(entries(d.path) == 1);
}

TEST_CASE("same_output_path", "[output_file]") {
  TempDir d;
  CHECK(same_output_path(d.path / "a.csv", d.path / "." / "a.csv"));
  CHECK_FALSE(same_output_path(d.path / "a.csv", d.path / "b.csv"));
  write_output_file(d.path / "a.csv", "x");
  fs::create_symlink(d.path / "a.csv", d.path / "link.csv");
  CHECK(same_output_path(d.path / "a.csv", d.path / "link.csv"));
}
