// TOML front end: numbers (Python float()/int() parsing, Python repr) and numeric values of states/params.
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "model/numeric_expr.hpp"
#include "model/parse_internal.hpp"

namespace dynlib::model::detail {

// Python float(): optional whitespace, sign, digits with '_' between digits, inf/nan words.
std::optional<double> py_parse_float(std::string_view s) {
  std::string t = util::trim(s);
  std::string cleaned;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '_' && i > 0 && i + 1 < t.size() && std::isdigit(static_cast<unsigned char>(t[i - 1])) &&
        std::isdigit(static_cast<unsigned char>(t[i + 1]))) {
      continue;
    }
    cleaned += t[i];
  }
  if (cleaned.empty()) return std::nullopt;
  std::string_view body = cleaned;
  bool neg = false;
  if (body[0] == '+' || body[0] == '-') {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  std::string lower;
  for (char ch : body) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (lower == "inf" || lower == "infinity") return neg ? -HUGE_VAL : HUGE_VAL;
  if (lower == "nan") return std::nan("");
  if (body.empty() || body[0] == '+' || body[0] == '-') return std::nullopt;
  double v = 0.0;
  auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
  if (ec != std::errc() || p != body.data() + body.size()) return std::nullopt;
  return neg ? -v : v;
}

std::optional<std::int64_t> py_parse_int(std::string_view s) {
  std::string t = util::trim(s);
  std::string cleaned;
  for (char ch : t) {
    if (ch != '_') cleaned += ch;
  }
  if (!cleaned.empty() && cleaned[0] == '+') cleaned.erase(0, 1);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(cleaned.data(), cleaned.data() + cleaned.size(), v);
  if (cleaned.empty() || ec != std::errc() || p != cleaned.data() + cleaned.size()) return std::nullopt;
  return v;
}

std::string py_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, r.ptr);  // e.g. "-2.6666666666666665e+00"
  const auto epos = sci.find('e');
  const int exp = std::atoi(sci.c_str() + epos + 1);
  std::string mant = sci.substr(0, epos);
  bool neg = false;
  if (!mant.empty() && mant[0] == '-') {
    neg = true;
    mant.erase(0, 1);
  }
  std::string digits;
  for (char ch : mant) {
    if (ch != '.') digits += ch;
  }
  std::string out;
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      if (static_cast<int>(digits.size()) <= exp + 1) {
        out = digits + std::string(static_cast<std::size_t>(exp + 1) - digits.size(), '0') + ".0";
      } else {
        out = digits.substr(0, static_cast<std::size_t>(exp + 1)) + "." +
              digits.substr(static_cast<std::size_t>(exp + 1));
      }
    } else {
      out = "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out.append(".").append(digits, 1, std::string::npos);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += eb;
  }
  if (neg) out.insert(out.begin(), '-');
  return out;
}

double eval_number_string(const std::string& text,
                          const std::vector<std::pair<std::string, double>>& constants,
                          const SourceLocation& where) {
  return eval_numeric_expr(text, constants, where);
}

NumberValue parse_number_value(const TomlCtx& c, const toml::node& n, const std::string& ctx,
                               const std::vector<std::pair<std::string, double>>& constants) {
  NumberValue out;
  out.loc = c.at(&n, ctx);
  if (auto i = n.as_integer()) {
    out.value = static_cast<double>(i->get());
    out.is_int = true;
  } else if (auto f = n.as_floating_point()) {
    out.value = f->get();
  } else if (auto b = n.as_boolean()) {
    out.value = b->get() ? 1.0 : 0.0;
    out.is_int = true;
  } else if (n.is_string()) {
    Located l = c.located(n, ctx);
    out.loc = l.loc;
    const NumericResult r = eval_numeric_expr_ex(l.text, constants, l.loc);
    out.value = r.value;
    out.is_int = r.is_int;
  } else {
    schema_error(ctx + " must be a number or numeric expression string, got " + py_type(n), out.loc);
  }
  return out;
}

ModValue parse_mod_value(const TomlCtx& c, const toml::node& n, const std::string& ctx) {
  ModValue out;
  if (n.is_string()) {
    out.expr = c.located(n, ctx);
    out.number.loc = out.expr->loc;
    return out;
  }
  out.number = parse_number_value(c, n, ctx, {});
  return out;
}

}  // namespace dynlib::model::detail
