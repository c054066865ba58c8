// Bytecode semantics: Python arithmetic, short-circuit value semantics, loops, lags.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>

#include "interp/bytecode.hpp"
#include "kernels/pymath.hpp"
#include "runtime/test_runner_helpers.hpp"

using namespace tb;
using dynlib::interp::Env;
using dynlib::interp::Program;

namespace {
double ev(const Expr& e, const std::vector<double>& y = {}, const std::vector<double>& p = {}, double t = 0.0,
          int loops = 2) {
  dynlib::ir::ModelIR m;
  m.n_loop_slots = loops;
  Program prog(m);
  auto entry = prog.add_expr(e);
  Env env;
  env.t = t;
  env.y = y.data();
  env.p = p.data();
  return prog.eval(entry, env);
}
}  // namespace

TEST_CASE("bytecode: Python floored % and //", "[interp]") {
  CHECK(ev(bin(Op::Mod, C(-1), C(3))) == 2.0);
  CHECK(ev(bin(Op::Mod, C(1), C(-3))) == -2.0);
  CHECK(ev(bin(Op::Mod, C(-0.5), C(2 * M_PI))) > 0.0);
  CHECK(ev(bin(Op::Mod, C(7.5), C(2))) == 1.5);
  CHECK(ev(bin(Op::FloorDiv, C(-7), C(2))) == -4.0);
  CHECK(ev(bin(Op::FloorDiv, C(7), C(-2))) == -4.0);
  CHECK(ev(bin(Op::FloorDiv, C(7), C(2))) == 3.0);
  CHECK(std::signbit(ev(bin(Op::Mod, C(3), C(-3)))));  // -0.0 like Python
}

TEST_CASE("bytecode: and/or value semantics and short circuit, select one branch", "[interp]") {
  CHECK(ev(bin(Op::And, C(2), C(3))) == 3.0);
  CHECK(ev(bin(Op::And, C(0), C(3))) == 0.0);
  CHECK(ev(bin(Op::Or, C(2), C(3))) == 2.0);
  CHECK(ev(bin(Op::Or, C(0), C(3))) == 3.0);
  CHECK(ev(mk(Op::Not, {C(0)})) == 1.0);
  CHECK(ev(mk(Op::Not, {C(-2)})) == 0.0);
  CHECK(ev(sel(bin(Op::Gt, S(0), C(0)), C(10), C(20)), {1.0}) == 10.0);
  CHECK(ev(sel(bin(Op::Gt, S(0), C(0)), C(10), C(20)), {-1.0}) == 20.0);
  // nested: (y0 > 0 and y0) or 5
  auto e = bin(Op::Or, bin(Op::And, bin(Op::Gt, S(0), C(0)), S(0)), C(5));
  CHECK(ev(e, {3.0}) == 3.0);
  CHECK(ev(e, {-3.0}) == 5.0);
}

TEST_CASE("bytecode: math calls", "[interp]") {
  CHECK(ev(call(Fn::round, {C(2.5)})) == 2.0);
  CHECK(ev(call(Fn::round, {C(3.5)})) == 4.0);
  CHECK(ev(call(Fn::round, {C(-2.5)})) == -2.0);
  CHECK(ev(call(Fn::to_int, {C(-2.7)})) == -2.0);
  CHECK(ev(call(Fn::to_bool, {C(-2.7)})) == 1.0);
  CHECK(ev(call(Fn::min, {C(3), C(1), C(2)})) == 1.0);
  CHECK(ev(call(Fn::max, {C(3), C(1), C(5), C(2)})) == 5.0);
  CHECK(ev(call(Fn::copysign, {C(3), C(-0.0)})) == -3.0);
  CHECK(ev(call(Fn::atan2, {C(1), C(1)})) == std::atan2(1.0, 1.0));
  CHECK(ev(call(Fn::exp, {S(0)}), {0.3}) == std::exp(0.3));
  CHECK(ev(bin(Op::Pow, C(2), C(0.5))) == std::pow(2.0, 0.5));
  CHECK(ev(add(mul(S(0), S(0)), mul(T(), P(0))), {1.5}, {2.0}, 3.0) == 1.5 * 1.5 + 3.0 * 2.0);
}

