// TOML front end: [functions.NAME] and [events.NAME] tables.
#include <algorithm>
#include <cctype>
#include <set>

#include "model/parse_internal.hpp"

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

}  // namespace

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
    line.target = util::trim(std::string_view(s).substr(0, eq));
    const std::string after = s.substr(eq + 1);
    const auto first = after.find_first_not_of(" \t");
    line.rhs.text = util::trim(after);
    line.rhs.loc = shifted(loc, eq + 1 + (first == std::string::npos ? 0 : first));
    out.push_back(std::move(line));
  }
  return out;
}

EventSpec parse_event(const TomlCtx& c, const std::string& name, const toml::node& n,
                      const std::string& prefix) {
  const toml::table* t = n.as_table();
  if (!t) schema_error(prefix + " must be a table", c.at(&n, prefix));
  EventSpec ev;
  ev.name = name;
  ev.loc = c.at(&n, prefix);
  {
    std::vector<std::string> valid = {"phase",  "cond", "root", "direction", "terminal",
                                      "action", "log",  "tags", "record"};
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
  const toml::node* root = t->get("root");
  if (root) {
    const std::string where = prefix + ".root";
    if (cond)
      throw EventError(prefix +
                           " has both 'cond' and 'root': use 'cond' for a condition checked at step "
                           "boundaries or 'root' for a located zero crossing, not both",
                       c.at(root, where));
    if (const toml::node* ph = t->get("phase"))
      throw EventError(prefix +
                           ".phase applies only to 'cond' events; a 'root' event fires where its "
                           "expression crosses zero",
                       c.at(ph, prefix + ".phase"));
    if (!root->is_string() || util::trim(root->as_string()->get()).empty())
      schema_error(where + " must be a non-empty string expression (fires where it crosses zero), got " +
                       (root->is_string() ? std::string("an empty string") : std::string(py_type(*root))),
                   c.at(root, where));
    ev.cond = c.located(*root, where);
    ev.root_form = true;
    ev.phase = ir::Phase::end;
    if (const toml::node* dir = t->get("direction")) {
      const std::string wd = prefix + ".direction";
      const auto d = dir->value<std::string>();
      if (!dir->is_string() || !(*d == "up" || *d == "down" || *d == "either"))
        throw EventError(wd + " must be 'up', 'down' or 'either', got " +
                             (dir->is_string() ? "'" + *d + "'" : std::string(py_type(*dir))),
                         c.at(dir, wd));
      ev.direction = *d == "up"     ? ir::Direction::up
                     : *d == "down" ? ir::Direction::down
                                    : ir::Direction::either;
    }
    if (const toml::node* term = t->get("terminal")) {
      const std::string wt = prefix + ".terminal";
      if (const auto* bv = term->as_boolean()) {
        ev.terminal = bv->get() ? 1 : 0;
      } else if (const auto* iv = term->as_integer(); iv && iv->get() >= 1) {
        ev.terminal = iv->get();
      } else {
        throw EventError(wt + " must be true, false or a positive integer n (stop at the n-th firing), got " +
                             (iv ? std::to_string(iv->get()) : std::string(py_type(*term))),
                         c.at(term, wt));
      }
    }
  } else {
    for (const char* key : {"direction", "terminal"})
      if (const toml::node* k = t->get(key))
        throw EventError(
            prefix + "." + key + " applies only to 'root' events (add root = \"expr\" instead of cond)",
            c.at(k, prefix + "." + key));
    if (!cond || !cond->is_string()) {
      schema_error(prefix + ".cond must be a string expression",
                   cond ? c.at(cond, prefix + ".cond") : c.at(&n, prefix));
    }
    ev.cond = c.located(*cond, prefix + ".cond");
  }

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
      if (!item.is_string())
        schema_error(where + " must be a list of strings if present", c.at(&item, where));
      const std::string tag = item.as_string()->get();
      if (tag.empty()) schema_error(prefix + " tag cannot be empty", c.at(&item, where));
      if (!is_tag(tag)) {
        schema_error(
            prefix + " tag '" + tag +
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

}  // namespace dynlib::model::detail
