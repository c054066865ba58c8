// Simplifying node constructors for the symbolic differentiator (derive.hpp documents the rules).
#include "model/derive_simplify.hpp"

#include <bit>
#include <cstdint>

namespace dynlib::model::dsimp {

using ir::Expr;
using ir::Op;

Expr cst(double v) {
  auto n = std::make_shared<ir::Node>();
  n->op = Op::Const;
  n->value = v;
  return n;
}
Expr zero() {
  static const Expr z = cst(0.0);
  return z;
}
Expr one() {
  static const Expr o = cst(1.0);
  return o;
}

bool is_const(const Expr& e, double v) { return e && e->op == Op::Const && e->value == v; }
bool is_zero(const Expr& e) { return is_const(e, 0.0); }

namespace {
bool same_rec(const Expr& a, const Expr& b, int depth) {
  if (a == b) return true;
  if (!a || !b || depth > 24) return false;
  if (a->op != b->op || a->args.size() != b->args.size()) return false;
  switch (a->op) {
    case Op::Const:
      return std::bit_cast<std::uint64_t>(a->value) == std::bit_cast<std::uint64_t>(b->value);
    case Op::Call:
      if (a->fn != b->fn) return false;
      break;
    case Op::Lag:
      if (a->k != b->k) return false;
      [[fallthrough]];
    case Op::State:
    case Op::Param:
    case Op::LoopVar:
    case Op::Sum:
    case Op::Prod:
      if (a->index != b->index) return false;
      break;
    default:
      break;
  }
  for (std::size_t i = 0; i < a->args.size(); ++i)
    if (!same_rec(a->args[i], b->args[i], depth + 1)) return false;
  return true;
}
}  // namespace

bool same(const Expr& a, const Expr& b) { return same_rec(a, b, 0); }

Expr raw(Op op, std::vector<Expr> args) {
  auto n = std::make_shared<ir::Node>();
  n->op = op;
  n->args = std::move(args);
  return n;
}
Expr call(ir::Fn fn, std::vector<Expr> args) {
  auto n = std::make_shared<ir::Node>();
  n->op = Op::Call;
  n->fn = fn;
  n->args = std::move(args);
  return n;
}

Expr neg(const Expr& a) {
  if (a->op == Op::Const) return cst(-a->value);
  if (a->op == Op::Neg) return a->args[0];
  return raw(Op::Neg, {a});
}

Expr add(const Expr& a, const Expr& b) {
  if (is_zero(a)) return b;
  if (is_zero(b)) return a;
  if (a->op == Op::Const && b->op == Op::Const) return cst(a->value + b->value);
  if (b->op == Op::Neg) return sub(a, b->args[0]);  // a + (-b) == a - b exactly
  return raw(Op::Add, {a, b});
}

Expr sub(const Expr& a, const Expr& b) {
  if (is_zero(b)) return a;
  if (is_zero(a)) return neg(b);
  if (a->op == Op::Const && b->op == Op::Const) return cst(a->value - b->value);
  if (b->op == Op::Neg) return add(a, b->args[0]);  // a - (-b) == a + b exactly
  return raw(Op::Sub, {a, b});
}

Expr mul(const Expr& a, const Expr& b) {
  if (is_zero(a) || is_zero(b)) return zero();  // not IEEE-exact for inf/NaN operands: accepted (derive.hpp)
  if (is_const(a, 1.0)) return b;
  if (is_const(b, 1.0)) return a;
  if (is_const(a, -1.0)) return neg(b);
  if (is_const(b, -1.0)) return neg(a);
  if (a->op == Op::Const && b->op == Op::Const) return cst(a->value * b->value);
  if (a->op == Op::Neg && b->op == Op::Neg) return mul(a->args[0], b->args[0]);  // exact
  if (a->op == Op::Neg) return neg(mul(a->args[0], b));                          // exact
  if (b->op == Op::Neg) return neg(mul(a, b->args[0]));                          // exact
  return raw(Op::Mul, {a, b});
}

Expr div(const Expr& a, const Expr& b) {
  if (is_zero(a)) return zero();
  if (is_const(b, 1.0)) return a;
  if (is_const(b, -1.0)) return neg(a);
  if (a->op == Op::Const && b->op == Op::Const && b->value != 0.0) return cst(a->value / b->value);
  if (a->op == Op::Neg) return neg(div(a->args[0], b));  // exact
  return raw(Op::Div, {a, b});
}

Expr select(const Expr& c, const Expr& t, const Expr& e) {
  if (same(t, e)) return t;
  if (c->op == Op::Const) return c->value != 0.0 ? t : e;
  return raw(Op::Select, {c, t, e});
}

}  // namespace dynlib::model::dsimp
