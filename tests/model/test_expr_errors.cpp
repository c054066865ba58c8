// Expression errors: class, message and location.
#include <catch2/catch.hpp>

#include "model/expr_parser.hpp"
#include "model/lower_helper.hpp"

using dynlib::test::expr_model;
using dynlib::test::SpecBuilder;

namespace {

template <class E>
E expect_error(const SpecBuilder& b) {
  try {
    (void)b.lower();
  } catch (const E& e) {
    return e;
  } catch (const dynlib::ModelLoadError& e) {
    FAIL("wrong error class " << e.kind() << ": " << e.message());
  }
  FAIL("no error thrown");
  throw 0;
}

}  // namespace

TEST_CASE("expr errors: syntax errors are located", "[expr][errors]") {
  SpecBuilder b;
  b.state("x", 1).eq("x", "x + * 2", false, 5, 10);
  auto e = expect_error<dynlib::ExpressionSyntaxError>(b);
  CHECK(e.where().line == 5);
  CHECK(e.where().column == 14);
  CHECK(e.where().toml_path == "[equations.rhs].x");
  CHECK(e.message().rfind("Invalid expression syntax:", 0) == 0);
  CHECK(e.where().line_text == "x + * 2");

  SpecBuilder b2;
  b2.state("x", 1).eq("x", "(x +\n   * 2)", false, 7, 3);
  auto e2 = expect_error<dynlib::ExpressionSyntaxError>(b2);
  CHECK(e2.where().line == 8);
  CHECK(e2.where().column == 4);
  CHECK(e2.where().line_text == "   * 2)");

  for (const char* bad : {"x +", "(x", "x)", "", "x y", "x = 1", "x; 1", "x += 1", "1 if x", "x ! 2", "1__0",
                          "01", "lambda: 1", "x is 1", "(1, 2)", "x\n+ 1", "f(x=1)", "3j", "a[0]"}) {
    INFO(bad);
    SpecBuilder bb;
    bb.state("x", 1).eq("x", bad);
    CHECK_THROWS_AS(bb.lower(), dynlib::ExpressionSyntaxError);
  }
}

TEST_CASE("expr errors: unknown identifiers listed and located", "[expr][errors]") {
  auto e = expect_error<dynlib::UnknownIdentifierError>(expr_model("a + foo + bar * foo"));
  CHECK(e.message() ==
        "Unknown identifier(s) in [equations.rhs].x: bar, foo. Declare them as "
        "states/params/aux/functions or constants.");
  CHECK(e.where().column == 5);
  // A close model name is suggested (states, params, aux, constants, functions, t).
  auto s = expect_error<dynlib::UnknownIdentifierError>(expr_model("alpha * x + bb"));
  CHECK(s.message() ==
        "Unknown identifier(s) in [equations.rhs].x: alpha, bb (did you mean 'b'?). Declare them "
        "as states/params/aux/functions or constants.");
  SpecBuilder sb;
  sb.state("x", 1.0).param("sigma", 10.0).eq("x", "-sigm * x");
  CHECK_THAT(expect_error<dynlib::UnknownIdentifierError>(sb).message(),
             Catch::Contains("Unknown identifier(s) in [equations.rhs].x: sigm (did you mean 'sigma'?)."));
  expect_error<dynlib::UnknownIdentifierError>(expr_model("true"));
  expect_error<dynlib::UnknownIdentifierError>(expr_model("nosuchfn(1)"));
  auto el = expect_error<dynlib::LagError>(expr_model("lag_a(1)"));  // a is a param
  CHECK(el.message() ==
        "lag_a() used in [equations.rhs].x, but 'a' is not a declared state. Lag notation only "
        "applies to state variables.");
  expect_error<dynlib::LagError>(expr_model("lag_q()"));  // undeclared
  expect_error<dynlib::UnknownIdentifierError>(expr_model("1").aux("E", "x + q"));
  expect_error<dynlib::UnknownIdentifierError>(expr_model("1").fn("f", {"u"}, "u + v"));
  expect_error<dynlib::UnknownIdentifierError>(expr_model("1").event("ev", "zz > 1"));
  expect_error<dynlib::UnknownIdentifierError>(expr_model("1").stop("zz > 1"));
  // the loop variable is local to the generator
  expect_error<dynlib::UnknownIdentifierError>(expr_model("sum(i for i in range(3)) + i"));
}

