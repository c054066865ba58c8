// Tiered compilation of a BASE unit: background optimising compile, publish, mid-run tier-up.
#include "jit/tiered_unit.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "dynlib/errors.hpp"
#include "dynlib/status.hpp"

namespace dynlib::jit {
namespace {

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Set in the break flag of a baseline runner call when the optimised code is published. The runner
// only tests the flag for != 0; users set 1, so the bit tells a tier-up from a user break.
constexpr std::int32_t kTierUpBit = std::int32_t{1} << 30;

std::atomic_ref<std::int32_t> flag_ref(std::int32_t* p) { return std::atomic_ref<std::int32_t>(*p); }

// Background jobs still running. The process waits for them at exit: a job may be writing a disk
// cache entry, and LLVM's globals must outlive it.
struct Pending {
  std::mutex mu;
  std::condition_variable cv;
  int count = 0;
  std::atomic<pid_t> pid{
      0};  // the process the jobs run in: a fork()ed child has none of them, and never waits
};
Pending& pending() {
  static auto* p = new Pending();  // never destroyed (used from atexit)
  return *p;
}
void wait_pending_at_exit() {
  auto& p = pending();
  if (p.pid != ::getpid()) return;  // checked before the lock, which a fork()ed child may never get
  std::unique_lock<std::mutex> lock(p.mu);
  p.cv.wait(lock, [&] { return p.count == 0; });
}

// Test hooks (tests/jit/test_jit_tiered.cpp): delay the optimising compile, or make it fail.
void test_hooks() {
  if (const char* d = std::getenv("DYNLIB_JIT_TEST_TIER_DELAY_MS"); d != nullptr && *d != '\0')
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoll(d)));
  if (const char* f = std::getenv("DYNLIB_JIT_TEST_FAIL_OPTIMIZED"); f != nullptr && f[0] == '1')
    throw JitError("injected failure of the optimising compile (DYNLIB_JIT_TEST_FAIL_OPTIMIZED=1)");
}

}  // namespace

TieredUnit::TieredUnit(std::shared_ptr<Generated> optimized)
    : optimized_(std::move(optimized)), current_(optimized_.get()), done_(true) {}

TieredUnit::TieredUnit(BaselineTag) : current_(nullptr), started_ms_(now_ms()) {}

std::shared_ptr<TieredUnit> TieredUnit::start(const std::function<Generated()>& make_baseline, Job job) {
  // Baseline first, then the optimising job: started together, the two compiles slowed the baseline
  // (the latency setup() is waiting for) by 2x on a 2-core machine and brought the optimised code only
  // about 10% sooner (bench/jit_compile_latency).
  auto u = std::make_shared<TieredUnit>(BaselineTag{});
  u->baseline_ = std::make_shared<Generated>(make_baseline());
  u->has_baseline_ = true;
  u->current_.store(u->baseline_.get(), std::memory_order_release);
  if (job)
    u->launch(std::move(job));
  else
    u->done_ = true;
  return u;
}

void TieredUnit::launch(Job job) {
  auto u = shared_from_this();
  static std::once_flag once;
  std::call_once(once, [] { std::atexit(wait_pending_at_exit); });
  {
    std::lock_guard<std::mutex> lock(pending().mu);
    ++pending().count;
    pending().pid = ::getpid();
  }
  auto body = [u, job = std::move(job)] {
    try {
      test_hooks();
      u->publish(job());
    } catch (...) {
      u->fail(std::current_exception());
    }
    auto& p = pending();
    std::lock_guard<std::mutex> lock(p.mu);
    if (--p.count == 0) p.cv.notify_all();
  };
  try {
    std::thread(body).detach();
  } catch (const std::system_error&) {
    body();  // no thread available: optimise now, in this thread
  }
}

void TieredUnit::publish(Optimized o) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    optimized_ = std::move(o.gen);
    rec_ = std::move(o.rec);
    published_ms_ = now_ms();
    current_.store(optimized_.get(), std::memory_order_release);
    for (std::int32_t* f : watched_) flag_ref(f).fetch_or(kTierUpBit);
    done_ = true;
  }
  cv_.notify_all();
}

void TieredUnit::fail(std::exception_ptr e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = std::move(e);
    done_ = true;
  }
  cv_.notify_all();
}

void TieredUnit::check() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_) std::rethrow_exception(error_);
}

void TieredUnit::wait() const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return done_; });
  if (error_) std::rethrow_exception(error_);
}

std::optional<core::JitCacheRecord> TieredUnit::optimized_record() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rec_;
}

double TieredUnit::tier_up_ms() const {
  std::lock_guard<std::mutex> lock(mu_);
  return published_ms_ > 0 ? published_ms_ - started_ms_ : 0.0;
}

void TieredUnit::run(kernels::RunnerArgs& a) const {
  for (;;) {
    const Generated* g = current_.load(std::memory_order_acquire);
    if (!g->baseline) {
      g->fns.runner(&a);
      return;
    }
    check();
    // Baseline code: make the run stoppable by publish(). Without a user flag, a private one.
    std::int32_t own = 0;
    const std::int32_t* user = a.user_break_flag;
    std::int32_t* flag = user != nullptr ? const_cast<std::int32_t*>(user) : &own;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (current_.load(std::memory_order_relaxed) != g) continue;  // published meanwhile
      watched_.push_back(flag);
    }
    a.user_break_flag = flag;
    g->fns.runner(&a);
    a.user_break_flag = user;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = watched_.begin(); it != watched_.end(); ++it)
        if (*it == flag) {
          watched_.erase(it);
          break;
        }
    }
    const std::int32_t seen = flag_ref(flag).fetch_and(~kTierUpBit);
    const bool tier_up_only = (seen & kTierUpBit) != 0 && (seen & ~kTierUpBit) == 0;
    if (static_cast<Status>(a.status) == Status::USER_BREAK && tier_up_only) {
      // Stopped at a step boundary for the tier-up (not by the user): continue in the optimised
      // runner. resume_point is already kResumeLoop, so nothing of the run start is repeated.
      switched_runs_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    return;
  }
}

}  // namespace dynlib::jit
