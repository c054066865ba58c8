#include "model/numeric_expr.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>

#include "model/expr_parser.hpp"
#include "util/deep_stack.hpp"
#include "util/suggest.hpp"

namespace dynlib::model {

double py_floor_mod(double vx, double wx) {
  double mod = std::fmod(vx, wx);
  if (mod != 0.0) {
    if ((wx < 0) != (mod < 0)) mod += wx;
  } else {
    mod = std::copysign(0.0, wx);
  }
  return mod;
}

double py_floor_div(double vx, double wx) {  // CPython float_floor_div (_float_div_mod)
  double mod = std::fmod(vx, wx);
  double div = (vx - mod) / wx;
  if (mod != 0.0) {
    if ((wx < 0) != (mod < 0)) div -= 1.0;
  }
  double floordiv;
  if (div != 0.0) {
    floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
  } else {
    floordiv = std::copysign(0.0, vx / wx);
  }
  return floordiv;
}

namespace {

struct Val {
  bool is_int = false;
  std::int64_t i = 0;
  double d = 0.0;
  double as_double() const { return is_int ? static_cast<double>(i) : d; }
};

Val make_float(double d) { return Val{false, 0, d}; }
Val make_int(std::int64_t i) { return Val{true, i, 0.0}; }

class Evaluator {
 public:
  Evaluator(const std::vector<std::pair<std::string, double>>& constants, const std::string& ctx,
            const SourceLocation& where)
      : constants_(constants), ctx_(ctx), where_(where) {}

  Val eval(const ast::Node& n) {
    using ast::K;
    if (util::stack_low()) fail(ctx_ + " is nested too deeply");
    switch (n.kind) {
      case K::Num:
        if (n.is_int && std::fabs(n.value) < 9.2e18) return make_int(static_cast<std::int64_t>(n.value));
        return make_float(n.value);
      case K::Bool:
        fail(ctx_ + " must evaluate to a number, got bool");
      case K::Name: {
        if (const double* v = lookup(n.name)) return make_float(*v);
        std::vector<std::string> known{"pi", "e"};
        for (const auto& kv : constants_) known.push_back(kv.first);
        throw UnknownIdentifierError(ctx_ + " contains unknown identifier '" + n.name + "'" +
                                         util::did_you_mean(n.name, known) +
                                         ". Allowed constants: " + allowed() + ".",
                                     where_);
      }
      case K::Unary: {
        Val v = eval(*n.kids[0]);
        if (n.name == "+") return v;
        if (v.is_int) {
          if (v.i == std::numeric_limits<std::int64_t>::min()) return make_float(-static_cast<double>(v.i));
          return make_int(-v.i);
        }
        return make_float(-v.d);
      }
      case K::Not:
        fail(ctx_ + " contains an unsupported unary operator");
      case K::Binary:
        return binary(n.name, eval(*n.kids[0]), eval(*n.kids[1]));
      default:
        fail(ctx_ + " must be composed of numbers and arithmetic operators (e.g. '8/3')");
    }
  }

 private:
  const std::vector<std::pair<std::string, double>>& constants_;
  std::string ctx_;
  SourceLocation where_;

  // The last definition wins and constants may redefine pi and e. Searching from the back (not
  // building a map per value) keeps a model with 40k constants, each defined from the one before, linear.
  const double* lookup(const std::string& name) const {
    for (auto it = constants_.rbegin(); it != constants_.rend(); ++it)
      if (it->first == name) return &it->second;
    static const double kPiValue = 3.141592653589793, kEValue = 2.718281828459045;
    if (name == "pi") return &kPiValue;
    if (name == "e") return &kEValue;
    return nullptr;
  }
  std::string allowed() const {
    std::map<std::string, double> names{{"pi", 0.0}, {"e", 0.0}};
    for (const auto& kv : constants_) names.emplace(kv);
    std::string out;
    for (const auto& kv : names) out += (out.empty() ? "" : ", ") + kv.first;
    return out;
  }

  [[noreturn]] void fail(const std::string& msg) const { throw SchemaError(msg, where_); }
  void div_zero() const { fail(ctx_ + " has a division by zero"); }

  Val binary(const std::string& op, Val a, Val b) {
    const bool ints = a.is_int && b.is_int;
    if (op == "+" || op == "-" || op == "*") {
      if (ints) {
        std::int64_t r;
        bool ovf = op == "+"   ? __builtin_add_overflow(a.i, b.i, &r)
                   : op == "-" ? __builtin_sub_overflow(a.i, b.i, &r)
                               : __builtin_mul_overflow(a.i, b.i, &r);
        if (!ovf) return make_int(r);
      }
      const double x = a.as_double(), y = b.as_double();
      return make_float(op == "+" ? x + y : op == "-" ? x - y : x * y);
    }
    if (op == "/") {
      if (b.as_double() == 0.0) div_zero();
      return make_float(a.as_double() / b.as_double());
    }
    if (op == "//" || op == "%") {
      if (b.as_double() == 0.0) div_zero();
      if (ints) {
        std::int64_t q = a.i / b.i, r = a.i % b.i;
        if (r != 0 && ((r < 0) != (b.i < 0))) {
          --q;
          r += b.i;
        }
        return make_int(op == "//" ? q : r);
      }
      const double x = a.as_double(), y = b.as_double();
      return make_float(op == "//" ? py_floor_div(x, y) : py_floor_mod(x, y));
    }
    if (op == "**") {
      if (ints && b.i >= 0) {
        std::int64_t r = 1, base = a.i, e = b.i;
        bool ovf = false;
        while (e > 0 && !ovf) {
          if (e & 1) ovf = __builtin_mul_overflow(r, base, &r);
          e >>= 1;
          if (e > 0 && !ovf) ovf = __builtin_mul_overflow(base, base, &base);
        }
        if (!ovf) return make_int(r);
      }
      const double x = a.as_double(), y = b.as_double();
      if (x == 0.0 && y < 0) div_zero();
      if (x < 0 && y != std::floor(y) && std::isfinite(y)) fail(ctx_ + " must evaluate to a real number");
      const double r = std::pow(x, y);
      if (std::isinf(r) && std::isfinite(x) && std::isfinite(y)) fail(ctx_ + " overflows a double");
      return make_float(r);
    }
    fail(ctx_ + " contains an unsupported operator");
  }
};

}  // namespace

NumericResult eval_numeric_expr_ex(std::string_view text,
                                   const std::vector<std::pair<std::string, double>>& allowed_constants,
                                   const SourceLocation& where) {
  const std::string ctx = where.toml_path.empty() ? std::string("value") : where.toml_path;

  const auto first = text.find_first_not_of(" \t\r\n\f\v");
  if (first == std::string_view::npos)
    throw SchemaError(ctx + " must be a numeric literal or expression, got empty string", where);
  ParsedExpr parsed;
  try {
    parsed = parse_expression(text, where);
  } catch (const ExpressionSyntaxError&) {
    throw ExpressionSyntaxError(ctx + " must be a numeric literal or arithmetic expression (e.g. '8/3')",
                                where);
  }
  Evaluator ev(allowed_constants, ctx, where);
  const Val v = ev.eval(*parsed.root);
  return NumericResult{v.as_double(), v.is_int};
}

double eval_numeric_expr(std::string_view text,
                         const std::vector<std::pair<std::string, double>>& allowed_constants,
                         const SourceLocation& where) {
  return eval_numeric_expr_ex(text, allowed_constants, where).value;
}

}  // namespace dynlib::model
