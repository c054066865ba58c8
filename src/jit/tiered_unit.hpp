// Tiered compilation of a BASE unit (docs/jit.md "Tiered compilation"). No LLVM headers.
//
// A unit that has to be compiled (no memory or disk hit) is first compiled as a baseline (O0 IR
// pipeline, fast instruction selection and register allocation: about a third of the full compile),
// so setup() returns quickly with native code. A background thread compiles the optimised unit (and,
// with disk_cache, stores it); publish() then switches every entry point to it. A runner call that is
// executing baseline code when that happens is interrupted at the next step boundary, through the
// runner's user-break check, and continues in the optimised runner with the same RunnerArgs: the
// re-entry protocol of runner_abi.hpp, so the results are the same bits (strict IEEE in both tiers).
#pragma once
#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "core/jit_loader.hpp"
#include "jit/codegen.hpp"
#include "kernels/runner_abi.hpp"

namespace dynlib::jit {

class TieredUnit : public std::enable_shared_from_this<TieredUnit> {
 public:
  struct Optimized {
    std::shared_ptr<Generated> gen;
    core::JitCacheRecord rec;  // how the optimised unit was obtained ("built" or "disk")
  };
  using Job = std::function<Optimized()>;

  // Optimised from the start (cache hit, tiering off).
  explicit TieredUnit(std::shared_ptr<Generated> optimized);
  // Compiles the baseline with make_baseline() in this thread (throws what it throws), then starts
  // `job`, the optimising compile, on a background thread. job == nullptr: the baseline is final
  // (DYNLIB_JIT_TIER=baseline). The process waits for pending jobs at exit.
  static std::shared_ptr<TieredUnit> start(const std::function<Generated()>& make_baseline, Job job);

  // The unit whose entry points are used now (baseline, then optimised).
  const Generated& current() const noexcept { return *current_.load(std::memory_order_acquire); }
  // Null when the unit was optimised from the start.
  const Generated* baseline() const noexcept { return baseline_.get(); }
  bool optimized() const noexcept { return !current().baseline; }
  // Rethrows the error of a failed optimising compile (JitError naming the model).
  void check() const;
  // Blocks until the optimised code is in use (or its compile failed: rethrows that error). A
  // baseline-only unit (no job) returns at once. In a fork()ed child whose parent was still
  // optimising, throws JitError (the compile thread does not exist there; the baseline code stays).
  void wait() const;
  // Blocks until the background job is over (never throws; returns at once in a fork()ed child). A job
  // that is only waiting for a cache entry lock gives up at once and the unit keeps its baseline code.
  // JitModel's destructor calls it: a program's models die before exit() destroys static objects,
  // which a running LLVM compile may still use (LLVM creates some of them lazily, after the atexit wait
  // was registered, so that wait alone runs too late for them).
  void wait_done() const noexcept;
  // The optimised unit's cache record, once there is one.
  std::optional<core::JitCacheRecord> optimized_record() const;
  // Milliseconds from start() to publish() (0 if optimised from the start or not yet published).
  double tier_up_ms() const;
  // Runner calls that were switched from baseline to optimised code while running.
  std::int64_t switched_runs() const noexcept { return switched_runs_.load(std::memory_order_relaxed); }

  // Calls the runner of the current unit; see the file comment for the tier-up. A failed optimising
  // compile is thrown at the start of a run (resume_point kResumeStart), never at a re-entry in the
  // middle of one, which continues in baseline code.
  void run(kernels::RunnerArgs& a) const;

  TieredUnit(const TieredUnit&) = delete;
  TieredUnit& operator=(const TieredUnit&) = delete;

 private:
  struct BaselineTag {};

 public:
  TieredUnit(std::shared_ptr<Generated> baseline, double started_ms, BaselineTag);  // via start()

 private:
  struct Watch {  // a runner call executing baseline code
    std::int32_t* flag;
    bool tiered_up = false;  // set by publish()
  };
  void launch(Job job);  // the background thread
  void publish(Optimized o);
  void fail(std::exception_ptr e);
  void keep_baseline();  // the job gave up waiting for a cache lock: done, no tier-up, no error

  std::shared_ptr<Generated> baseline_, optimized_;
  std::atomic<const Generated*> current_;
  double started_ms_ = 0, published_ms_ = 0;  // steady-clock milliseconds
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool done_ = false;  // the job finished (published or failed)
  std::exception_ptr error_;
  std::optional<core::JitCacheRecord> rec_;
  pid_t launch_pid_ = 0;
  mutable std::vector<Watch*> watched_;  // runner calls executing baseline code
  mutable std::atomic<std::int64_t> switched_runs_{0};
  // Set by wait_done(): a job still waiting for a cache entry lock gives up instead of holding up the
  // caller (a stopped lock holder would otherwise cost the whole lock timeout).
  mutable std::atomic<bool> abandon_lock_waits_{false};
};

}  // namespace dynlib::jit