TEST_CASE("expr errors: reserved and conflicting names", "[expr][errors]") {
  SpecBuilder b;
  b.state("pi", 1).eq("pi", "1");
  auto e = expect_error<dynlib::NameConflictError>(b);
  CHECK(e.message() == "[states] name(s) pi are reserved (reserved: e, pi, t)");
  auto e2 = expect_error<dynlib::NameConflictError>(expr_model("1").aux("a", "1").fn("x", {}, "1"));
  CHECK(e2.message() ==
        "Identifiers must be unique across states/params/aux/functions/constants; conflicts: "
        "a (params, aux); x (states, functions)");
  auto e3 = expect_error<dynlib::NameConflictError>(expr_model("1").constant("b", 1));
  CHECK(e3.message() == "b is defined as a constant and cannot be reused as a parameter");
  auto e4 = expect_error<dynlib::NameConflictError>(expr_model("1").aux("t", "1"));
  CHECK(e4.message() == "[aux] name(s) t are reserved (reserved: e, pi, t)");
  expect_error<dynlib::NameConflictError>(expr_model("sum(a for a in range(3))"));
}

TEST_CASE("expr errors: cycles show their path", "[expr][errors]") {
  auto e = expect_error<dynlib::CyclicDependencyError>(expr_model("A").aux("A", "B + 1").aux("B", "A * 2"));
  CHECK(e.message() == "Cyclic dependency detected involving 'A': A -> B -> A");
  auto e2 = expect_error<dynlib::CyclicDependencyError>(
      expr_model("f(1)").fn("f", {"n"}, "f(n - 1) if n > 0 else 1"));
  CHECK(e2.message() == "Cyclic dependency detected involving 'f': f -> f");
  auto e3 =
      expect_error<dynlib::CyclicDependencyError>(expr_model("A").aux("A", "g(x)").fn("g", {"u"}, "u + A"));
  CHECK(e3.message() == "Cyclic dependency detected involving 'A': A -> g -> A");
  // a function argument named like an aux is not a dependency
  CHECK_NOTHROW(expr_model("A").aux("A", "g(x)").fn("g", {"A"}, "A + 1").lower());
}

TEST_CASE("expr errors: arity", "[expr][errors]") {
  auto e = expect_error<dynlib::ArityError>(expr_model("f(1)").fn("f", {"u", "v"}, "u + v"));
  CHECK(e.message() == "f() expects 2 positional arguments, got 1");
  expect_error<dynlib::ArityError>(expr_model("f(1, 2)").fn("f", {}, "1"));
  expect_error<dynlib::ArityError>(expr_model("sin(1, 2)"));
  expect_error<dynlib::ArityError>(expr_model("clip(x)"));
  expect_error<dynlib::ArityError>(expr_model("sign()"));
  expect_error<dynlib::ArityError>(expr_model("min(1)"));
  expect_error<dynlib::ArityError>(expr_model("log(1, 2, 3)"));
  expect_error<dynlib::ArityError>(expr_model("cross_up(x)"));
  expect_error<dynlib::ArityError>(expr_model("f + 1").fn("f", {}, "1"));
}