TEST_CASE("bytecode: sum/prod over range with conditions", "[interp]") {
  // sum(i for i in range(5)) = 10
  CHECK(ev(mk(Op::Sum, {C(0), C(5), C(1), LV(0)}, 0, 0)) == 10.0);
  // sum(i*i for i in range(1, 10, 2) if i > 2) = 9+25+49+81
  CHECK(ev(mk(Op::Sum, {C(1), C(10), C(2), mul(LV(0), LV(0)), bin(Op::Gt, LV(0), C(2))}, 0, 0)) == 164.0);
  // prod(i for i in range(1, 5)) = 24; negative step range(5, 0, -2) -> 5*3*1
  CHECK(ev(mk(Op::Prod, {C(1), C(5), C(1), LV(0)}, 0, 0)) == 24.0);
  CHECK(ev(mk(Op::Prod, {C(5), C(0), C(-2), LV(1)}, 0, 1)) == 15.0);
  // int() truncation of bounds: range(int(0.9), int(3.9)) = 0,1,2
  CHECK(ev(mk(Op::Sum, {C(0.9), C(3.9), C(1), LV(0)}, 0, 0)) == 3.0);
  // nested sums with different slots: sum(sum(j for j in range(i)) for i in range(4)) = 0+0+1+3
  auto inner = mk(Op::Sum, {C(0), LV(0), C(1), LV(1)}, 0, 1);
  CHECK(ev(mk(Op::Sum, {C(0), C(4), C(1), inner}, 0, 0)) == 4.0);
  // empty range
  CHECK(ev(mk(Op::Sum, {C(3), C(0), C(1), LV(0)}, 0, 0)) == 0.0);
}

TEST_CASE("bytecode: lag ring read with shift", "[interp]") {
  dynlib::ir::ModelIR m;
  add_lag(m, 0, 3);
  Program prog(m);
  auto e1 = prog.add_expr(L(0, 1));
  auto e2 = prog.add_expr(L(0, 2));
  // ring holds x_{n-2}, x_{n-1}, x_n at 0,1,2 with head = 2
  std::vector<double> ring{10, 11, 12};
  std::int64_t head = 2;
  Env env;
  env.ring = ring.data();
  env.head = &head;
  env.shift = 0;
  CHECK(prog.eval(e1, env) == 11.0);
  CHECK(prog.eval(e2, env) == 10.0);
  env.shift = 1;
  CHECK(prog.eval(e1, env) == 12.0);
  CHECK(prog.eval(e2, env) == 11.0);
  head = 0;  // wrap-around
  env.shift = 0;
  CHECK(prog.eval(e1, env) == 12.0);
}

