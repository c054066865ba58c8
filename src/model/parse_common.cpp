// Shared pieces of the TOML front end: locations, values, functions, events, [sim] keys.
#include "model/parse_internal.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>

#include "model/numeric_expr.hpp"

#include <dynlib/warnings.hpp>

namespace dynlib::model {

std::string py_list(const std::vector<std::string>& names) {
  std::string out = "[";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += ", ";
    out += "'" + names[i] + "'";
  }
  return out + "]";
}

}  // namespace dynlib::model

namespace dynlib::model::detail {

namespace {

bool is_identifier(std::string_view s) {
  if (s.empty()) return false;
  auto head = [](char ch) { return std::isalpha(static_cast<unsigned char>(ch)) || ch == '_'; };
  if (!head(s[0])) return false;
  return std::all_of(s.begin() + 1, s.end(),
                     [&](char ch) { return head(ch) || std::isdigit(static_cast<unsigned char>(ch)); });
}

bool is_tag(std::string_view s) {
  if (s.empty()) return false;
  if (!(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin() + 1, s.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
  });
}

// Location `offset` characters further along the same line.
SourceLocation shifted(SourceLocation loc, std::size_t offset) {
  if (loc.column > 0) loc.column += static_cast<int>(offset);
  return loc;
}

// Python float(): optional whitespace, sign, digits with '_' between digits, inf/nan words.
std::optional<double> py_parse_float(std::string_view s) {
  std::string t = strip(s);
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
  std::string t = strip(s);
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

std::size_t matching_chars(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return 0;
  std::size_t best = 0, bi = 0, bj = 0;
  std::vector<std::size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : 0;
      if (cur[j] > best) {
        best = cur[j];
        bi = i - best;
        bj = j - best;
      }
    }
    std::swap(prev, cur);
  }
  if (best == 0) return 0;
  return best + matching_chars(a.substr(0, bi), b.substr(0, bj)) +
         matching_chars(a.substr(bi + best), b.substr(bj + best));
}

}  // namespace

std::string strip(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n\f\v");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n\f\v");
  return std::string(s.substr(b, e - b + 1));
}

// ---------------------------------------------------------------------------------------------------------
// TomlCtx

TomlCtx::TomlCtx(std::string_view text, TextSource src) : src_(std::move(src)) {
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string l(text.substr(pos, nl - pos));
    if (!l.empty() && l.back() == '\r') l.pop_back();
    lines_.push_back(std::move(l));
    pos = nl + 1;
  }
}

const std::string& TomlCtx::line(int n) const {
  static const std::string empty;
  if (n < 1 || static_cast<std::size_t>(n) > lines_.size()) return empty;
  return lines_[static_cast<std::size_t>(n - 1)];
}

SourceLocation TomlCtx::at(const toml::source_region& r, std::string toml_path) const {
  SourceLocation loc;
  loc.file = src_.file;
  loc.toml_path = std::move(toml_path);
  if (r.begin.line > 0) {
    loc.line = static_cast<int>(r.begin.line);
    loc.line_text = line(loc.line);
    loc.column = std::min(static_cast<int>(r.begin.column), static_cast<int>(loc.line_text.size()) + 1);
  }
  return loc;
}

SourceLocation TomlCtx::at(const toml::node* n, std::string toml_path) const {
  if (!n) return file_only(std::move(toml_path));
  return at(n->source(), std::move(toml_path));
}

SourceLocation TomlCtx::file_only(std::string toml_path) const {
  SourceLocation loc;
  loc.file = src_.file;
  loc.toml_path = std::move(toml_path);
  return loc;
}

namespace {
struct ContentStart {
  int line = 0;          // 1-based line of the first content character (0 = unknown)
  std::size_t col0 = 0;  // 0-based column on that line
};

ContentStart content_start(const TomlCtx& c, const toml::node& n) {
  ContentStart cs;
  const auto& b = n.source().begin;
  if (b.line == 0) return cs;
  const std::string& l = c.line(static_cast<int>(b.line));
  std::size_t pos = b.column > 0 ? b.column - 1 : 0;
  if (pos >= l.size()) return cs;
  std::size_t q = 1;
  if (l.compare(pos, 3, "\"\"\"") == 0 || l.compare(pos, 3, "'''") == 0) q = 3;
  cs.line = static_cast<int>(b.line);
  cs.col0 = pos + q;
  if (q == 3 && cs.col0 >= l.size()) {  // a newline right after the opening delimiter is trimmed
    cs.line += 1;
    cs.col0 = 0;
  }
  return cs;
}
}  // namespace

