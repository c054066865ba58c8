// Running deeply recursive work (tree walks over long expressions) without overflowing the stack.
//
// A model may legally contain a sum of 100k terms or a chain of 30k aux definitions; walking such a
// tree recursively needs far more than the 8 MiB main stack, and threads (a JIT background compile,
// a batch pool) may have less. Recursive walks check stack_left() and stop with an error instead of
// crashing; entry points run the walk on a thread with a large stack via run_with_large_stack().
#pragma once

#include <cstddef>
#include <dynlib/export.hpp>
#include <functional>

namespace dynlib::util {

// Stack of the threads started by run_with_large_stack(): address space only, pages are used as touched.
inline constexpr std::size_t kLargeStackBytes = std::size_t{1} << 30;
// What a recursive walk keeps in reserve: below this, it reports "nested too deeply" instead of recursing.
inline constexpr std::size_t kStackReserveBytes = std::size_t{256} << 10;

// Bytes left on the current thread's stack (an estimate from the current frame; very large if unknown).
DYNLIB_INTERNAL_API std::size_t stack_left() noexcept;

// True when a recursive walk should stop (less than kStackReserveBytes left).
inline bool stack_low() noexcept { return stack_left() < kStackReserveBytes; }

// Runs `fn` here if this thread already runs on a large stack, else on a new thread with a
// kLargeStackBytes stack, waiting for it; rethrows what `fn` throws. Falls back to running `fn` here
// if no thread can be started.
DYNLIB_INTERNAL_API void run_with_large_stack(const std::function<void()>& fn);

}  // namespace dynlib::util
