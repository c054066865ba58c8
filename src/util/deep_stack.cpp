#include "util/deep_stack.hpp"

#include <pthread.h>

#include <cstdint>
#include <exception>
#include <limits>

namespace dynlib::util {

namespace {

// Lowest usable address of this thread's stack (0 = unknown), looked up once per thread.
std::uintptr_t stack_low_end() noexcept {
  thread_local std::uintptr_t low = [] {
    std::uintptr_t out = 0;
    pthread_attr_t attr;
    if (::pthread_getattr_np(::pthread_self(), &attr) == 0) {
      void* addr = nullptr;
      std::size_t size = 0;
      std::size_t guard = 0;
      if (::pthread_attr_getstack(&attr, &addr, &size) == 0) {
        ::pthread_attr_getguardsize(&attr, &guard);
        out = reinterpret_cast<std::uintptr_t>(addr) + guard;
      }
      ::pthread_attr_destroy(&attr);
    }
    return out;
  }();
  return low;
}

struct Job {
  const std::function<void()>* fn;
  std::exception_ptr error;
};

void* run_job(void* p) {
  auto* job = static_cast<Job*>(p);
  try {
    (*job->fn)();
  } catch (...) {
    job->error = std::current_exception();
  }
  return nullptr;
}

}  // namespace

std::size_t stack_left() noexcept {
  const std::uintptr_t low = stack_low_end();
  if (low == 0) return std::numeric_limits<std::size_t>::max();
  // The frame address, not the address of a local: under AddressSanitizer locals may live on a "fake
  // stack" on the heap, far from the thread's real stack.
  const auto at = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  return at > low ? at - low : 0;
}

void run_with_large_stack(const std::function<void()>& fn) {
  if (stack_left() >= kLargeStackBytes / 2) {
    fn();
    return;
  }
  Job job{&fn, nullptr};
  pthread_attr_t attr;
  pthread_t th;
  bool started = false;
  if (::pthread_attr_init(&attr) == 0) {
    started = ::pthread_attr_setstacksize(&attr, kLargeStackBytes) == 0 &&
              ::pthread_create(&th, &attr, &run_job, &job) == 0;
    ::pthread_attr_destroy(&attr);
  }
  if (!started) {
    fn();  // no thread: recursive walks still stop at stack_low() with an error instead of crashing
    return;
  }
  ::pthread_join(th, nullptr);
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace dynlib::util
