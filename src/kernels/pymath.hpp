// Python float semantics shared by the interpreter's bytecode and the JIT (call these, do not
// re-derive them, so both backends stay bit-identical). Algorithms follow CPython's float_divmod.
#pragma once
#include <cmath>

namespace dynlib::kernels::py {

// a % b, result has the sign of b (CPython float_rem / divmod).
inline double mod(double vx, double wx) noexcept {
  double m = std::fmod(vx, wx);
  if (m != 0.0) {
    if ((wx < 0) != (m < 0)) m += wx;
  } else {
    m = std::copysign(0.0, wx);
  }
  return m;
}

// a // b (CPython float_floor_div).
inline double floordiv(double vx, double wx) noexcept {
  double m = std::fmod(vx, wx);
  double div = (vx - m) / wx;
  if (m != 0.0) {
    if ((wx < 0) != (m < 0)) div -= 1.0;
  }
  double fd;
  if (div != 0.0) {
    fd = std::floor(div);
    if (div - fd > 0.5) fd += 1.0;
  } else {
    fd = std::copysign(0.0, vx / wx);
  }
  return fd;
}

// round(x): half to even (default FE_TONEAREST rounding mode).
inline double round_half_even(double x) noexcept { return std::nearbyint(x); }

inline double truthy(double x) noexcept { return x != 0.0 ? 1.0 : 0.0; }

// Python min/max over two operands in order: keep the first unless the next is strictly smaller/larger.
inline double min2(double cur, double x) noexcept { return x < cur ? x : cur; }
inline double max2(double cur, double x) noexcept { return x > cur ? x : cur; }

}  // namespace dynlib::kernels::py