Located TomlCtx::located(const toml::node& n, std::string toml_path) const {
  Located out;
  out.text = n.value<std::string>().value_or("");
  out.loc = at(&n, std::move(toml_path));
  const ContentStart cs = content_start(*this, n);
  if (cs.line > 0) {
    out.loc.line = cs.line;
    out.loc.line_text = line(cs.line);
    out.loc.column = static_cast<int>(cs.col0) + 1;
  }
  return out;
}

std::vector<std::pair<std::string, SourceLocation>> TomlCtx::block_lines(const toml::node& n, const std::string& text,
                                                                         const std::string& toml_path) const {
  std::vector<std::pair<std::string, SourceLocation>> out;
  const SourceLocation fallback = at(&n, toml_path);
  const ContentStart cs = content_start(*this, n);
  std::size_t pos = 0;
  int i = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string raw = text.substr(pos, nl - pos);
    const std::string s = strip(raw);
    if (!s.empty()) {
      SourceLocation loc = fallback;
      if (cs.line > 0) {
        const int abs_line = cs.line + i;
        const std::string& l = line(abs_line);
        const std::size_t from = i == 0 ? cs.col0 : 0;
        const auto found = from <= l.size() ? l.find(s, from) : std::string::npos;
        if (found != std::string::npos) {
          loc.line = abs_line;
          loc.line_text = l;
          loc.column = static_cast<int>(found) + 1;
        }
      }
      out.emplace_back(s, std::move(loc));
    }
    pos = nl + 1;
    ++i;
  }
  return out;
}

toml::table TomlCtx::parse_document(std::string_view text) const {
  try {
    return toml::parse(text, std::string_view(src_.file));
  } catch (const toml::parse_error& e) {
    SourceLocation loc = at(e.source(), "");
    std::string msg = "Failed to parse " + src_.what + ": " + std::string(e.description());
    const std::string& l = loc.line_text;
    const auto eq = l.find('=');
    const std::string desc(e.description());
    if (eq != std::string::npos) {
      const std::string value = strip(std::string_view(l).substr(eq + 1));
      const bool numeric_start =
          !value.empty() && (std::isdigit(static_cast<unsigned char>(value[0])) || value[0] == '-' ||
                             value[0] == '+' || value[0] == '.');
      if (numeric_start && value.find_first_of("/*") != std::string::npos) {
        msg +=
            "\nHint: TOML values cannot contain arithmetic. Write the number (beta = 2.6666666666666665) or quote"
            " the expression as a numeric string (beta = \"8/3\").";
      } else if (desc.find("expected") != std::string::npos) {
        msg += "\nHint: Check that all key-value pairs use the format: key = value (strings need quotes).";
      }
    } else if (desc.find("end-of-file") != std::string::npos) {
      msg += "\nHint: Check for unclosed brackets or quotes.";
    }
    throw TomlSyntaxError(std::move(msg), std::move(loc));
  }
}

// ---------------------------------------------------------------------------------------------------------

void schema_error(std::string msg, SourceLocation loc) { throw SchemaError(std::move(msg), std::move(loc)); }

std::vector<std::pair<std::string, const toml::node*>> ordered(const toml::table& t) {
  struct E {
    std::string key;
    const toml::node* node;
    toml::source_position pos;
  };
  std::vector<E> es;
  for (const auto& [k, v] : t) {
    toml::source_position p = k.source().begin;
    if (p.line == 0) p = v.source().begin;
    es.push_back({std::string(k.str()), &v, p});
  }
  std::stable_sort(es.begin(), es.end(), [](const E& a, const E& b) {
    return a.pos.line != b.pos.line ? a.pos.line < b.pos.line : a.pos.column < b.pos.column;
  });
  std::vector<std::pair<std::string, const toml::node*>> out;
  out.reserve(es.size());
  for (auto& e : es) out.emplace_back(std::move(e.key), e.node);
  return out;
}

