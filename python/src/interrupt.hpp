// Ctrl-C during a run: while the GIL is released Python cannot see SIGINT, so for the duration of a
// run on the main thread we install a handler that sets the Sim's break flag (the run stops after the
// current step and keeps its partial results); the caller then raises KeyboardInterrupt.
#pragma once
#include <atomic>
#include <cstdint>

namespace dynlib::python {

class InterruptScope {
 public:
  // Installs the handler only on Python's main thread and only when Python's own SIGINT handler is in
  // place (a user's handler is left alone). Needs the GIL.
  explicit InterruptScope(std::atomic<std::int32_t>& break_flag);
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;
  [[nodiscard]] bool interrupted() const noexcept;

 private:
  bool installed_ = false;
};

}  // namespace dynlib::python
