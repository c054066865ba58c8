// The disk cache of compiled code: the same program runs twice, as two processes. The first compiles
// the model and stores the object code under the cache root; the second loads it from disk.
//
//   cache_demo [CACHE_ROOT]
// With CACHE_ROOT, a config naming it is written to CACHE_ROOT/config.toml and used through
// DYNLIB_CONFIG (otherwise the configured/default cache root is used: see docs/cache.md).
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <dynlib/dynlib.hpp>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

int child(int index) {
  // Load the JIT component first: its one-time cost (dlopen of libLLVM) is not part of setup().
  const auto tl = std::chrono::steady_clock::now();
  if (!dynlib::jit_available()) {
    std::printf("the JIT component is not available (build with -DDYNLIB_WITH_LLVM=ON)\n");
    return 0;
  }
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - tl).count();
  const auto t0 = std::chrono::steady_clock::now();
  auto sim = dynlib::setup("builtin://ode/lorenz", {.stepper = "rk4", .jit = true, .disk_cache = true});
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const std::string origin = sim.model().cache_origin();
  std::printf("process %d: setup() took %.2f ms: %s (JIT component load %.1f ms)\n", index, ms,
              origin == "built"  ? "compiled and stored"
              : origin == "disk" ? "loaded from disk"
                                 : "reused in memory",
              load_ms);
  sim.run({.T = 10.0, .dt = 0.01});
  std::printf("process %d: x(10) = %.12f\n", index, sim.state("x"));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "--child") return child(std::atoi(argv[2]));
  if (argc >= 2) {
    const std::filesystem::path root = std::filesystem::absolute(argv[1]);
    std::filesystem::create_directories(root);
    const auto cfg = root / "config.toml";
    std::ofstream(cfg) << "[cache]\nroot = \"" << root.string() << "\"\n";
    ::setenv("DYNLIB_CONFIG", cfg.c_str(), 1);
  }
  for (int i = 1; i <= 2; ++i) {
    std::fflush(stdout);
    const pid_t pid = ::fork();
    if (pid == 0) {
      const std::string idx = std::to_string(i);
      ::execl("/proc/self/exe", argv[0], "--child", idx.c_str(), static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      std::printf("process %d failed\n", i);
      return 1;
    }
  }
  return 0;
}
