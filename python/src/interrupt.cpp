#include "interrupt.hpp"

#include <csignal>

#include "bindings.hpp"

namespace dynlib::python {
namespace {

std::atomic<std::int32_t>* g_flag = nullptr;  // the running Sim's break flag
volatile std::sig_atomic_t g_interrupted = 0;
struct sigaction g_previous {};

static_assert(std::atomic<std::int32_t>::is_always_lock_free, "the signal handler stores to the flag");

extern "C" void on_sigint(int) {
  g_interrupted = 1;
  if (g_flag) g_flag->store(1, std::memory_order_relaxed);
}

bool python_default_handler_active() {
  auto signal = py::module_::import("signal");
  auto threading = py::module_::import("threading");
  if (!threading.attr("current_thread")().is(threading.attr("main_thread")())) return false;
  return signal.attr("getsignal")(signal.attr("SIGINT")).is(signal.attr("default_int_handler"));
}

}  // namespace

InterruptScope::InterruptScope(std::atomic<std::int32_t>& break_flag) {
  if (g_flag || !python_default_handler_active()) return;  // nested or not ours to change
  g_flag = &break_flag;
  g_interrupted = 0;
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGINT, &sa, &g_previous) == 0) {
    installed_ = true;
  } else {
    g_flag = nullptr;
  }
}

InterruptScope::~InterruptScope() {
  if (!installed_) return;
  sigaction(SIGINT, &g_previous, nullptr);
  g_flag = nullptr;
}

bool InterruptScope::interrupted() const noexcept { return installed_ && g_interrupted != 0; }

}  // namespace dynlib::python
