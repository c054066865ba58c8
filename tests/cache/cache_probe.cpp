// Helper process for the multi-process cache tests (and the CLI tests).
//   cache_probe [--root DIR] [--model HASH] [--stepper S] [--dtype D] [--family F] [--sleep-ms N]
//               [--start-at EPOCH_MS] [--no-disk] [--print-digest]
// Looks up one key with CodeCache::get_or_build. The builder prints "building" (flushed), sleeps N ms
// (default 200) and returns probe_payload(digest). Then prints "built", "loaded" (from disk) or "memory",
// and "ok" if the bytes are the expected ones ("MISMATCH" and exit 3 otherwise). Without --root the
// root comes from DYNLIB_CONFIG / XDG like in the library. Warnings are printed as "warning: <text>".
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "cache/code_cache.hpp"
#include "cache/probe_payload.hpp"
#include "core/cache_config.hpp"
#include "core/warnings.hpp"

int main(int argc, char** argv) {
  using namespace dynlib::cache;
  CacheSettings settings;
  CacheKey key;
  key.model_hash = "0123456789abcdef0123456789abcdef";
  key.stepper = "rk4";
  key.target_triple = "x86_64-pc-linux-gnu";
  key.template_version = "probe-1";
  long sleep_ms = 200;
  long long start_at = 0;
  bool disk = true, print_digest = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "cache_probe: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--root")
      settings.root = next();
    else if (a == "--model")
      key.model_hash = next();
    else if (a == "--stepper")
      key.stepper = next();
    else if (a == "--dtype")
      key.dtype = next();
    else if (a == "--family") {
      if (!parse_family(next(), key.family)) return 2;
    } else if (a == "--sleep-ms")
      sleep_ms = std::atol(next().c_str());
    else if (a == "--start-at")
      start_at = std::atoll(next().c_str());
    else if (a == "--no-disk")
      disk = false;
    else if (a == "--print-digest")
      print_digest = true;
    else {
      std::fprintf(stderr, "cache_probe: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (print_digest) {
    std::printf("%s\n", key.digest().c_str());
    return 0;
  }
  dynlib::set_warning_handler([](std::string_view w) {
    std::printf("warning: %.*s\n", static_cast<int>(w.size()), w.data());
    std::fflush(stdout);
  });
  if (start_at > 0) {
    const auto target = std::chrono::system_clock::time_point(std::chrono::milliseconds(start_at));
    std::this_thread::sleep_until(target);
  }
  CodeCache cache(dynlib::core::cache_settings(settings));
  const std::string digest = key.digest();
  LookupOptions opts;
  opts.disk_cache = disk;
  opts.components = {"rhs", "stepper", "runner"};
  const auto t0 = std::chrono::steady_clock::now();
  const CacheResult r = cache.get_or_build(
      key,
      [&] {
        std::printf("building\n");
        std::fflush(stdout);
        std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
        return testing::probe_payload(digest);
      },
      opts);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const char* what = r.origin == Origin::Built ? "built" : r.origin == Origin::Disk ? "loaded" : "memory";
  const bool ok = *r.object == testing::probe_payload(digest);
  std::printf("%s\n%s\ndigest %s\ntime_ms %.3f\n", what, ok ? "ok" : "MISMATCH", digest.c_str(), ms);
  return ok ? 0 : 3;
}