// ---------------------------------------------------------------------------------------------
// The register machine against a plain recursive evaluation of the same trees (same operations in
// the same order), bit for bit: fused instructions, temporaries, shared nodes, short circuits, loops.
namespace {
namespace py = dynlib::kernels::py;

struct RefEnv {
  double t = 0.0;
  std::vector<double> y, p, lv = std::vector<double>(4, 0.0);
};

double ref(const Node& n, RefEnv& e) {
  auto a = [&](std::size_t i) { return ref(*n.args[i], e); };
  switch (n.op) {
    case Op::Const:
      return n.value;
    case Op::State:
      return e.y[static_cast<std::size_t>(n.index)];
    case Op::Param:
      return e.p[static_cast<std::size_t>(n.index)];
    case Op::Time:
      return e.t;
    case Op::LoopVar:
      return e.lv[static_cast<std::size_t>(n.index)];
    case Op::Neg:
      return -a(0);
    case Op::Not:
      return a(0) != 0.0 ? 0.0 : 1.0;
    case Op::Add: {
      const double x = a(0);
      return x + a(1);
    }
    case Op::Sub: {
      const double x = a(0);
      return x - a(1);
    }
    case Op::Mul: {
      const double x = a(0);
      return x * a(1);
    }
    case Op::Div: {
      const double x = a(0);
      return x / a(1);
    }
    case Op::Mod: {
      const double x = a(0);
      return py::mod(x, a(1));
    }
    case Op::Pow: {
      const double x = a(0);
      return std::pow(x, a(1));
    }
    case Op::Lt: {
      const double x = a(0);
      return x < a(1) ? 1.0 : 0.0;
    }
    case Op::Ge: {
      const double x = a(0);
      return x >= a(1) ? 1.0 : 0.0;
    }
    case Op::And: {
      const double x = a(0);
      return x == 0.0 ? x : a(1);
    }
    case Op::Or: {
      const double x = a(0);
      return x != 0.0 ? x : a(1);
    }
    case Op::Select:
      return a(0) != 0.0 ? a(1) : a(2);
    case Op::Call: {
      if (n.fn == Fn::min || n.fn == Fn::max) {
        double cur = a(0);
        for (std::size_t k = 1; k < n.args.size(); ++k)
          cur = n.fn == Fn::min ? py::min2(cur, a(k)) : py::max2(cur, a(k));
        return cur;
      }
      if (n.fn == Fn::exp) return std::exp(a(0));
      if (n.fn == Fn::sin) return std::sin(a(0));
      if (n.fn == Fn::atan2) {
        const double x = a(0);
        return std::atan2(x, a(1));
      }
      return std::fabs(a(0));
    }
    case Op::Sum: {
      const auto lo = static_cast<std::int64_t>(a(0)), hi = static_cast<std::int64_t>(a(1));
      double acc = 0.0;
      for (std::int64_t i = lo; i < hi; ++i) {
        e.lv[static_cast<std::size_t>(n.index)] = static_cast<double>(i);
        acc = acc + a(3);
      }
      return acc;
    }
    default:
      throw std::logic_error("ref: op not generated");
  }
}

// Random expression DAGs: about a third of the operands reuse an earlier subtree (shared pointers).
struct Gen {
  std::mt19937 rng{12345};
  std::vector<Expr> pool;
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
  Expr leaf(int loops) {
    static const double ks[] = {0.0, -0.0, 1.0, 2.5, -3.0, 0.1, 1e-300, 7.0};
    switch (pick(loops > 0 ? 5 : 4)) {
      case 0:
        return S(pick(4));
      case 1:
        return P(pick(3));
      case 2:
        return T();
      case 3:
        return C(ks[pick(8)]);
      default:
        return LV(pick(loops));
    }
  }
  Expr node(int depth, int loops) {
    if (depth == 0 || pick(6) == 0) return leaf(loops);
    if (!pool.empty() && loops == 0 && pick(3) == 0)
      return pool[static_cast<std::size_t>(pick(static_cast<int>(pool.size())))];
    auto kid = [&] { return node(depth - 1, loops); };
    Expr e;
    switch (pick(16)) {
      case 0:
      case 1:
        e = add(kid(), kid());
        break;
      case 2:
      case 3:
        e = sub(kid(), kid());
        break;
      case 4:
      case 5:
        e = mul(kid(), kid());
        break;
      case 6:
        e = div(kid(), kid());
        break;
      case 7:
        e = pick(2) ? neg(kid()) : mk(Op::Not, {kid()});
        break;
      case 8:
        e = bin(pick(2) ? Op::Lt : Op::Ge, kid(), kid());
        break;
      case 9:
        e = bin(pick(2) ? Op::And : Op::Or, kid(), kid());
        break;
      case 10:
        e = sel(kid(), kid(), kid());
        break;
      case 11: {
        std::vector<Expr> args;
        const int na = 2 + pick(4);
        for (int k = 0; k < na; ++k) args.push_back(kid());
        e = call(pick(2) ? Fn::min : Fn::max, std::move(args));
        break;
      }
      case 12:
        e = pick(2) ? call(pick(2) ? Fn::exp : Fn::sin, {kid()}) : call(Fn::atan2, {kid(), kid()});
        break;
      case 13:
        e = bin(pick(2) ? Op::Mod : Op::Pow, kid(), kid());
        break;
      case 14: {
        if (loops >= 3) return leaf(loops);
        auto body = node(depth - 1, loops + 1);
        e = mk(Op::Sum, {C(static_cast<double>(pick(2))), C(static_cast<double>(1 + pick(3))), C(1), body}, 0,
               loops);
        break;
      }
      default: {
        auto x = kid();
        e = mul(x, x);  // what x**2 lowers to
        break;
      }
    }
    if (loops == 0) pool.push_back(e);
    return e;
  }
};

bool same_value(double a, double b) {
  return std::isnan(a) ? std::isnan(b) : std::memcmp(&a, &b, sizeof a) == 0;
}
}  // namespace