void warn_unknown_keys(const TomlCtx& c, const toml::table& t, const std::string& prefix,
                       const std::vector<std::string>& valid) {
  for (const auto& [k, v] : t) {
    const std::string key(k.str());
    if (std::find(valid.begin(), valid.end(), key) != valid.end()) continue;
    std::string msg = c.source().file;
    const auto& pos = k.source().begin;
    if (pos.line > 0) {
      msg.append(":").append(std::to_string(pos.line)).append(":").append(std::to_string(pos.column));
    }
    msg.append(": unknown key '").append(key).append("' in ").append(prefix).append(" is ignored");
    const std::string close = close_match(key, valid);
    if (!close.empty()) msg.append(" (did you mean '").append(close).append("'?)");
    dynlib::warn(msg);
  }
}

const char* py_type(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "dict";
    case toml::node_type::array: return "list";
    case toml::node_type::string: return "str";
    case toml::node_type::integer: return "int";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "bool";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "datetime";
    default: return "None";
  }
}

std::string close_match(const std::string& word, const std::vector<std::string>& options) {
  std::string best;
  double best_score = -1.0;
  for (const auto& o : options) {
    const std::size_t total = word.size() + o.size();
    if (total == 0) continue;
    const double score = 2.0 * static_cast<double>(matching_chars(o, word)) / static_cast<double>(total);
    if (score >= 0.6 && (score > best_score || (score == best_score && o > best))) {
      best = o;
      best_score = score;
    }
  }
  return best;
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
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += eb;
  }
  return neg ? "-" + out : out;
}

