// Helpers for the cache tests: temp dirs, warning capture, child processes.
#pragma once
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/warnings.hpp"

extern char** environ;

namespace cache_test {
namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "dynlib-cache-test-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// Captures every warning while alive (restores the default sink at scope exit).
struct WarningCapture {
  std::mutex m;
  std::vector<std::string> messages;
  WarningCapture() {
    dynlib::set_warning_handler([this](std::string_view w) {
      std::lock_guard<std::mutex> l(m);
      messages.emplace_back(w);
    });
  }
  ~WarningCapture() { dynlib::set_warning_handler({}); }
  std::vector<std::string> get() {
    std::lock_guard<std::mutex> l(m);
    return messages;
  }
};

// Every file and directory under `root` (relative paths, sorted); empty if root does not exist.
inline std::set<std::string> listing(const fs::path& root) {
  std::set<std::string> out;
  std::error_code ec;
  if (!fs::exists(root, ec)) return out;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec))
    out.insert(fs::relative(it->path(), root).string());
  return out;
}

// A child process whose stdout is a pipe.
struct Child {
  pid_t pid = -1;
  int out_fd = -1;
  std::string output;

  // Reads until `marker` appears in the output or EOF. Returns true if found.
  bool read_until(const std::string& marker) {
    char buf[4096];
    while (output.find(marker) == std::string::npos) {
      const ssize_t n = ::read(out_fd, buf, sizeof buf);
      if (n <= 0) return output.find(marker) != std::string::npos;
      output.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  // Waits at most `limit` for the exit (then SIGKILLs it and returns kTimedOut); else like finish().
  static constexpr int kTimedOut = -1000;
  int finish_within(std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    int st = 0;
    while (::waitpid(pid, &st, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > end) {
        ::kill(pid, SIGKILL);
        finish();
        return kTimedOut;
      }
      ::usleep(50000);
    }
    read_until("\x01never\x01");
    ::close(out_fd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
  }
  // Reads everything and waits; returns the exit status (-signal if killed).
  int finish() {
    read_until("\x01never\x01");
    ::close(out_fd);
    int st = 0;
    ::waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
  }
};

inline Child spawn(const std::vector<std::string>& argv) {
  int p[2];
  if (::pipe(p) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  posix_spawn_file_actions_addclose(&fa, p[0]);
  posix_spawn_file_actions_addclose(&fa, p[1]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  Child c;
  const int rc = ::posix_spawn(&c.pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(p[1]);
  if (rc != 0) {
    ::close(p[0]);
    throw std::runtime_error("posix_spawn failed for " + argv[0]);
  }
  c.out_fd = p[0];
  return c;
}

inline long long epoch_ms_from_now(int ms) {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count() + ms;
}

inline int count(const std::string& hay, const std::string& needle) {
  int n = 0;
  for (std::size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace cache_test
