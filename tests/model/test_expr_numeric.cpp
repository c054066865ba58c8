// The numeric-string evaluator for states/params/constants.
#include <catch2/catch.hpp>

#include "model/numeric_expr.hpp"

using dynlib::model::eval_numeric_expr;
using dynlib::model::eval_numeric_expr_ex;

namespace {
dynlib::SourceLocation at(const char* path) {
  dynlib::SourceLocation l;
  l.toml_path = std::string(path);  // not operator=(const char*): false g++ 12 -Wrestrict (PR 105329)
  l.line = 3;
  return l;
}
std::string err(const char* text, std::vector<std::pair<std::string, double>> consts = {},
                std::string kind = "SchemaError") {
  try {
    eval_numeric_expr(text, consts, at("[params].q"));
  } catch (const dynlib::ModelLoadError& e) {
    CHECK(e.where().line == 3);
    CHECK(e.kind() == kind);
    return e.message();
  }
  return "<no error>";
}
}  // namespace

TEST_CASE("numeric: values", "[expr][numeric]") {
  CHECK(eval_numeric_expr("8.0/3.0", {}, at("[params].beta")) == 2.6666666666666665);
  CHECK(eval_numeric_expr("8/3", {}, at("x")) == 8.0 / 3.0);
  CHECK(eval_numeric_expr(" 2^3 ", {}, at("x")) == 8);
  CHECK(eval_numeric_expr("2**-1", {}, at("x")) == 0.5);
  CHECK(eval_numeric_expr("-7 % 3", {}, at("x")) == 2);
  CHECK(eval_numeric_expr("-7.0 // 2", {}, at("x")) == -4);
  CHECK(eval_numeric_expr("2*pi", {}, at("x")) == 2 * 3.141592653589793);
  CHECK(eval_numeric_expr("k * 2 + e", {{"k", 1.5}}, at("x")) == 3 + 2.718281828459045);
  CHECK(eval_numeric_expr("1_000", {}, at("x")) == 1000);
  CHECK(eval_numeric_expr("-(3)", {}, at("x")) == -3);
  auto r = eval_numeric_expr_ex("7 // 2", {}, at("x"));
  CHECK(r.value == 3);
  CHECK(r.is_int);
  CHECK_FALSE(eval_numeric_expr_ex("7 / 7", {}, at("x")).is_int);
  CHECK(eval_numeric_expr("2**62", {}, at("x")) == 4611686018427387904.0);
  CHECK(eval_numeric_expr("2**70", {}, at("x")) == 1180591620717411303424.0);
}

TEST_CASE("numeric: error messages", "[expr][numeric]") {
  CHECK(err("") == "[params].q must be a numeric literal or expression, got empty string");
  CHECK(err("   ") == "[params].q must be a numeric literal or expression, got empty string");
  CHECK(err("1 +", {}, "ExpressionSyntaxError") ==
        "[params].q must be a numeric literal or arithmetic expression (e.g. '8/3')");
  CHECK(err("q * 2", {}, "UnknownIdentifierError") ==
        "[params].q contains unknown identifier 'q'. Allowed constants: e, pi.");
  CHECK(err("q * 2", {{"zeta", 1}, {"alpha", 2}}, "UnknownIdentifierError") ==
        "[params].q contains unknown identifier 'q'. Allowed constants: alpha, e, pi, zeta.");
  CHECK(err("alpah * 2", {{"zeta", 1}, {"alpha", 2}}, "UnknownIdentifierError") ==
        "[params].q contains unknown identifier 'alpah' (did you mean 'alpha'?). Allowed constants: alpha, "
        "e, pi, zeta.");
  CHECK(err("not 1") == "[params].q contains an unsupported unary operator");
  CHECK(err("sin(1)") == "[params].q must be composed of numbers and arithmetic operators (e.g. '8/3')");
  CHECK(err("1 < 2") == "[params].q must be composed of numbers and arithmetic operators (e.g. '8/3')");
  CHECK(err("True") == "[params].q must evaluate to a number, got bool");
  CHECK(err("1/0") == "[params].q has a division by zero");
  CHECK(err("1 % 0.0") == "[params].q has a division by zero");
  CHECK(err("0.0 ** -1") == "[params].q has a division by zero");
}
