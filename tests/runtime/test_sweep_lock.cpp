// The lock that keeps a second sweep off an output file a sweep is writing: refused at once with the
// holder named, a lock file left by a dead process reused, unsafe lock files refused and left alone.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <dynlib/dynlib.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/sweep_lock.hpp"
#include "util/regular_file.hpp"

using namespace dynlib;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path d =
      fs::temp_directory_path() / ("dynlib_sweep_lock_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string read(const fs::path& p) { return util::read_regular_file(p, 1 << 20); }

void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

SweepFileSummary small_sweep(const fs::path& out) {
  auto fm = build("builtin://map/logistic");
  return sweep_to_csv(fm, {SweepAxis::linspace("r", 3.0, 4.0, 5)}, {.N = 20, .threads = 1}, {}, out);
}

}  // namespace

TEST_CASE("sweep lock: a second writer of the same file is refused, naming the holder", "[sweep][lock]") {
  const auto d = fresh_dir("held");
  const auto out = d / "map.csv";
  {
    core::SweepLock first(out);
    CHECK_THAT(read(core::SweepLock::lock_path(out)),
               Catch::StartsWith("dynlib sweep lock: process " + std::to_string(::getpid())));
    // Another lock of the same file (here in the same process) and a sweep on it both fail at once.
    CHECK_THROWS_WITH(core::SweepLock(out),
                      Contains("'" + out.string() + "' is being written by another sweep (process " +
                               std::to_string(::getpid())));
    CHECK_THROWS_WITH(small_sweep(out), Contains("is being written by another sweep"));
    CHECK_FALSE(fs::exists(out.string() + ".partial"));  // the refused sweep wrote nothing
    CHECK_FALSE(fs::exists(out));
  }
  CHECK_FALSE(fs::exists(core::SweepLock::lock_path(out)));  // removed by its holder
  const auto sum = small_sweep(out);                         // free again
  CHECK(sum.points == 5);
  CHECK(fs::exists(out));
  CHECK_FALSE(fs::exists(core::SweepLock::lock_path(out)));
  fs::remove_all(d);
}

TEST_CASE("sweep lock: the lock file of a dead sweep does not block", "[sweep][lock]") {
  const auto d = fresh_dir("stale");
  const auto out = d / "map.csv";
  const auto lock = core::SweepLock::lock_path(out);
  write(lock, "dynlib sweep lock: process 999999999 on elsewhere\n");  // its holder is gone: no flock
  CHECK(small_sweep(out).points == 5);
  CHECK_FALSE(fs::exists(lock));
  write(lock, "");  // created, then killed before it wrote its record
  CHECK(small_sweep(out).points == 5);
  CHECK_FALSE(fs::exists(lock));
  fs::remove_all(d);
}

TEST_CASE("sweep lock: a lock file that is not a sweep's is refused and left alone", "[sweep][lock]") {
  const auto d = fresh_dir("unsafe");
  const auto out = d / "map.csv";
  const auto lock = core::SweepLock::lock_path(out);
  // A symbolic link (to a file someone wants us to write) is not followed.
  write(d / "precious.txt", "keep me\n");
  fs::create_symlink(d / "precious.txt", lock);
  CHECK_THROWS_WITH(small_sweep(out),
                    Contains("Cannot use '" + lock.string() + "' as the lock of the sweep writing '" +
                             out.string() + "': it is a symbolic link"));
  CHECK(read(d / "precious.txt") == "keep me\n");
  CHECK(fs::is_symlink(lock));
  fs::remove(lock);
  // A file with other content is not truncated or removed.
  write(lock, "someone's notes\n");
  CHECK_THROWS_WITH(small_sweep(out),
                    Contains("it is not a sweep's lock file (delete it if no sweep is writing"));
  CHECK(read(lock) == "someone's notes\n");
  fs::remove(lock);
  // A directory (or FIFO, device) is not a lock file.
  fs::create_directory(lock);
  CHECK_THROWS_WITH(small_sweep(out), Contains("Cannot use '" + lock.string() + "'"));
  CHECK(fs::is_directory(lock));
  CHECK_FALSE(fs::exists(out));
  fs::remove_all(d);
}
