// Name tables shared by the checks and the lowering: how a call `f(...)` resolves (precedence:
// scalar macros, event macros, range, lag_<state>, user functions, math functions), dtype casts of constants.
#include <algorithm>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <set>

#include "model/lower_internal.hpp"

namespace dynlib::model::detail {

using ast::K;
using ast::Node;

double Model::cast(double v) const {
  switch (dtype) {
    case ir::DType::float32:
      return static_cast<double>(static_cast<float>(v));
    case ir::DType::int64:  // truncation (numpy int64(v)); out-of-range values are kept as they are
      return std::isfinite(v) && std::fabs(v) < 9.2e18 ? static_cast<double>(static_cast<std::int64_t>(v))
                                                       : v;
    default:
      return v;
  }
}

std::string where_of(const SourceLocation& loc, const std::string& fallback) {
  return loc.toml_path.empty() ? fallback : loc.toml_path;
}

namespace {

struct MathFn {
  const char* name;
  ir::Fn fn;
  int arity;
};
const MathFn kMath[] = {
    {"abs", ir::Fn::abs, 1},      {"min", ir::Fn::min, -1},          {"max", ir::Fn::max, -1},
    {"round", ir::Fn::round, 1},  {"exp", ir::Fn::exp, 1},           {"expm1", ir::Fn::expm1, 1},
    {"log", ir::Fn::log, -2},     {"log10", ir::Fn::log10, 1},       {"log2", ir::Fn::log2, 1},
    {"log1p", ir::Fn::log1p, 1},  {"sqrt", ir::Fn::sqrt, 1},         {"sin", ir::Fn::sin, 1},
    {"cos", ir::Fn::cos, 1},      {"tan", ir::Fn::tan, 1},           {"asin", ir::Fn::asin, 1},
    {"acos", ir::Fn::acos, 1},    {"atan", ir::Fn::atan, 1},         {"atan2", ir::Fn::atan2, 2},
    {"sinh", ir::Fn::sinh, 1},    {"cosh", ir::Fn::cosh, 1},         {"tanh", ir::Fn::tanh, 1},
    {"asinh", ir::Fn::asinh, 1},  {"acosh", ir::Fn::acosh, 1},       {"atanh", ir::Fn::atanh, 1},
    {"floor", ir::Fn::floor, 1},  {"ceil", ir::Fn::ceil, 1},         {"trunc", ir::Fn::trunc, 1},
    {"hypot", ir::Fn::hypot, 2},  {"copysign", ir::Fn::copysign, 2}, {"erf", ir::Fn::erf, 1},
    {"erfc", ir::Fn::erfc, 1},    {"int", ir::Fn::to_int, 1},        {"float", ir::Fn::to_float, 1},
    {"bool", ir::Fn::to_bool, 1},
};
const char* kOnlyMathModule[] = {"abs", "min", "max", "round", "int", "float", "bool"};  // not math.<x>

}  // namespace

CallInfo classify_call(const Model& m, const std::string& callee) {
  CallInfo ci;
  ci.name = callee;
  static const std::map<std::string, int> scalar = {{"sign", 1}, {"heaviside", 1}, {"step", 1},
                                                    {"relu", 1}, {"clip", 3},      {"approx", 3}};
  static const std::map<std::string, int> event = {
      {"cross_up", 2},   {"cross_down", 2},  {"cross_either", 2},    {"changed", 1},        {"increasing", 1},
      {"decreasing", 1}, {"in_interval", 3}, {"enters_interval", 3}, {"leaves_interval", 3}};
  if (auto it = scalar.find(callee); it != scalar.end()) {
    ci.kind = CallKind::ScalarMacro;
    ci.arity = it->second;
    return ci;
  }
  if (auto it = event.find(callee); it != event.end()) {
    ci.kind = CallKind::EventMacro;
    ci.arity = it->second;
    return ci;
  }
  if (callee == "range") {
    ci.kind = CallKind::Range;
    return ci;
  }
  if (callee.rfind("lag_", 0) == 0) {
    if (auto it = m.state_idx.find(callee.substr(4)); it != m.state_idx.end()) {
      ci.kind = CallKind::Lag;
      ci.index = it->second;
      return ci;
    }
  }
  if (auto it = m.fn_idx.find(callee); it != m.fn_idx.end()) {
    ci.kind = CallKind::User;
    ci.index = it->second;
    ci.arity = static_cast<int>(m.spec->functions[static_cast<std::size_t>(it->second)].args.size());
    return ci;
  }
  std::string base = callee;
  bool dotted = false;
  if (base.rfind("math.", 0) == 0) {
    base = base.substr(5);
    dotted = true;
    if (std::find(std::begin(kOnlyMathModule), std::end(kOnlyMathModule), base) != std::end(kOnlyMathModule))
      return ci;  // math.abs etc. do not exist (math.fabs is not supported either)
    if (base == "pow") {
      ci.kind = CallKind::Math;
      ci.fn = ir::Fn::pow;
      ci.arity = 2;
      ci.name = base;
      return ci;
    }
  }
  if (base.find('.') != std::string::npos) return ci;
  for (const auto& mf : kMath) {
    if (base == mf.name) {
      ci.kind = CallKind::Math;
      ci.fn = mf.fn;
      ci.arity = mf.arity;
      ci.name = base;
      return ci;
    }
  }
  if (!dotted && base == "pow") {
    ci.kind = CallKind::BuiltinPow;  // Python pow(a, b) == a ** b
    ci.arity = 2;
  }
  return ci;
}
}  // namespace dynlib::model::detail
