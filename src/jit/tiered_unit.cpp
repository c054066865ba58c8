// Tiered compilation of a BASE unit: background optimising compile, publish, mid-run tier-up.
#include "jit/tiered_unit.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "cache/cache_lock.hpp"
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
// cache entry, and LLVM's globals must outlive it. A job waiting for an entry lock is not waited for. A
// fork()ed child starts with no jobs (their threads do not exist there) and never waits for its parent's.
struct Pending {
  std::mutex mu;
  std::condition_variable cv;
  int count = 0;
};
std::atomic<Pending*> g_pending{nullptr};
Pending& pending() { return *g_pending.load(); }  // set up by register_exit_wait()

void wait_pending_at_exit() {
  // A job still waiting for a cache entry lock (held by a slow or stopped process) is no longer needed:
  // it gives up at once instead of holding up the exit.
  cache::abandon_lock_waits();
  auto& p = pending();
  std::unique_lock<std::mutex> lock(p.mu);
  p.cv.wait(lock, [&] { return p.count == 0; });
}

void register_exit_wait() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_pending = new Pending();  // never destroyed (used from atexit)
    // The child's copy may hold a count (and a locked mutex) of threads that are not there.
    ::pthread_atfork(nullptr, nullptr, [] { g_pending = new Pending(); });
    std::atexit(wait_pending_at_exit);
  });
}

// Test hooks (tests/jit/test_jit_tiered.cpp), read when the job starts (not on its thread):
// DYNLIB_JIT_TEST_TIER_DELAY_MS delays the optimising compile, DYNLIB_JIT_TEST_FAIL_OPTIMIZED=1 makes
// it fail, DYNLIB_JIT_TEST_TIER_AFTER_RUN=1 holds publish() until a runner call executes baseline code.
struct TestHooks {
  long long delay_ms = 0;
  bool fail = false, after_run = false;
  static TestHooks from_env() {
    TestHooks h;
    if (const char* d = std::getenv("DYNLIB_JIT_TEST_TIER_DELAY_MS"); d != nullptr && *d != '\0')
      h.delay_ms = std::atoll(d);
    if (const char* f = std::getenv("DYNLIB_JIT_TEST_FAIL_OPTIMIZED"); f != nullptr && f[0] == '1')
      h.fail = true;
    if (const char* r = std::getenv("DYNLIB_JIT_TEST_TIER_AFTER_RUN"); r != nullptr && r[0] == '1')
      h.after_run = true;
    return h;
  }
};

}  // namespace

TieredUnit::TieredUnit(std::shared_ptr<Generated> optimized)
    : optimized_(std::move(optimized)), current_(optimized_.get()), done_(true) {}

TieredUnit::TieredUnit(std::shared_ptr<Generated> baseline, double started_ms, BaselineTag)
    : baseline_(std::move(baseline)), current_(baseline_.get()), started_ms_(started_ms) {}

std::shared_ptr<TieredUnit> TieredUnit::start(const std::function<Generated()>& make_baseline, Job job) {
  // Baseline first, then the optimising job: started together, the two compiles slowed the baseline
  // (the latency setup() is waiting for) by 2x on a 2-core machine and brought the optimised code only
  // about 10% sooner (bench/jit_compile_latency).
  const double t0 = now_ms();
  auto u = std::make_shared<TieredUnit>(std::make_shared<Generated>(make_baseline()), t0, BaselineTag{});
  if (job)
    u->launch(std::move(job));
  else
    u->done_ = true;
  return u;
}

void TieredUnit::launch(Job job) {
  auto u = shared_from_this();
  launch_pid_ = ::getpid();
  register_exit_wait();
  const TestHooks hooks = TestHooks::from_env();
  Pending* p = &pending();
  {
    std::lock_guard<std::mutex> lock(p->mu);
    ++p->count;
  }
  auto body = [u, job = std::move(job), hooks, p]() mutable {
    try {
      if (hooks.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(hooks.delay_ms));
      if (hooks.fail)
        throw JitError("injected failure of the optimising compile (DYNLIB_JIT_TEST_FAIL_OPTIMIZED=1)");
      Optimized o = [&] {
        cache::LockWaitCancelScope cancel(&u->abandon_lock_waits_);
        return job();
      }();
      if (hooks.after_run) {
        std::unique_lock<std::mutex> lock(u->mu_);
        u->cv_.wait_for(lock, std::chrono::seconds(20), [&] { return !u->watched_.empty(); });
      }
      u->publish(std::move(o));
    } catch (const cache::LockAbandoned&) {
      u->keep_baseline();
    } catch (...) {
      u->fail(std::current_exception());
    }
    // Everything the job holds goes before the count does: the process may be exiting.
    job = nullptr;
    u.reset();
    std::lock_guard<std::mutex> lock(p->mu);
    if (--p->count == 0) p->cv.notify_all();
  };
  try {
    std::thread(std::move(body)).detach();
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
    for (Watch* w : watched_) {
      w->tiered_up = true;
      flag_ref(w->flag).fetch_or(kTierUpBit);
    }
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

void TieredUnit::keep_baseline() {
  {
    std::lock_guard<std::mutex> lock(mu_);
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
  if (!done_ && launch_pid_ != ::getpid())
    throw JitError(
        "the optimised code of this unit was still being compiled when the process fork()ed; the "
        "compile does not continue in the child process, which keeps the baseline code");
  cv_.wait(lock, [&] { return done_; });
  if (error_) std::rethrow_exception(error_);
}

void TieredUnit::wait_done() const noexcept {
  try {
    std::unique_lock<std::mutex> lock(mu_);
    if (launch_pid_ != ::getpid()) return;
    abandon_lock_waits_.store(true);
    cv_.wait(lock, [&] { return done_; });
  } catch (...) {
  }
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
      // A tier-up bit left in a flag that a baseline run of another Sim still watches is not a break.
      if (static_cast<Status>(a.status) == Status::USER_BREAK && a.user_break_flag != nullptr &&
          flag_ref(const_cast<std::int32_t*>(a.user_break_flag)).load() == kTierUpBit)
        continue;
      return;
    }
    if (a.resume_point == kernels::kResumeStart) check();  // never in the middle of a run
    // Baseline code: make the run stoppable by publish(). Without a user flag, a private one.
    std::int32_t own = 0;
    const std::int32_t* user = a.user_break_flag;
    Watch w{user != nullptr ? const_cast<std::int32_t*>(user) : &own};
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (current_.load(std::memory_order_relaxed) != g) continue;  // published meanwhile
      watched_.push_back(&w);
    }
    cv_.notify_all();  // DYNLIB_JIT_TEST_TIER_AFTER_RUN waits for this
    a.user_break_flag = w.flag;
    g->fns.runner(&a);
    a.user_break_flag = user;
    bool others_watch_flag = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      watched_.erase(std::find(watched_.begin(), watched_.end(), &w));
      for (const Watch* o : watched_) others_watch_flag = others_watch_flag || o->flag == w.flag;
    }
    // Another baseline run sharing the flag still has to see the bit; the last one clears it.
    const std::int32_t seen =
        others_watch_flag ? flag_ref(w.flag).load() : flag_ref(w.flag).fetch_and(~kTierUpBit);
    const bool user_break = (seen & ~kTierUpBit) != 0;
    if (static_cast<Status>(a.status) == Status::USER_BREAK && w.tiered_up && !user_break) {
      // Stopped at a step boundary for the tier-up (not by the user): continue in the optimised
      // runner. resume_point is already kResumeLoop, so nothing of the run start is repeated.
      switched_runs_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    return;
  }
}

}  // namespace dynlib::jit
