// TOML model document -> ModelSpec (errors in the reference's order where it matters).
#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include "model/parse_internal.hpp"

namespace dynlib::model {

using namespace detail;

namespace {

const std::vector<std::pair<std::string, double>> kNoConstants;

// Top-level tables of a model document ([mods.*]/[mod] hold mods, [meta] is free-form).
const std::vector<std::string> kTopLevel = {"model", "states",    "params", "constants", "equations",
                                            "aux",   "functions", "events", "presets",   "sim",
                                            "mods",  "mod",       "meta"};

std::string unknown_keys_message(const std::string& table, const std::vector<std::string>& bad,
                                 const std::vector<std::string>& valid_for_match,
                                 const std::string& valid_text) {
  std::string m = "Unknown key(s) in " + table + ": ";
  for (std::size_t i = 0; i < bad.size(); ++i) {
    if (i) m += ", ";
    m += "'" + bad[i] + "'";
    const std::string close = util::closest_name(bad[i], valid_for_match);
    if (!close.empty()) m += " (did you mean '" + close + "'?)";
  }
  return m + ". Valid keys: " + valid_text;
}

void check_keys(const TomlCtx& c, const toml::table& t, const std::string& table,
                const std::vector<std::string>& valid, const std::string& valid_text) {
  std::vector<std::string> bad;
  const toml::node* first = nullptr;
  for (const auto& [k, v] : ordered(t)) {
    if (std::find(valid.begin(), valid.end(), k) == valid.end()) {
      bad.push_back(k);
      if (!first) first = v;
    }
  }
  if (!bad.empty()) {
    const auto it = t.find(bad.front());
    SourceLocation loc = c.at(it->first.source(), table + "." + bad.front());
    schema_error(unknown_keys_message(table, bad, valid, valid_text), loc);
  }
}

const toml::table* optional_table(const TomlCtx& c, const toml::table& doc, const char* key,
                                  const std::string& msg) {
  const toml::node* n = doc.get(key);
  if (!n) return nullptr;
  const toml::table* t = n->as_table();
  if (!t) schema_error(msg, c.at(n, std::string("[") + key + "]"));
  return t;
}

// A forward or inverse equation set: [equations.rhs] table + [equations].expr block.
struct EqNames {
  std::string rhs_table;      // "[equations.rhs]"
  std::string block;          // "[equations].expr"
  std::string dup_msg;        // "Duplicate equation targets across rhs and block: "
  std::string unknown_msg;    // "Equation targets must be declared in [states], unknown: "
  std::string rhs_not_table;  // "[equations.rhs] must be a table of name = expr"
  std::string block_not_str;  // "[equations].expr must be a string block if present"
};

// Equation-target problems are name problems (tests/models/bad/README.md).
[[noreturn]] void name_error(std::string msg, SourceLocation loc) {
  throw NameConflictError(std::move(msg), std::move(loc));
}

bool ident_char(char ch, bool first) {
  return std::isalpha(static_cast<unsigned char>(ch)) || ch == '_' ||
         (!first && std::isdigit(static_cast<unsigned char>(ch)));
}

bool is_ident(std::string_view s) {
  if (s.empty() || !ident_char(s[0], true)) return false;
  for (char ch : s.substr(1)) {
    if (!ident_char(ch, false)) return false;
  }
  return true;
}

// `d(name)` (spaces allowed inside the parentheses) or `dname` -> name; "" otherwise.
// (Hand-written rather than std::regex, whose recursion overflows the stack on very long lines.)
std::string derivative_name(std::string_view lhs) {
  if (lhs.size() < 2 || lhs[0] != 'd') return {};
  std::string_view rest = lhs.substr(1);
  if (rest.front() == '(') {
    if (rest.back() != ')') return {};
    const std::string inner = util::trim(rest.substr(1, rest.size() - 2));
    return is_ident(inner) ? inner : std::string();
  }
  return is_ident(rest) ? std::string(rest) : std::string();
}

std::vector<EquationLine> parse_equation_set(const TomlCtx& c, const toml::table& eq, const EqNames& nm,
                                             const ModelSpec& spec) {
  std::vector<EquationLine> out;
  std::unordered_set<std::string> state_names;  // a set: a model may have 100k states
  for (const auto& st : spec.states) state_names.insert(st.first);
  auto is_state = [&](const std::string& s) { return state_names.count(s) != 0; };
  std::set<std::string> table_targets;
  std::vector<std::string> unknown;
  SourceLocation unknown_loc;

  if (const toml::node* rhs = eq.get("rhs")) {
    const toml::table* t = rhs->as_table();
    if (!t) schema_error(nm.rhs_not_table, c.at(rhs, nm.rhs_table));
    for (const auto& [k, v] : ordered(*t)) {
      const std::string where = nm.rhs_table + "." + k;
      if (!v->is_string()) schema_error(where + " must be a string expression", c.at(v, where));
      if (!is_state(k)) {
        if (unknown.empty()) unknown_loc = c.at(t->find(k)->first.source(), where);
        unknown.push_back(k);
        continue;
      }
      EquationLine line;
      line.target = k;
      line.rhs = c.located(*v, where);
      table_targets.insert(k);
      out.push_back(std::move(line));
    }
  }
  if (const toml::node* blk = eq.get("expr")) {
    if (!blk->is_string()) schema_error(nm.block_not_str, c.at(blk, nm.block));
    const std::string text = blk->as_string()->get();
    std::vector<std::string> dups;
    SourceLocation dup_loc;
    std::map<std::string, SourceLocation> block_targets;
    for (auto& [s, loc] : c.block_lines(*blk, text, nm.block)) {
      const auto eqpos = s.find('=');
      if (eqpos == std::string::npos) {
        throw ExpressionSyntaxError("Block equation line must contain '=': '" + s + "'", loc);
      }
      const std::string lhs = util::trim(std::string_view(s).substr(0, eqpos));
      EquationLine line;
      const std::string dname = derivative_name(lhs);
      if (!dname.empty() && is_state(dname)) {
        if (spec.kind == ir::Kind::map) {
          name_error(
              "Map models do not support derivative notation (d(x) or dx). Use direct assignment (x = expr). "
              "Got: '" +
                  lhs + "' in line: '" + s + "'",
              loc);
        }
        line.target = dname;
        line.derivative = true;
      } else {
        line.target = lhs;
      }
      const std::string after = s.substr(eqpos + 1);
      const auto first = after.find_first_not_of(" \t");
      line.rhs.text = util::trim(after);
      line.rhs.loc = loc;
      if (line.rhs.loc.column > 0) {
        line.rhs.loc.column += static_cast<int>(eqpos + 1 + (first == std::string::npos ? 0 : first));
      }
      if (!is_state(line.target)) {
        if (unknown.empty()) unknown_loc = loc;
        unknown.push_back(line.target);
        continue;
      }
      if (table_targets.count(line.target)) {
        if (dups.empty()) dup_loc = loc;
        dups.push_back(line.target);
      }
      if (auto it = block_targets.find(line.target); it != block_targets.end()) {
        name_error("Duplicate equation target '" + line.target + "' in " + nm.block +
                       " (each state may be assigned once)",
                   loc);
      }
      block_targets.emplace(line.target, loc);
      out.push_back(std::move(line));
    }
    if (!dups.empty() && unknown.empty()) name_error(nm.dup_msg + util::quoted_list(dups), dup_loc);
  }
  if (!unknown.empty()) name_error(nm.unknown_msg + util::quoted_list(unknown), unknown_loc);
  return out;
}

std::string alias_dtype(const std::string& d) {
  if (d == "float" || d == "double") return "float64";
  if (d == "single") return "float32";
  return d;
}

// The whole document (after TOML parsing) -> ModelSpec.
ModelSpec build_spec(const TomlCtx& c, const toml::table& doc) {
  ModelSpec spec;
  spec.source = c.source().file;

  // (1) [model]
  const toml::node* mnode = doc.get("model");
  const toml::table* model = mnode ? mnode->as_table() : nullptr;
  if (!model)
    schema_error("Missing required table [model]", mnode ? c.at(mnode, "[model]") : c.file_only("[model]"));
  if (const toml::node* label = model->get("label")) {
    schema_error("[model].label is no longer supported; use [model].name",
                 c.at(model->find("label")->first.source(), "[model].label"));
    (void)label;
  }
  warn_unknown_keys(c, *model, "[model]", {"type", "name", "dtype", "label"});
  const toml::node* type = model->get("type");
  const auto type_s = type ? type->value<std::string>() : std::nullopt;
  if (!type || !type->is_string() || (*type_s != "ode" && *type_s != "map")) {
    schema_error("[model].type must be 'ode' or 'map'",
                 type ? c.at(type, "[model].type") : c.at(mnode, "[model]"));
  }
  spec.kind = *type_s == "ode" ? ir::Kind::ode : ir::Kind::map;
  if (const toml::node* name = model->get("name")) {
    if (!name->is_string())
      schema_error("[model].name must be a string if present", c.at(name, "[model].name"));
    spec.name = name->as_string()->get();
  }
  if (const toml::node* dt = model->get("dtype")) {
    if (!dt->is_string())
      schema_error("[model].dtype must be a string if present", c.at(dt, "[model].dtype"));
    spec.dtype = alias_dtype(dt->as_string()->get());
    if (spec.kind == ir::Kind::ode && spec.dtype != "float32" && spec.dtype != "float64" &&
        spec.dtype != "float16" && spec.dtype != "bfloat16") {
      schema_error("ODE models require a floating dtype (float32/float64/float16/bfloat16)",
                   c.at(dt, "[model].dtype"));
    }
  }

  // Unknown top-level tables: a typo ([equation]) would otherwise drop the whole table silently.
  for (const auto& [k, v] : ordered(doc)) {
    if (std::find(kTopLevel.begin(), kTopLevel.end(), k) != kTopLevel.end()) continue;
    schema_error("Unknown top-level table [" + k + "]" + util::did_you_mean(k, kTopLevel) +
                     ". Valid tables: " + util::join(kTopLevel, ", "),
                 c.at(doc.find(k)->first.source(), "[" + k + "]"));
  }

  // (2) table shapes
  const toml::node* snode = doc.get("states");
  const toml::table* states = snode ? snode->as_table() : nullptr;
  if (!states) {
    schema_error("Missing required table [states]",
                 snode ? c.at(snode, "[states]") : c.file_only("[states]"));
  }
  const toml::table* params = optional_table(c, doc, "params", "[params] must be a table if present");
  const toml::table* constants =
      optional_table(c, doc, "constants", "[constants] must be a table if present");
  const toml::table* equations =
      optional_table(c, doc, "equations", "[equations] must be a table if present");
  const toml::table* aux = optional_table(c, doc, "aux", "[aux] must be a table of name = expr");
  const toml::table* functions =
      optional_table(c, doc, "functions", "[functions] must be a table of subtables");
  const toml::table* events =
      optional_table(c, doc, "events", "[events] must be a table of named event subtables");
  const toml::table* presets =
      optional_table(c, doc, "presets", "[presets] must be a table of named preset subtables");
  const toml::table* sim = optional_table(c, doc, "sim", "[sim] must be a table if present");

  if (equations) {
    std::vector<std::string> valid = {"rhs", "expr", "jacobian"};
    std::vector<std::string> allowed = valid;
    allowed.push_back("inverse");
    check_keys(c, *equations, "[equations]", allowed, "rhs, expr, jacobian");
    if (const toml::node* inv = equations->get("inverse")) {
      if (spec.kind != ir::Kind::map) {
        schema_error("[equations.inverse] is only supported for map models",
                     c.at(inv, "[equations.inverse]"));
      }
      const toml::table* it = inv->as_table();
      if (!it)
        schema_error("[equations.inverse] must be a table if present", c.at(inv, "[equations.inverse]"));
      check_keys(c, *it, "[equations.inverse]", {"rhs", "expr"}, "rhs, expr");
    }
    if (const toml::node* jac = equations->get("jacobian")) {
      const toml::table* jt = jac->as_table();
      if (!jt)
        schema_error("[equations.jacobian] must be a table if present", c.at(jac, "[equations.jacobian]"));
      check_keys(c, *jt, "[equations.jacobian]", {"expr"}, "expr");
    }
  }

  // (4) numeric values: constants -> states -> params
  std::vector<std::pair<std::string, double>> consts;
  if (constants) {
    for (const auto& [k, v] : ordered(*constants)) {
      NumberValue nv = parse_number_value(c, *v, "[constants]." + k, consts);
      consts.emplace_back(k, nv.value);
      spec.constants.emplace_back(k, std::move(nv));
    }
  }
  for (const auto& [k, v] : ordered(*states)) {
    spec.states.emplace_back(k, parse_number_value(c, *v, "[states]." + k, consts));
  }
  if (params) {
    for (const auto& [k, v] : ordered(*params)) {
      spec.params.emplace_back(k, parse_number_value(c, *v, "[params]." + k, consts));
    }
  }

  // (3)+(5) equations, inverse, jacobian
  if (equations) {
    spec.equations = parse_equation_set(
        c, *equations,
        {"[equations.rhs]", "[equations].expr", "Duplicate equation targets across rhs and block: ",
         "Equation targets must be declared in [states], unknown: ",
         "[equations.rhs] must be a table of name = expr",
         "[equations].expr must be a string block if present"},
        spec);
    if (const toml::node* inv = equations->get("inverse")) {
      spec.inverse = parse_equation_set(c, *inv->as_table(),
                                        {"[equations.inverse.rhs]", "[equations.inverse].expr",
                                         "Duplicate inverse equation targets across rhs and block: ",
                                         "Inverse equation targets must be declared in [states], unknown: ",
                                         "[equations.inverse.rhs] must be a table of name = expr",
                                         "[equations.inverse].expr must be a string block if present"},
                                        spec);
    }
    if (const toml::node* jac = equations->get("jacobian")) {
      const toml::table* jt = jac->as_table();
      const toml::node* ex = jt->get("expr");
      const std::string base = "[equations.jacobian].expr";
      if (!ex)
        schema_error(base + " is required and must be a square list", c.at(jac, "[equations.jacobian]"));
      const toml::array* rows = ex->as_array();
      if (!rows) schema_error(base + " must be a list of rows", c.at(ex, base));
      const std::size_t n = spec.states.size();
      if (rows->size() != n) {
        schema_error(base + " must have " + std::to_string(n) + " rows to match [states]; got " +
                         std::to_string(rows->size()),
                     c.at(ex, base));
      }
      std::vector<std::vector<Located>> J;
      for (std::size_t i = 0; i < rows->size(); ++i) {
        const toml::node& rn = *rows->get(i);
        const std::string ri = base + "[" + std::to_string(i) + "]";
        const toml::array* row = rn.as_array();
        if (!row) schema_error(ri + " must be a list", c.at(&rn, ri));
        if (row->size() != n) {
          schema_error(ri + " must have " + std::to_string(n) + " columns to match [states]; got " +
                           std::to_string(row->size()),
                       c.at(&rn, ri));
        }
        std::vector<Located> out_row;
        for (std::size_t j = 0; j < row->size(); ++j) {
          const toml::node& en = *row->get(j);
          const std::string rij = ri + "[" + std::to_string(j) + "]";
          Located l;
          if (en.is_string()) {
            l = c.located(en, rij);
          } else if (auto iv = en.as_integer()) {
            l.text = std::to_string(iv->get());
            l.loc = c.at(&en, rij);
          } else if (auto fv = en.as_floating_point()) {
            l.text = py_float(fv->get());
            l.loc = c.at(&en, rij);
          } else {
            schema_error(rij + " must be a string or number", c.at(&en, rij));
          }
          out_row.push_back(std::move(l));
        }
        J.push_back(std::move(out_row));
      }
      spec.jacobian = std::move(J);
    }
  }

  // (6) aux
  if (aux) {
    for (const auto& [k, v] : ordered(*aux)) {
      const std::string where = "[aux]." + k;
      if (!v->is_string()) schema_error(where + " must be a string expression", c.at(v, where));
      spec.aux.emplace_back(k, c.located(*v, where));
    }
  }
  // (7) functions
  if (functions) {
    for (const auto& [k, v] : ordered(*functions)) {
      spec.functions.push_back(parse_function(c, k, *v, "[functions." + k + "]"));
    }
  }
  // (8) events
  if (events) {
    for (const auto& [k, v] : ordered(*events)) {
      spec.events.push_back(parse_event(c, k, *v, "[events." + k + "]"));
    }
  }
  // (9) presets
  if (presets) {
    for (const auto& [k, v] : ordered(*presets)) {
      const std::string prefix = "[presets." + k + "]";
      const toml::table* pt = v->as_table();
      if (!pt) schema_error(prefix + " must be a table", c.at(v, prefix));
      PresetSpec p;
      p.name = k;
      p.loc = c.at(v, prefix);
      warn_unknown_keys(c, *pt, prefix, {"params", "states"});
      auto read = [&](const char* sub, const std::string& not_table,
                      std::vector<std::pair<std::string, NumberValue>>& dst) {
        const toml::node* sn = pt->get(sub);
        if (!sn) return;
        const toml::table* st = sn->as_table();
        if (!st) schema_error(not_table, c.at(sn, prefix + "." + sub));
        for (const auto& [name, val] : ordered(*st)) {
          const std::string where = prefix + "." + sub + "." + name;
          if (!val->is_integer() && !val->is_floating_point() && !val->is_boolean()) {
            schema_error(where + " must be a number, got " + py_type(*val), c.at(val, where));
          }
          dst.emplace_back(name, parse_number_value(c, *val, where, kNoConstants));
        }
      };
      read("params", prefix + ".params must be a table", p.params);
      read("states", prefix + ".states must be a table if present", p.states);
      if (p.params.empty() && p.states.empty()) {
        schema_error(prefix + " must define at least one param or state", p.loc);
      }
      spec.presets.push_back(std::move(p));
    }
  }
  // [sim]
  if (sim) {
    spec.sim.loc = c.at(doc.get("sim"), "[sim]");
    for (const auto& [k, v] : ordered(*sim)) apply_sim_key(c, spec.sim, k, *v, "[sim]");
    check_sim_table(c, *sim, spec.sim, spec.kind, "[sim]");
  }
  return spec;
}

const toml::table* find_named_mod(const TomlCtx& c, const toml::table& doc, const std::string& name,
                                  const std::string& uri) {
  const toml::node* mods = doc.get("mods");
  const toml::table* mt = mods ? mods->as_table() : nullptr;
  std::vector<std::string> names;
  if (mt) {
    for (const auto& [k, v] : ordered(*mt)) names.push_back(k);
  }
  const toml::node* m = mt ? mt->get(name) : nullptr;
  if (!m) {
    std::sort(names.begin(), names.end());
    throw ModError("Mod '" + name + "' not found in " + uri + ". Available mods: " + util::quoted_list(names),
                   c.file_only("[mods." + name + "]"));
  }
  const toml::table* t = m->as_table();
  if (!t) throw ModError("[mods." + name + "] must be a table", c.at(m, "[mods." + name + "]"));
  return t;
}

}  // namespace

// Defined in parse_mods.cpp.
namespace detail {
ModSpec parse_mod_table(const TomlCtx& c, const toml::table& t, const std::string& name,
                        const std::string& prefix);
}

ModelSpec parse_model_text(std::string_view text, const TextSource& src) {
  TomlCtx c(text, src);
  const toml::table doc = c.parse_document(text);
  return build_spec(c, doc);
}

ModelWithMod parse_model_text_with_mod(std::string_view text, const TextSource& src,
                                       const std::string& mod_name, const std::string& uri) {
  TomlCtx c(text, src);
  const toml::table doc = c.parse_document(text);
  ModelWithMod out;
  out.spec = build_spec(c, doc);
  const toml::table* mt = find_named_mod(c, doc, mod_name, uri);
  out.mod = parse_mod_table(c, *mt, mod_name, "[mods." + mod_name + "]");
  return out;
}

ModSpec parse_mod_text(std::string_view text, const TextSource& src, const std::string& mod_name,
                       const std::string& uri) {
  TomlCtx c(text, src);
  const toml::table doc = c.parse_document(text);
  if (!mod_name.empty()) {
    const toml::table* mt = find_named_mod(c, doc, mod_name, uri);
    return parse_mod_table(c, *mt, mod_name, "[mods." + mod_name + "]");
  }
  if (const toml::node* m = doc.get("mod")) {
    const toml::table* t = m->as_table();
    if (!t) throw ModError("[mod] must be a table", c.at(m, "[mod]"));
    std::string name = "unnamed";
    if (const toml::node* nm = t->get("name"); nm && nm->is_string()) name = nm->as_string()->get();
    return parse_mod_table(c, *t, name, "[mod]");
  }
  if (const toml::node* mods = doc.get("mods")) {
    std::vector<std::string> names;
    if (const toml::table* mt = mods->as_table()) {
      for (const auto& [k, v] : ordered(*mt)) names.push_back(k);
    }
    throw ModError("Mod file " + uri + " contains multiple mods: " + util::quoted_list(names) +
                       ". Please specify which one using #mod=NAME",
                   c.at(mods, "[mods]"));
  }
  throw ModError("No [mod] or [mods.*] table found in " + uri, c.file_only(""));
}

}  // namespace dynlib::model
