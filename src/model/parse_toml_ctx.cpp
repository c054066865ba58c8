// TOML front end: locations of nodes (TomlCtx), document parsing, schema errors and key helpers.
#include <algorithm>
#include <cctype>
#include <dynlib/warnings.hpp>

#include "model/parse_internal.hpp"
#include "util/suggest.hpp"
#include "util/text.hpp"

namespace dynlib::model::detail {

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

std::vector<std::pair<std::string, SourceLocation>> TomlCtx::block_lines(const toml::node& n,
                                                                         const std::string& text,
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
    const std::string s = util::trim(raw);
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
      const std::string value = util::trim(std::string_view(l).substr(eq + 1));
      const bool numeric_start = !value.empty() && (std::isdigit(static_cast<unsigned char>(value[0])) ||
                                                    value[0] == '-' || value[0] == '+' || value[0] == '.');
      if (numeric_start && value.find_first_of("/*") != std::string::npos) {
        msg +=
            "\nHint: TOML values cannot contain arithmetic. Write the number (beta = 2.6666666666666665) or "
            "quote"
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
    const std::string close = util::closest_name(key, valid);
    if (!close.empty()) msg.append(" (did you mean '").append(close).append("'?)");
    dynlib::warn(msg);
  }
}

const char* py_type(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "dict";
    case toml::node_type::array:
      return "list";
    case toml::node_type::string:
      return "str";
    case toml::node_type::integer:
      return "int";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "bool";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "datetime";
    default:
      return "None";
  }
}

}  // namespace dynlib::model::detail
