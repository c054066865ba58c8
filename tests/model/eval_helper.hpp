// Test-only tree-walking evaluator of lowered expressions (Python semantics), used to check what
// the lowering produces. Not the library's interpreter.
#pragma once
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <dynlib/ir.hpp>
#include <functional>
#include <stdexcept>
#include <vector>

namespace dynlib::test {

struct EvalEnv {
  double t = 0.0;
  std::vector<double> y, p;
  // lag(slot, k) -> value; default: NaN
  std::function<double(int, int)> lag = [](int, int) { return std::nan(""); };
  std::vector<double> loop = std::vector<double>(8, 0.0);
};

inline double py_mod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0.0) {
    if ((b < 0) != (m < 0)) m += b;
  } else {
    m = std::copysign(0.0, b);
  }
  return m;
}
inline double py_floordiv(double a, double b) {
  double m = std::fmod(a, b);
  double d = (a - m) / b;
  if (m != 0.0 && ((b < 0) != (m < 0))) d -= 1.0;
  if (d != 0.0) {
    double f = std::floor(d);
    if (d - f > 0.5) f += 1.0;
    return f;
  }
  return std::copysign(0.0, a / b);
}

inline double eval(const ir::Expr& e, EvalEnv& env) {
  using ir::Op;
  auto a = [&](std::size_t i) { return eval(e->args[i], env); };
  switch (e->op) {
    case Op::Const:
      return e->value;
    case Op::State:
      return env.y.at(static_cast<std::size_t>(e->index));
    case Op::Param:
      return env.p.at(static_cast<std::size_t>(e->index));
    case Op::Time:
      return env.t;
    case Op::Lag:
      return env.lag(e->index, e->k);
    case Op::LoopVar:
      return env.loop.at(static_cast<std::size_t>(e->index));
    case Op::Neg:
      return -a(0);
    case Op::Not:
      return a(0) != 0.0 ? 0.0 : 1.0;
    case Op::Add:
      return a(0) + a(1);
    case Op::Sub:
      return a(0) - a(1);
    case Op::Mul:
      return a(0) * a(1);
    case Op::Div:
      return a(0) / a(1);
    case Op::FloorDiv:
      return py_floordiv(a(0), a(1));
    case Op::Mod:
      return py_mod(a(0), a(1));
    case Op::Pow:
      return std::pow(a(0), a(1));
    case Op::Lt:
      return a(0) < a(1);
    case Op::Le:
      return a(0) <= a(1);
    case Op::Gt:
      return a(0) > a(1);
    case Op::Ge:
      return a(0) >= a(1);
    case Op::Eq:
      return a(0) == a(1);
    case Op::Ne:
      return a(0) != a(1);
    case Op::And: {
      double x = a(0);
      return x != 0.0 ? a(1) : x;
    }
    case Op::Or: {
      double x = a(0);
      return x != 0.0 ? x : a(1);
    }
    case Op::Select:
      return a(0) != 0.0 ? a(1) : a(2);
    case Op::Call: {
      using ir::Fn;
      switch (e->fn) {
        case Fn::abs:
          return std::fabs(a(0));
        case Fn::min: {
          double m = a(0);
          for (std::size_t i = 1; i < e->args.size(); ++i) m = std::min(m, a(i));
          return m;
        }
        case Fn::max: {
          double m = a(0);
          for (std::size_t i = 1; i < e->args.size(); ++i) m = std::max(m, a(i));
          return m;
        }
        case Fn::round:
          return std::nearbyint(a(0));
        case Fn::exp:
          return std::exp(a(0));
        case Fn::log:
          return std::log(a(0));
        case Fn::sqrt:
          return std::sqrt(a(0));
        case Fn::sin:
          return std::sin(a(0));
        case Fn::cos:
          return std::cos(a(0));
        case Fn::atan2:
          return std::atan2(a(0), a(1));
        case Fn::floor:
          return std::floor(a(0));
        case Fn::pow:
          return std::pow(a(0), a(1));
        case Fn::to_int:
          return std::trunc(a(0));
        case Fn::to_float:
          return a(0);
        case Fn::to_bool:
          return a(0) != 0.0;
        default:
          throw std::runtime_error("eval_helper: function not supported in tests");
      }
    }
    case Op::Sum:
    case Op::Prod: {
      const auto start = static_cast<std::int64_t>(a(0)), stop = static_cast<std::int64_t>(a(1)),
                 step = static_cast<std::int64_t>(a(2));
      double acc = e->op == Op::Sum ? 0.0 : 1.0;
      for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        env.loop.at(static_cast<std::size_t>(e->index)) = static_cast<double>(i);
        bool ok = true;
        for (std::size_t c = 4; c < e->args.size(); ++c) ok = ok && a(c) != 0.0;
        if (!ok) continue;
        const double v = a(3);
        acc = e->op == Op::Sum ? acc + v : acc * v;
      }
      return acc;
    }
  }
  throw std::runtime_error("eval_helper: bad op");
}

}  // namespace dynlib::test