TEST_CASE("expr errors: lag rules", "[expr][errors]") {
  auto e = expect_error<dynlib::LagError>(expr_model("lag_x(0)"));
  CHECK(e.message() == "Lag depth must be positive, got lag_x(0)");
  auto e2 = expect_error<dynlib::LagError>(expr_model("lag_x(1001)"));
  CHECK(e2.message() == "Lag depth 1001 exceeds sanity limit (1000) for lag_x");
  auto e3 = expect_error<dynlib::LagError>(expr_model("lag_x(a)"));
  CHECK(e3.message() == "lag_x() expects no args or a single integer literal");
  expect_error<dynlib::LagError>(expr_model("lag_x(1.0)"));
  expect_error<dynlib::LagError>(expr_model("lag_x(1, 2)"));
  auto e4 = expect_error<dynlib::LagError>(expr_model("cross_up(a, 0)"));
  CHECK(e4.message() == "cross_up() first argument must be a declared state, got 'a'");
  expect_error<dynlib::LagError>(expr_model("changed(x + 1)"));
  CHECK_NOTHROW(expr_model("lag_x(1000)").lower());
}

TEST_CASE("expr errors: event actions and file order", "[expr][errors]") {
  auto e = expect_error<dynlib::EventError>(expr_model("1").event("ev", "x > 1", {{"x", "1; a = 2"}}));
  CHECK(e.where().toml_path == "[events.ev].action.x");
  // per-expression errors come in file order (by line): the unknown name on line 3 before the syntax error on
  // 9
  SpecBuilder b;
  b.state("x", 1).state("y", 1).eq("x", "x +", false, 9, 5).eq("y", "zz", false, 3, 5);
  auto u = expect_error<dynlib::UnknownIdentifierError>(b);
  CHECK(u.where().line == 3);
  // cycles are found before syntax errors and reported at the first-declared member
  SpecBuilder c = expr_model("1");
  c.aux("B", "A + 1").aux("A", "B * 2").aux("C", "(");
  c.s.aux[0].second.loc.line = 20;
  c.s.aux[1].second.loc.line = 10;
  auto cy = expect_error<dynlib::CyclicDependencyError>(c);
  CHECK(cy.message() == "Cyclic dependency detected involving 'A': A -> B -> A");
  CHECK(cy.where().line == 10);
}

TEST_CASE("expr errors: generators and range", "[expr][errors]") {
  expect_error<dynlib::ExpressionSyntaxError>(expr_model("range(3)"));
  expect_error<dynlib::ExpressionSyntaxError>(expr_model("sum(i for i in foo(3))"));
  expect_error<dynlib::ExpressionSyntaxError>(expr_model("sum(i for i, j in range(3))"));
  expect_error<dynlib::ArityError>(expr_model("sum(i for i in range())"));
  expect_error<dynlib::ArityError>(expr_model("sum(i for i in range(1, 2, 3, 4))"));
  expect_error<dynlib::ExpressionSyntaxError>(expr_model("sum(i for i in range(3) for j in range(2))"));
  expect_error<dynlib::ExpressionSyntaxError>(expr_model("max(i for i in range(3))"));
}

TEST_CASE("expr errors: resource limits", "[expr][errors]") {
  auto nested = [](int n) {
    std::string s(static_cast<std::size_t>(n), '(');
    s.append("x");
    s.append(static_cast<std::size_t>(n), ')');
    return s;
  };
  expect_error<dynlib::ExpressionSyntaxError>(expr_model(nested(500)));
  std::string minus(1000, '-');
  minus.append("x");
  expect_error<dynlib::ExpressionSyntaxError>(expr_model(minus));
  CHECK(dynlib::test::ev(nested(150)) == 3);
  // exponential inlining is bounded
  auto b = expr_model("f30(x)");
  b.fn("f0", {"u"}, "u");
  for (int i = 1; i <= 30; ++i) {
    std::string prev = "f";
    prev.append(std::to_string(i - 1)).append("(u)");
    std::string name = "f";
    name.append(std::to_string(i));
    b.fn(name, {"u"}, prev + " + " + prev);
  }
  CHECK_THROWS_AS(b.lower(), dynlib::ModelLoadError);
}
