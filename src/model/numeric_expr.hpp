// The tiny evaluator for numeric value strings of [states]/[params]/[constants]:
// numbers, allowed constant names (pi and e are always allowed), unary +/-, binary + - * / // % **
// (`^` == `**`), parentheses; Python int/float semantics. Errors carry the dsl messages, with
// `where.toml_path` (e.g. "[params].beta") as the context: UnknownIdentifierError for a name that is not
// allowed, ExpressionSyntaxError when the text does not parse, SchemaError for everything else (empty,
// calls/comparisons/bools, unsupported operators, division by zero, overflow).
#pragma once
#include <dynlib/errors.hpp>
#include <dynlib/export.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dynlib::model {

struct NumericResult {
  double value = 0.0;
  bool is_int = false;  // Python int result (e.g. "7//2"), else float
};

DYNLIB_INTERNAL_API NumericResult eval_numeric_expr_ex(
    std::string_view text, const std::vector<std::pair<std::string, double>>& allowed_constants,
    const SourceLocation& where);

DYNLIB_INTERNAL_API double eval_numeric_expr(
    std::string_view text, const std::vector<std::pair<std::string, double>>& allowed_constants,
    const SourceLocation& where);

// Python float semantics shared with the lowering and tests.
double py_floor_mod(double a, double b);  // a % b, b != 0
double py_floor_div(double a, double b);  // a // b, b != 0

}  // namespace dynlib::model
