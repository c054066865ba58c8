// Bytecode semantics: Python arithmetic, short-circuit value semantics, loops, lags.
#include <catch2/catch.hpp>
#include <cmath>

#include "interp/bytecode.hpp"
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
