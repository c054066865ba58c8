// Expression language: parsing, precedence and Python semantics (checked by evaluating the lowered IR).
#include <catch2/catch.hpp>
#include <cmath>

#include "model/expr_parser.hpp"
#include "model/lower_helper.hpp"

using dynlib::test::ev;
using dynlib::test::expr_model;

TEST_CASE("expr: arithmetic precedence and power", "[expr]") {
  CHECK(ev("1 + 2 * 3") == 7);
  CHECK(ev("(1 + 2) * 3") == 9);
  CHECK(ev("2 ** 3 ** 2") == 512);  // right-assoc
  CHECK(ev("2 ^ 3 ^ 2") == 512);    // ^ == **
  CHECK(ev("-2 ** 2") == -4);       // -(2**2)
  CHECK(ev("(-2) ** 2") == 4);
  CHECK(ev("-x**2") == -9);
  CHECK(ev("2 ** -1") == 0.5);
  CHECK(ev("2 ** -x") == 0.125);
  CHECK(ev("10 - 4 - 3") == 3);  // left-assoc
  CHECK(ev("64 / 4 / 2") == 8);
  CHECK(ev("- - 3") == 3);
  CHECK(ev("+x") == 3);
  CHECK(ev("2 * -3") == -6);
}

TEST_CASE("expr: Python floor division and modulo", "[expr]") {
  CHECK(ev("7 // 2") == 3);
  CHECK(ev("-7 // 2") == -4);
  CHECK(ev("7 // -2") == -4);
  CHECK(ev("-7 % 3") == 2);
  CHECK(ev("7 % -3") == -2);
  CHECK(ev("7.5 % 2") == 1.5);
  CHECK(ev("-0.5 % (2*pi)") == Approx(2 * M_PI - 0.5));
  CHECK(ev("-0.5 % (2*pi)") > 0);
}

TEST_CASE("expr: comparisons, chained comparisons, boolean values", "[expr]") {
  CHECK(ev("1 < 2 < 3") == 1);
  CHECK(ev("3 > 2 > 2.5") == 0);
  CHECK(ev("1 < 3 > 2") == 1);
  CHECK(ev("1 == 1.0") == 1);
  CHECK(ev("1 != 1") == 0);
  CHECK(ev("0 or 5") == 5);
  CHECK(ev("4 or 5") == 4);
  CHECK(ev("3 and 0") == 0);
  CHECK(ev("2 and 7") == 7);
  CHECK(ev("0 and 7") == 0);
  CHECK(ev("1 and 2 and 3") == 3);
  CHECK(ev("0 or 0 or 9") == 9);
  CHECK(ev("not 0") == 1);
  CHECK(ev("not 2") == 0);
  CHECK(ev("not x > 5") == 1);     // not binds looser than comparison
  CHECK(ev("1 or 2 and 0") == 1);  // and binds tighter than or
  CHECK(ev("True + True") == 2);
  CHECK(ev("False") == 0);
}

TEST_CASE("expr: ternary", "[expr]") {
  CHECK(ev("1 if x > 0 else 2") == 1);
  CHECK(ev("1 if x < 0 else 2") == 2);
  CHECK(ev("1 if False else 2 if True else 3") == 2);  // right-nested
  CHECK(ev("(1 if False else 2) + 10") == 12);
  CHECK(ev("1 + 1 if x > 100 else 5") == 5);  // ternary binds loosest
}

TEST_CASE("expr: numeric literals and comments", "[expr]") {
  CHECK(ev("1_000") == 1000);
  CHECK(ev("1e-3") == 0.001);
  CHECK(ev("2.5E2") == 250);
  CHECK(ev(".5") == 0.5);
  CHECK(ev("5.") == 5);
  CHECK(ev("0x10") == 16);
  CHECK(ev("x + 1  # a trailing comment") == 4);
  CHECK(ev("  x  ") == 3);
}

TEST_CASE("expr: names, constants, t, aux and functions", "[expr]") {
  auto m = expr_model("2 * A + f(x, b) + t").aux("A", "a + b").fn("f", {"u", "v"}, "u * v + 1").lower();
  CHECK(dynlib::test::eval_rhs0(m, 10.0) == 2 * 4.5 + 13 + 10);
  auto m2 = expr_model("k * pi + e").constant("k", 2).lower();
  CHECK(dynlib::test::eval_rhs0(m2) == 2 * M_PI + M_E);
  // function args shadow states; functions calling functions
  auto m3 = expr_model("g(b)").fn("f", {"x"}, "x * 10").fn("g", {"y"}, "f(y) + x").lower();
  CHECK(dynlib::test::eval_rhs0(m3) == 43);
  // aux forward references and aux in functions
  auto m4 = expr_model("h()").fn("h", {}, "B * 2").aux("B", "C + 1").aux("C", "a").lower();
  CHECK(dynlib::test::eval_rhs0(m4) == 3);
  CHECK(m4.aux_exprs.size() == 2);
}

