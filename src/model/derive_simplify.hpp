// Internal to src/model/derive*.cpp: node constructors that simplify as they build (see derive.hpp for
// the list of rewrites and the IEEE decision). They never rewrite their operands, only the new node.
#pragma once
#include <dynlib/ir.hpp>
#include <vector>

namespace dynlib::model::dsimp {

ir::Expr cst(double v);
ir::Expr zero();
ir::Expr one();
bool is_const(const ir::Expr& e, double v);
bool is_zero(const ir::Expr& e);
// Structural equality (pointer-equal, or same op/payload and structurally equal children; bounded depth).
bool same(const ir::Expr& a, const ir::Expr& b);

ir::Expr raw(ir::Op op, std::vector<ir::Expr> args);   // no simplification
ir::Expr call(ir::Fn fn, std::vector<ir::Expr> args);  // no simplification
ir::Expr neg(const ir::Expr& a);
ir::Expr add(const ir::Expr& a, const ir::Expr& b);
ir::Expr sub(const ir::Expr& a, const ir::Expr& b);
ir::Expr mul(const ir::Expr& a, const ir::Expr& b);
ir::Expr div(const ir::Expr& a, const ir::Expr& b);
ir::Expr select(const ir::Expr& c, const ir::Expr& t, const ir::Expr& e);

}  // namespace dynlib::model::dsimp
