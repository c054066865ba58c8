#include "cli/progress.hpp"

#include <unistd.h>

#include <cstdio>

namespace dynlib::cli {

ProgressLine::ProgressLine(bool enabled, std::function<std::string(double)> text) : text_(std::move(text)) {
  if (!enabled || !::isatty(STDERR_FILENO)) return;
  thread_ = std::thread([this] {
    const auto start = std::chrono::steady_clock::now();
    std::unique_lock lk(mu_);
    if (cv_.wait_for(lk, std::chrono::seconds(1), [&] { return finished_; })) return;
    while (!finished_) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "\r%s\033[K", text_(elapsed).c_str());
      std::fflush(stderr);
      drew_ = true;
      cv_.wait_for(lk, std::chrono::milliseconds(200), [&] { return finished_; });
    }
  });
}

ProgressLine::~ProgressLine() {
  {
    std::lock_guard lk(mu_);
    finished_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (drew_) std::fputs("\n", stderr);
}

}  // namespace dynlib::cli