TEST_CASE("expr: math functions and builtins", "[expr]") {
  CHECK(ev("log(8, 2)") == std::log(8.0) / std::log(2.0));
  CHECK(ev("min(3, 1, 2)") == 1);
  CHECK(ev("max(x, b)") == 4);
  CHECK(ev("abs(y)") == 2);
  CHECK(ev("round(2.5)") == 2);
  CHECK(ev("round(3.5)") == 4);
  CHECK(ev("int(-2.7)") == -2);
  CHECK(ev("float(2)") == 2);
  CHECK(ev("bool(0.1)") == 1);
  CHECK(ev("atan2(1, 1)") == std::atan2(1.0, 1.0));
  CHECK(ev("math.sin(1.0) + sin(1.0)") == 2 * std::sin(1.0));
  CHECK(ev("math.pi") == M_PI);
  CHECK(ev("exp(0)") == 1);
}

TEST_CASE("expr: scalar macros", "[expr]") {
  CHECK(ev("sign(y)") == -1);
  CHECK(ev("sign(x)") == 1);
  CHECK(ev("sign(0)") == 0);
  CHECK(ev("heaviside(0)") == 1);
  CHECK(ev("step(y)") == 0);
  CHECK(ev("relu(y)") == 0);
  CHECK(ev("relu(x)") == 3);
  CHECK(ev("clip(x, 0, 1)") == 1);
  CHECK(ev("clip(y, -1, 1)") == -1);
  CHECK(ev("approx(1.0, 1.05, 0.1)") == 1);
  CHECK(ev("approx(1.0, 1.5, 0.1)") == 0);
  CHECK(ev("in_interval(x, 0, 3)") == 1);
  CHECK(ev("in_interval(x, 0, 2)") == 0);
}

TEST_CASE("expr: sum and prod generators, nested", "[expr]") {
  CHECK(ev("sum(i for i in range(4))") == 6);
  CHECK(ev("sum(i for i in range(10) if i % 2 == 0)") == 20);
  CHECK(ev("sum(i for i in range(10) if i % 2 == 0 if i > 2)") == 18);
  CHECK(ev("prod(i for i in range(1, 5))") == 24);
  CHECK(ev("sum(i for i in range(10, 0, -3))") == 22);
  CHECK(ev("sum(i * a for i in range(b))") == 3);
  auto m = expr_model("sum(sum(i * j for j in range(3)) for i in range(3))").lower();
  CHECK(dynlib::test::eval_rhs0(m) == 9);
  CHECK(m.n_loop_slots == 2);
  // a sum passed as an argument into a function that puts it inside its own sum
  auto m2 = expr_model("f(sum(j for j in range(3)))").fn("f", {"n"}, "sum(n * i for i in range(3))").lower();
  CHECK(dynlib::test::eval_rhs0(m2) == 9);  // n = 3; 3*(0+1+2)
  CHECK(m2.n_loop_slots == 2);
  // an aux containing a sum, used inside a sum
  auto m3 = expr_model("sum(S * i for i in range(3))").aux("S", "sum(k for k in range(4))").lower();
  CHECK(dynlib::test::eval_rhs0(m3) == 18);
  CHECK(ev("1.0 if t < 0 else sum(i for i in range(3))") == 3);
}

TEST_CASE("expr: parser accepts multi-line text inside brackets", "[expr]") {
  CHECK(ev("(x +\n 1)") == 4);
  CHECK(ev("\n x + 1 \n") == 4);
}

TEST_CASE("expr: AST shape", "[expr]") {
  using dynlib::model::ast::K;
  auto p = dynlib::model::parse_expression("a < b <= c", {});
  REQUIRE(p.root->kind == K::Compare);
  CHECK(p.root->ops.size() == 2);
  auto q = dynlib::model::parse_expression("-x ** 2", {});
  REQUIRE(q.root->kind == K::Unary);
  CHECK(q.root->kids[0]->kind == K::Binary);
  auto g = dynlib::model::parse_expression("sum(i for i in range(1, 5) if i > 2)", {});
  REQUIRE(g.root->kind == K::Gen);
  CHECK(g.root->n_range == 2);
  CHECK(g.root->kids.size() == 4);
}
