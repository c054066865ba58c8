// Real processes (cache_probe) racing on one cache root.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>

#include "cache/cache_test_util.hpp"
#include "cache/code_cache.hpp"
#include "cache/entry_file.hpp"

using namespace cache_test;
namespace fs = std::filesystem;

TEST_CASE("processes: 8 started together on an empty cache, exactly one builds", "[cache][process]") {
  TempDir t;
  const std::string root = (t.path / "root").string();
  const std::string start = std::to_string(epoch_ms_from_now(400));
  std::vector<Child> kids;
  for (int i = 0; i < 8; ++i)
    kids.push_back(spawn({CACHE_PROBE_PATH, "--root", root, "--sleep-ms", "200", "--start-at", start}));
  int built = 0, loaded = 0;
  for (auto& k : kids) {
    CHECK(k.finish() == 0);
    INFO(k.output);
    CHECK(count(k.output, "\nok\n") == 1);
    CHECK(count(k.output, "warning") == 0);
    built += count(k.output, "built\n");
    loaded += count(k.output, "loaded\n");
  }
  CHECK(built == 1);
  CHECK(loaded == 7);
  // A ninth process loads from disk at once.
  auto late = spawn({CACHE_PROBE_PATH, "--root", root, "--sleep-ms", "200"});
  CHECK(late.finish() == 0);
  CHECK(count(late.output, "loaded\n") == 1);
  CHECK(count(late.output, "building") == 0);
}

TEST_CASE("processes: a holder killed with SIGKILL does not block the next", "[cache][process]") {
  TempDir t;
  const std::string root = (t.path / "root").string();
  auto holder = spawn({CACHE_PROBE_PATH, "--root", root, "--sleep-ms", "60000"});
  REQUIRE(holder.read_until("building\n"));  // inside the builder: the lock is held
  ::kill(holder.pid, SIGKILL);
  CHECK(holder.finish() == -SIGKILL);
  const auto t0 = std::chrono::steady_clock::now();
  auto next = spawn({CACHE_PROBE_PATH, "--root", root, "--sleep-ms", "200"});
  CHECK(next.finish() == 0);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO(next.output);
  CHECK(count(next.output, "built\n") == 1);
  CHECK(count(next.output, "\nok\n") == 1);
  CHECK(s < 5.0);
}

TEST_CASE("processes: a waiter loads what the (live) holder built", "[cache][process]") {
  TempDir t;
  const std::string root = (t.path / "root").string();
  auto holder = spawn({CACHE_PROBE_PATH, "--root", root, "--sleep-ms", "700"});
  REQUIRE(holder.read_until("building\n"));
  auto waiter = spawn({CACHE_PROBE_PATH, "--root", root, "--sleep-ms", "200"});
  CHECK(waiter.finish() == 0);
  CHECK(holder.finish() == 0);
  CHECK(count(holder.output, "built\n") == 1);
  CHECK(count(waiter.output, "loaded\n") == 1);
  CHECK(count(waiter.output, "building") == 0);
}

TEST_CASE("processes: a stopped (SIGSTOP) holder costs a bounded, reported wait", "[cache][process]") {
  TempDir t;
  const std::string root = (t.path / "root").string();
  auto holder = spawn({CACHE_PROBE_PATH, "--root", root, "--sleep-ms", "60000"});
  REQUIRE(holder.read_until("building\n"));  // inside the builder: the lock is held
  ::kill(holder.pid, SIGSTOP);
  // Test-only: shortens the lock timeout of the child's CodeCache (the default is 120 s).
  ::setenv("DYNLIB_CACHE_TEST_LOCK_TIMEOUT_MS", "1500", 1);
  auto next = spawn({CACHE_PROBE_PATH, "--root", root, "--sleep-ms", "0"});
  ::unsetenv("DYNLIB_CACHE_TEST_LOCK_TIMEOUT_MS");
  const int rc = next.finish_within(std::chrono::seconds(30));
  ::kill(holder.pid, SIGKILL);
  ::kill(holder.pid, SIGCONT);
  holder.finish();
  INFO(next.output);
  CHECK(rc == 0);
  CHECK(count(next.output, "built\n") == 1);
  CHECK(count(next.output, "warning: dynlib disk cache: timed out after 1500 ms waiting for cache lock") ==
        1);
  CHECK(count(next.output,
              "(its file names process " + std::to_string(holder.pid) + "); building without the lock") == 1);
}