double eval_number_string(const std::string& text, const std::vector<std::pair<std::string, double>>& constants,
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

FunctionSpec parse_function(const TomlCtx& c, const std::string& name, const toml::node& n,
                            const std::string& prefix) {
  const toml::table* t = n.as_table();
  if (!t) schema_error(prefix + " must be a table", c.at(&n, prefix));
  FunctionSpec f;
  f.name = name;
  f.loc = c.at(&n, prefix);
  warn_unknown_keys(c, *t, prefix, {"args", "expr"});
  if (const toml::node* args = t->get("args")) {
    const toml::array* arr = args->as_array();
    const std::string where = prefix + ".args";
    if (!arr) schema_error(where + " must be a list of strings", c.at(args, where));
    std::set<std::string> seen;
    for (const auto& a : *arr) {
      if (!a.is_string()) schema_error(where + " must be a list of strings", c.at(&a, where));
      const std::string& s = a.as_string()->get();
      if (!is_identifier(s)) schema_error(where + " must be a list of identifiers", c.at(&a, where));
      if (!seen.insert(s).second) throw NameConflictError(where + " must be unique", c.at(&a, where));
      f.args.push_back(s);
    }
  }
  const toml::node* body = t->get("expr");
  if (!body || !body->is_string()) {
    schema_error(prefix + ".expr must be a string", body ? c.at(body, prefix + ".expr") : c.at(&n, prefix));
  }
  f.body = c.located(*body, prefix + ".expr");
  return f;
}

std::vector<EquationLine> parse_action_block(const TomlCtx& c, const toml::node& n, const std::string& text,
                                             const std::string& toml_path) {
  std::vector<EquationLine> out;
  for (auto& [s, loc] : c.block_lines(n, text, toml_path)) {
    const auto eq = s.find('=');
    if (eq == std::string::npos) {
      throw EventError("Event action line must contain '=': '" + s + "'", loc);
    }
    EquationLine line;
    line.target = strip(std::string_view(s).substr(0, eq));
    const std::string after = s.substr(eq + 1);
    const auto first = after.find_first_not_of(" \t");
    line.rhs.text = strip(after);
    line.rhs.loc = shifted(loc, eq + 1 + (first == std::string::npos ? 0 : first));
    out.push_back(std::move(line));
  }
  return out;
}

EventSpec parse_event(const TomlCtx& c, const std::string& name, const toml::node& n, const std::string& prefix) {
  const toml::table* t = n.as_table();
  if (!t) schema_error(prefix + " must be a table", c.at(&n, prefix));
  EventSpec ev;
  ev.name = name;
  ev.loc = c.at(&n, prefix);
  {
    std::vector<std::string> valid = {"phase", "cond", "action", "log", "tags", "record"};
    if (!t->get("action")) {
      for (const auto& [k, v] : *t) {
        if (k.str().rfind("action.", 0) == 0) valid.emplace_back(k.str());
      }
    }
    warn_unknown_keys(c, *t, prefix, valid);
  }

  if (const toml::node* rec = t->get("record")) {
    schema_error(prefix +
                     ".record is no longer supported. Use log=['t'] to record event occurrence times, or "
                     "log=['t', 'x', ...] to log time and values.",
                 c.at(rec, prefix + ".record"));
  }
  if (const toml::node* ph = t->get("phase")) {
    const std::string where = prefix + ".phase";
    const auto s = ph->value<std::string>();
    if (!ph->is_string()) schema_error(where + " must be 'start'|'end'|'both'", c.at(ph, where));
    if (*s == "start") {
      ev.phase = ir::Phase::start;
    } else if (*s == "end") {
      ev.phase = ir::Phase::end;
    } else if (*s == "both") {
      ev.phase = ir::Phase::both;
    } else if (*s == "pre") {
      throw EventError("pre is deprecated. Use start for event phase.", c.at(ph, where));
    } else if (*s == "post") {
      throw EventError("post is deprecated. Use end for event phase.", c.at(ph, where));
    } else {
      throw EventError(where + " must be 'start'|'end'|'both'", c.at(ph, where));
    }
  }
  const toml::node* cond = t->get("cond");
  if (!cond || !cond->is_string()) {
    schema_error(prefix + ".cond must be a string expression",
                 cond ? c.at(cond, prefix + ".cond") : c.at(&n, prefix));
  }
  ev.cond = c.located(*cond, prefix + ".cond");

  if (const toml::node* act = t->get("action")) {
    const std::string where = prefix + ".action";
    if (act->is_string()) {
      const std::string text = act->as_string()->get();
      ev.actions = parse_action_block(c, *act, text, where);
    } else if (const toml::table* at = act->as_table()) {
      for (const auto& [k, v] : ordered(*at)) {
        const std::string kw = where + "." + k;
        if (!v->is_string()) schema_error(kw + " must be a string expression", c.at(v, kw));
        EquationLine line;
        line.target = k;
        line.rhs = c.located(*v, kw);
        ev.actions.push_back(std::move(line));
      }
    } else {
      schema_error(where + " must be a string block or a table of target = expr, got " + py_type(*act),
                   c.at(act, where));
    }
  } else {
    // Fallback: literal flat keys "action.x" (quoted TOML keys).
    for (const auto& [k, v] : ordered(*t)) {
      if (k.rfind("action.", 0) != 0 || k.size() <= 7) continue;
      const std::string target = k.substr(7);
      const std::string kw = prefix + ".action." + target;
      if (!v->is_string()) schema_error(kw + " must be a string expression", c.at(v, kw));
      EquationLine line;
      line.target = target;
      line.rhs = c.located(*v, kw);
      ev.actions.push_back(std::move(line));
    }
  }

  if (const toml::node* log = t->get("log")) {
    const std::string where = prefix + ".log";
    const toml::array* arr = log->as_array();
    if (!arr) schema_error(where + " must be a list of strings if present", c.at(log, where));
    std::size_t i = 0;
    for (const auto& item : *arr) {
      const std::string wi = where + "[" + std::to_string(i++) + "]";
      if (!item.is_string()) schema_error(where + " must be a list of strings if present", c.at(&item, wi));
      ev.log.push_back(c.located(item, wi));
    }
  }

  if (const toml::node* tags = t->get("tags")) {
    const std::string where = prefix + ".tags";
    const toml::array* arr = tags->as_array();
    if (!arr) schema_error(where + " must be a list of strings if present", c.at(tags, where));
    std::set<std::string> uniq;
    for (const auto& item : *arr) {
      if (!item.is_string()) schema_error(where + " must be a list of strings if present", c.at(&item, where));
      const std::string tag = item.as_string()->get();
      if (tag.empty()) schema_error(prefix + " tag cannot be empty", c.at(&item, where));
      if (!is_tag(tag)) {
        schema_error(prefix + " tag '" + tag +
                         "' is invalid. Tags must start with a letter or underscore and contain only letters, "
                         "digits, underscores, and hyphens.",
                     c.at(&item, where));
      }
      uniq.insert(tag);
    }
    ev.tags.assign(uniq.begin(), uniq.end());
  }
  return ev;
}

void apply_sim_key(const TomlCtx& c, SimSpec& sim, const std::string& key, const toml::node& v,
                   const std::string& ctx) {
  auto& d = sim.defaults;
  const std::string where = ctx + "." + key;
  auto as_float = [&]() -> double {
    if (auto i = v.as_integer()) return static_cast<double>(i->get());
    if (auto f = v.as_floating_point()) return f->get();
    if (auto b = v.as_boolean()) return b->get() ? 1.0 : 0.0;
    if (v.is_string()) {
      const std::string s = v.as_string()->get();
      if (auto x = py_parse_float(s)) return *x;
      schema_error(where + " must be a number, got str '" + s + "'", c.at(&v, where));
    }
    schema_error(where + " must be a number, got " + py_type(v), c.at(&v, where));
  };
  auto erase_extra = [&](const std::string& k) {
    std::erase_if(d.extras, [&](const auto& p) { return p.first == k; });
    std::erase_if(d.string_extras, [&](const auto& p) { return p.first == k; });
  };

  if (key == "t0") {
    d.t0 = as_float();
  } else if (key == "t_end") {
    d.t_end = as_float();
  } else if (key == "dt") {
    d.dt = as_float();
  } else if (key == "atol") {
    d.atol = as_float();
  } else if (key == "rtol") {
    d.rtol = as_float();
  } else if (key == "stepper") {
    if (!v.is_string()) schema_error(where + " must be a string (a stepper name)", c.at(&v, where));
    d.stepper = v.as_string()->get();
  } else if (key == "record") {
    if (auto b = v.as_boolean()) {
      d.record = b->get();
    } else {  // the reference's bool() would turn "no" into true: refuse anything but a boolean
      schema_error(where + " must be a boolean, got " + py_type(v), c.at(&v, where));
    }
  } else if (key == "max_steps") {
    if (auto i = v.as_integer()) {
      d.max_steps = i->get();
    } else if (auto f = v.as_floating_point(); f && std::isfinite(f->get())) {
      d.max_steps = static_cast<std::int64_t>(std::trunc(f->get()));
    } else if (auto b = v.as_boolean()) {
      d.max_steps = b->get() ? 1 : 0;
    } else if (v.is_string()) {
      const std::string s = v.as_string()->get();
      auto x = py_parse_int(s);
      if (!x) schema_error(where + " must be an integer, got str '" + s + "'", c.at(&v, where));
      d.max_steps = *x;
    } else {
      schema_error(where + " must be an integer, got " + py_type(v), c.at(&v, where));
    }
  } else if (key == "stop") {
    const std::string stop_tbl = ctx == "[sim]" ? "[sim.stop]" : ctx + ".stop";
    if (v.is_string()) {
      Located l = c.located(v, where);
      if (strip(l.text).empty()) schema_error(where + " must be a non-empty string expression", l.loc);
      sim.stop = std::move(l);
    } else if (const toml::table* st = v.as_table()) {
      const toml::node* cond = st->get("cond");
      if (!cond || !cond->is_string() || strip(cond->as_string()->get()).empty()) {
        schema_error(stop_tbl + ".cond must be a non-empty string",
                     cond ? c.at(cond, stop_tbl + ".cond") : c.at(&v, stop_tbl));
      }
      if (const toml::node* ph = st->get("phase")) {
        if (!ph->is_string() || ph->as_string()->get() != "post") {
          schema_error(stop_tbl + ".phase must be 'post'", c.at(ph, stop_tbl + ".phase"));
        }
      }
      sim.stop = c.located(*cond, stop_tbl + ".cond");
    } else {
      schema_error(where + " must be a table ([sim.stop]) or a string expression", c.at(&v, where));
    }
  } else {
    // Stepper settings: kept for the stepper's configuration.
    erase_extra(key);
    if (auto i = v.as_integer()) {
      d.extras.emplace_back(key, static_cast<double>(i->get()));
    } else if (auto f = v.as_floating_point()) {
      d.extras.emplace_back(key, f->get());
    } else if (auto b = v.as_boolean()) {
      d.extras.emplace_back(key, b->get() ? 1.0 : 0.0);
    } else if (v.is_string()) {
      d.string_extras.emplace_back(key, v.as_string()->get());
    } else {
      schema_error(where + " must be a number or a string (a stepper setting), got " + py_type(v),
                   c.at(&v, where));
    }
  }
}

}  // namespace dynlib::model::detail