TEST_CASE("bytecode: random expressions agree bit for bit with a tree walk", "[interp]") {
  Gen g;
  dynlib::ir::ModelIR m;
  m.n_loop_slots = 4;
  Program prog(m);
  RefEnv re;
  re.t = 0.75;
  re.y = {1.5, -2.25, 0.0, 3.0};
  re.p = {0.5, -1.0, 4.0};
  Env env;
  env.t = re.t;
  env.y = re.y.data();
  env.p = re.p.data();
  std::vector<Expr> block;
  for (int k = 0; k < 400; ++k) {
    auto e = g.node(7, 0);
    const double want = ref(*e, re);
    const double got = prog.eval(prog.add_expr(e), env);
    if (!same_value(want, got)) FAIL("expression " << k << ": interpreter " << got << ", tree walk " << want);
    if (k < 60) block.push_back(e);
  }
  // The same trees as one block: each result lands in its own out[k].
  std::vector<double> out(block.size(), -1.0);
  env.out = out.data();
  prog.eval(prog.add_block(block), env);
  for (std::size_t k = 0; k < block.size(); ++k) CHECK(same_value(out[k], ref(*block[k], re)));
}

TEST_CASE("bytecode: a fused a*b+c rounds the product first (no fma)", "[interp]") {
  // a*a = 1 + 2^-26 + 2^-54 exactly; rounded to double it loses 2^-54, so a*a - (1 + 2^-26) is 0, while a
  // fused multiply-add would give 2^-54.
  const double a = 1.0 + std::ldexp(1.0, -27);
  const double c = -(1.0 + std::ldexp(1.0, -26));
  CHECK(ev(add(mul(S(0), S(1)), P(0)), {a, a}, {c}) == 0.0);
  CHECK(ev(add(P(0), mul(S(0), S(1))), {a, a}, {c}) == 0.0);
  CHECK(ev(sub(mul(S(0), S(1)), P(0)), {a, a}, {-c}) == 0.0);
}

TEST_CASE("bytecode: min/max of many operands keep every operand", "[interp]") {
  // Leaves first, computed operands last: the result must not overwrite an operand still to be read.
  CHECK(ev(call(Fn::min, {S(0), S(1), add(S(0), S(1)), mul(S(0), C(4))}), {3.0, 2.0}) == 2.0);
  CHECK(ev(call(Fn::max, {S(0), S(1), add(S(0), S(1)), mul(S(0), C(4))}), {3.0, 2.0}) == 12.0);
  CHECK(ev(call(Fn::max, {C(1), C(2), neg(S(0))}), {-7.0}) == 7.0);
}

TEST_CASE("bytecode: a block reads its inputs before writing any output", "[interp]") {
  dynlib::ir::ModelIR m;
  Program prog(m);
  // out may be the state vector itself: x0' = x1, x1' = x0 + x1, x2' = 5, x3' = t, x4' = p0.
  const auto blk = prog.add_block({S(1), add(S(0), S(1)), C(5), T(), P(0)});
  std::vector<double> y{1.0, 2.0, 3.0, 4.0, 5.0};
  std::vector<double> p{9.0};
  Env env;
  env.t = 0.5;
  env.y = y.data();
  env.p = p.data();
  env.out = y.data();
  prog.eval(blk, env);
  CHECK(y == std::vector<double>{2.0, 3.0, 5.0, 0.5, 9.0});
}

TEST_CASE("bytecode: large frames (long right-nested chains, big blocks)", "[interp]") {
  dynlib::ir::ModelIR m;
  Program prog(m);
  // x0 + (x0 + (x0 + ...)): each level keeps a temporary alive, far beyond the stack frame.
  Expr e = S(0);
  for (int k = 0; k < 2000; ++k) e = add(S(0), mul(C(1.0), e));
  std::vector<double> y{0.5};
  Env env;
  env.y = y.data();
  CHECK(prog.eval(prog.add_expr(e), env) == 0.5 * 2001);
  // A 1000-output block (a Jacobian-sized one): computed results and constants.
  std::vector<Expr> es;
  for (int k = 0; k < 1000; ++k)
    es.push_back(k % 2 ? C(static_cast<double>(k)) : mul(S(0), C(static_cast<double>(k))));
  std::vector<double> out(1000);
  env.out = out.data();
  prog.eval(prog.add_block(es), env);
  for (int k = 0; k < 1000; ++k) CHECK(out[static_cast<std::size_t>(k)] == (k % 2 ? k : 0.5 * k));
}
