// A progress line on stderr for long commands (sweep, lyapunov): after the first second, redrawn every
// 200 ms from a helper thread while the work runs on the calling thread; only when stderr is a terminal.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace dynlib::cli {

class ProgressLine {
 public:
  // `text(elapsed_seconds)` is the line to show ("37/100 points  1.2 s"). Nothing is shown if `enabled` is
  // false or stderr is not a terminal.
  ProgressLine(bool enabled, std::function<std::string(double)> text);
  ~ProgressLine();  // stops the thread and ends the line
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

 private:
  std::function<std::string(double)> text_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false;
  bool drew_ = false;
  std::thread thread_;
};

}  // namespace dynlib::cli
