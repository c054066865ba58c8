// Expression checks: parse every expression (syntax errors located), aux/function cycles,
// identifier resolution, arity of functions/macros, lag usage (dsl.md §3.3-§3.9), by tokens/AST.
#include "model/lower_internal.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <set>

namespace dynlib::model::detail {

using ast::K;
using ast::Node;

double Model::cast(double v) const {
  switch (dtype) {
    case ir::DType::float32: return static_cast<double>(static_cast<float>(v));
    case ir::DType::int64:  // truncation (numpy int64(v)); out-of-range values are kept as they are
      return std::isfinite(v) && std::fabs(v) < 9.2e18 ? static_cast<double>(static_cast<std::int64_t>(v)) : v;
    default: return v;
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
    {"abs", ir::Fn::abs, 1},     {"min", ir::Fn::min, -1},        {"max", ir::Fn::max, -1},
    {"round", ir::Fn::round, 1}, {"exp", ir::Fn::exp, 1},         {"expm1", ir::Fn::expm1, 1},
    {"log", ir::Fn::log, -2},    {"log10", ir::Fn::log10, 1},     {"log2", ir::Fn::log2, 1},
    {"log1p", ir::Fn::log1p, 1}, {"sqrt", ir::Fn::sqrt, 1},       {"sin", ir::Fn::sin, 1},
    {"cos", ir::Fn::cos, 1},     {"tan", ir::Fn::tan, 1},         {"asin", ir::Fn::asin, 1},
    {"acos", ir::Fn::acos, 1},   {"atan", ir::Fn::atan, 1},       {"atan2", ir::Fn::atan2, 2},
    {"sinh", ir::Fn::sinh, 1},   {"cosh", ir::Fn::cosh, 1},       {"tanh", ir::Fn::tanh, 1},
    {"asinh", ir::Fn::asinh, 1}, {"acosh", ir::Fn::acosh, 1},     {"atanh", ir::Fn::atanh, 1},
    {"floor", ir::Fn::floor, 1}, {"ceil", ir::Fn::ceil, 1},       {"trunc", ir::Fn::trunc, 1},
    {"hypot", ir::Fn::hypot, 2}, {"copysign", ir::Fn::copysign, 2}, {"erf", ir::Fn::erf, 1},
    {"erfc", ir::Fn::erfc, 1},   {"int", ir::Fn::to_int, 1},      {"float", ir::Fn::to_float, 1},
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
      {"cross_up", 2},    {"cross_down", 2},      {"cross_either", 2},    {"changed", 1},
      {"increasing", 1},  {"decreasing", 1},      {"in_interval", 3},     {"enters_interval", 3},
      {"leaves_interval", 3}};
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

// ---------------------------------------------------------------------------------------------
// Parsing

void parse_all(Model& m) {
  const ModelSpec& s = *m.spec;
  // Syntax errors are kept and thrown later in file order (cycles are checked first, dsl §9.2).
  std::vector<std::exception_ptr> pending;
  auto parse_as = [&](const Located& l, bool action) {
    try {
      return parse_expression(l.text, l.loc);
    } catch (const ModelLoadError& e) {
      ParsedExpr failed;
      failed.text = l.text;
      failed.loc = l.loc;
      if (action && l.text.find(';') != std::string::npos && dynamic_cast<const ExpressionSyntaxError*>(&e))
        pending.push_back(std::make_exception_ptr(EventError(
            "Event action lines must be 'name = expr', one assignment per line (no ';' separators)", e.where())));
      else
        pending.push_back(std::current_exception());
      return failed;  // root == nullptr marks the failure
    }
  };
  auto parse = [&](const Located& l) { return parse_as(l, false); };
  m.eq_expr.reserve(s.equations.size());
  for (const auto& e : s.equations) m.eq_expr.push_back(parse(e.rhs));
  if (s.inverse)
    for (const auto& e : *s.inverse) m.inv_expr.push_back(parse(e.rhs));
  for (const auto& [name, l] : s.aux) m.aux_expr.push_back(parse(l));
  for (const auto& f : s.functions) m.fn_body.push_back(parse(f.body));
  if (s.jacobian) {
    for (const auto& row : *s.jacobian) {
      m.jac_expr.emplace_back();
      for (const auto& c : row) m.jac_expr.back().push_back(parse(c));
    }
  }
  for (const auto& ev : s.events) {
    m.ev_cond.push_back(parse(ev.cond));
    m.ev_action.emplace_back();
    for (const auto& a : ev.actions) m.ev_action.back().push_back(parse_as(a.rhs, true));
  }
  if (s.sim.stop) m.stop_expr.push_back(parse(*s.sim.stop));

  // Sites in model order (vectors are complete now: addresses are stable).
  for (std::size_t i = 0; i < m.eq_expr.size(); ++i)
    m.sites.push_back({&m.eq_expr[i], where_of(s.equations[i].rhs.loc, "[equations.rhs." + s.equations[i].target + "]")});
  for (std::size_t i = 0; i < m.inv_expr.size(); ++i)
    m.sites.push_back({&m.inv_expr[i], where_of((*s.inverse)[i].rhs.loc, "[equations.inverse.rhs." + (*s.inverse)[i].target + "]")});
  for (std::size_t i = 0; i < m.aux_expr.size(); ++i)
    m.sites.push_back({&m.aux_expr[i], where_of(s.aux[i].second.loc, "[aux." + s.aux[i].first + "]")});
  for (std::size_t i = 0; i < m.fn_body.size(); ++i)
    m.sites.push_back({&m.fn_body[i], where_of(s.functions[i].body.loc, "[functions." + s.functions[i].name + "].expr")});
  for (std::size_t i = 0; i < m.jac_expr.size(); ++i)
    for (std::size_t j = 0; j < m.jac_expr[i].size(); ++j)
      m.sites.push_back({&m.jac_expr[i][j], where_of((*s.jacobian)[i][j].loc, "[equations.jacobian].expr[" + std::to_string(i) + "][" + std::to_string(j) + "]")});
  for (std::size_t i = 0; i < m.ev_cond.size(); ++i) {
    const auto& ev = s.events[i];
    m.sites.push_back({&m.ev_cond[i], where_of(ev.cond.loc, "[events." + ev.name + "].cond")});
    for (std::size_t j = 0; j < m.ev_action[i].size(); ++j)
      m.sites.push_back({&m.ev_action[i][j], where_of(ev.actions[j].rhs.loc, "[events." + ev.name + "].action." + ev.actions[j].target)});
  }
  if (!m.stop_expr.empty()) m.sites.push_back({&m.stop_expr[0], where_of(s.sim.stop->loc, "[sim].stop")});

  // Attach the parse errors (in the order they were made, which is the order of the sites).
  std::size_t next_error = 0;
  for (const auto& site : m.sites) {
    if (site.expr->root) continue;
    m.parse_errors[site.expr] = pending.at(next_error++);
  }
  // File order: by line when known (stable, so same-line and unknown-line sites keep model order).
  std::stable_sort(m.sites.begin(), m.sites.end(), [](const Site& a, const Site& b) {
    const int la = a.expr->loc.line > 0 ? a.expr->loc.line : std::numeric_limits<int>::max();
    const int lb = b.expr->loc.line > 0 ? b.expr->loc.line : std::numeric_limits<int>::max();
    return la < lb;
  });
}

// ---------------------------------------------------------------------------------------------
// Dependencies and cycles over aux ∪ functions

namespace {

// Names of aux/functions that an expression depends on, in order of first appearance.
void collect_deps(const Model& m, const Node& n, std::vector<std::string>& locals, std::vector<std::string>& out) {
  auto is_local = [&](const std::string& s) { return std::find(locals.begin(), locals.end(), s) != locals.end(); };
  auto add = [&](const std::string& s) {
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  if (n.kind == K::Name && !is_local(n.name)) {
    if (m.aux_idx.count(n.name) && !m.state_idx.count(n.name) && !m.param_idx.count(n.name)) add(n.name);
  } else if (n.kind == K::Call) {
    const CallInfo ci = classify_call(m, n.name);
    if (ci.kind == CallKind::User) add(n.name);
  }
  if (n.kind == K::Gen) {
    locals.push_back(n.var);
    collect_deps(m, *n.kids[0], locals, out);
    for (std::size_t i = static_cast<std::size_t>(n.n_range) + 1; i < n.kids.size(); ++i) collect_deps(m, *n.kids[i], locals, out);
    locals.pop_back();
    for (int i = 1; i <= n.n_range; ++i) collect_deps(m, *n.kids[static_cast<std::size_t>(i)], locals, out);
    return;
  }
  for (const auto& k : n.kids) collect_deps(m, *k, locals, out);
}

}  // namespace

void check_cycles(const Model& m) {
  const ModelSpec& s = *m.spec;
  // Node ids: aux 0..na-1, functions na..na+nf-1.
  const std::size_t na = s.aux.size(), nf = s.functions.size();
  std::vector<std::vector<std::size_t>> edges(na + nf);
  std::vector<std::string> names(na + nf);
  for (std::size_t i = 0; i < na; ++i) names[i] = s.aux[i].first;
  for (std::size_t i = 0; i < nf; ++i) names[na + i] = s.functions[i].name;
  auto id_of = [&](const std::string& n) -> std::size_t {
    if (auto it = m.fn_idx.find(n); it != m.fn_idx.end()) return na + static_cast<std::size_t>(it->second);
    return static_cast<std::size_t>(m.aux_idx.at(n));
  };
  for (std::size_t i = 0; i < na + nf; ++i) {
    std::vector<std::string> locals, deps;
    if (i >= na) locals = s.functions[i - na].args;
    const ParsedExpr& e = i < na ? m.aux_expr[i] : m.fn_body[i - na];
    if (e.root) collect_deps(m, *e.root, locals, deps);
    for (const auto& d : deps) {
      // A name resolves to a function only when called, to an aux when used as a name; both maps are disjoint.
      edges[i].push_back(id_of(d));
    }
  }
  std::vector<int> color(na + nf, 0);
  std::vector<std::size_t> stack;
  std::function<void(std::size_t)> dfs = [&](std::size_t u) {
    color[u] = 1;
    stack.push_back(u);
    for (std::size_t v : edges[u]) {
      if (color[v] == 1) {
        // The cycle is stack[pos..] -> v. Report it at the member declared first in the file
        // (by line when known, else aux before functions in declaration order), starting the path there.
        std::vector<std::size_t> cyc(std::find(stack.begin(), stack.end(), v), stack.end());
        auto loc_of = [&](std::size_t id) -> const SourceLocation& {
          return id < na ? s.aux[id].second.loc : s.functions[id - na].body.loc;
        };
        auto key = [&](std::size_t id) {
          const int line = loc_of(id).line;
          return std::make_pair(line > 0 ? line : std::numeric_limits<int>::max(), id);
        };
        std::size_t first = 0;
        for (std::size_t j = 1; j < cyc.size(); ++j)
          if (key(cyc[j]) < key(cyc[first])) first = j;
        std::rotate(cyc.begin(), cyc.begin() + static_cast<std::ptrdiff_t>(first), cyc.end());
        std::string path;
        for (std::size_t id : cyc) path += names[id] + " -> ";
        path += names[cyc[0]];
        const SourceLocation& loc = loc_of(cyc[0]);
        throw CyclicDependencyError("Cyclic dependency detected involving '" + names[cyc[0]] + "': " + path, loc);
      }
      if (color[v] == 0) dfs(v);
    }
    stack.pop_back();
    color[u] = 2;
  };
  for (std::size_t i = 0; i < na + nf; ++i)
    if (color[i] == 0) dfs(i);
}

// ---------------------------------------------------------------------------------------------
// Identifiers, arity, lags

namespace {

class Checker {
 public:
  Checker(Model& m, const Site& site) : m_(m), site_(site) {}

  void run(const std::vector<std::string>& args) {
    locals_ = args;
    walk(*site_.expr->root);
    if (!unknown_.empty()) {
      std::string list;
      for (const auto& u : unknown_) list += (list.empty() ? "" : ", ") + u;
      throw UnknownIdentifierError("Unknown identifier(s) in " + site_.where + ": " + list +
                                       ". Declare them as states/params/aux/functions or constants.",
                                   site_.expr->at(unknown_pos_));
    }
    if (deferred_) std::rethrow_exception(deferred_);
  }

 private:
  Model& m_;
  const Site& site_;
  std::vector<std::string> locals_;
  std::set<std::string> unknown_;
  int unknown_pos_ = 0;
  std::exception_ptr deferred_;

  bool is_local(const std::string& s) const { return std::find(locals_.begin(), locals_.end(), s) != locals_.end(); }
  bool is_global_value(const std::string& s) const {
    return m_.state_idx.count(s) || m_.param_idx.count(s) || m_.aux_idx.count(s) || m_.const_val.count(s) || s == "t";
  }
  void unknown(const std::string& name, int pos) {
    if (unknown_.empty()) unknown_pos_ = pos;
    unknown_.insert(name);
  }
  template <class E>
  void defer(const std::string& msg, int pos) {
    if (!deferred_) deferred_ = std::make_exception_ptr(E(msg, site_.expr->at(pos)));
  }
  void arity(const Node& n, const std::string& display, int want) {
    const int got = static_cast<int>(n.kids.size());
    if (want >= 0 && got != want)
      defer<ArityError>(display + "() expects " + std::to_string(want) + " positional arguments, got " + std::to_string(got), n.pos);
    if (want == -1 && got < 2)
      defer<ArityError>(display + "() expects at least 2 positional arguments, got " + std::to_string(got), n.pos);
    if (want == -2 && (got < 1 || got > 2))
      defer<ArityError>(display + "() expects 1 or 2 positional arguments, got " + std::to_string(got), n.pos);
  }

  void walk(const Node& n) {
    switch (n.kind) {
      case K::Name: {
        if (is_local(n.name) || is_global_value(n.name)) return;
        static const std::set<std::string> math_consts = {"math.pi", "math.e", "math.tau", "math.inf", "math.nan"};
        if (math_consts.count(n.name)) return;
        if (m_.fn_idx.count(n.name)) {
          defer<ArityError>("'" + n.name + "' is a function; call it as " + n.name + "(...)", n.pos);
          return;
        }
        unknown(n.name, n.pos);
        return;
      }
      case K::Call: return call(n);
      case K::Gen: {
        for (int i = 1; i <= n.n_range; ++i) walk(*n.kids[static_cast<std::size_t>(i)]);
        if (is_global_value(n.var) || m_.fn_idx.count(n.var) || n.var == "pi" || n.var == "e")
          defer<NameConflictError>("loop variable '" + n.var + "' in " + site_.where + " shadows a declared name", n.var_pos);
        locals_.push_back(n.var);
        walk(*n.kids[0]);
        for (std::size_t i = static_cast<std::size_t>(n.n_range) + 1; i < n.kids.size(); ++i) walk(*n.kids[i]);
        locals_.pop_back();
        return;
      }
      default:
        for (const auto& k : n.kids) walk(*k);
    }
  }

  void call(const Node& n) {
    const CallInfo ci = classify_call(m_, n.name);
    switch (ci.kind) {
      case CallKind::Unknown:
        if (n.name.rfind("lag_", 0) == 0 && n.name.size() > 4)
          defer<LagError>(n.name + "() used in " + site_.where + ", but '" + n.name.substr(4) +
                              "' is not a declared state. Lag notation only applies to state variables.",
                          n.pos);
        else
          unknown(n.name, n.pos);
        break;
      case CallKind::Range:
        defer<ExpressionSyntaxError>("Invalid expression syntax: range() is only supported inside sum(...) or prod(...) generators", n.pos);
        break;
      case CallKind::Lag: lag(n, ci); return;
      case CallKind::EventMacro: {
        arity(n, n.name, ci.arity);
        if (n.name != "in_interval" && !n.kids.empty()) {
          const Node& a = *n.kids[0];
          if (a.kind != K::Name) {
            defer<LagError>(n.name + "() first argument must be a state identifier (e.g. x)", a.pos);
          } else if (is_local(a.name) || !m_.state_idx.count(a.name)) {
            defer<LagError>(n.name + "() first argument must be a declared state, got '" + a.name + "'", a.pos);
          } else {
            register_lag(m_.state_idx.at(a.name), 1);
          }
        }
        break;
      }
      case CallKind::User:
      case CallKind::ScalarMacro:
      case CallKind::Math:
      case CallKind::BuiltinPow:
        arity(n, n.name, ci.arity);
        break;
    }
    for (const auto& k : n.kids) walk(*k);
  }

  void lag(const Node& n, const CallInfo& ci) {
    int k = 1;
    if (n.kids.size() > 1 || (n.kids.size() == 1 && !(n.kids[0]->kind == K::Num && n.kids[0]->is_int))) {
      defer<LagError>(n.name + "() expects no args or a single integer literal", n.pos);
      for (const auto& c : n.kids) walk(*c);
      return;
    }
    if (n.kids.size() == 1) {
      const double v = n.kids[0]->value;
      if (v <= 0) {
        defer<LagError>("Lag depth must be positive, got " + n.name + "(0)", n.kids[0]->pos);
        return;
      }
      if (v > 1000) {
        defer<LagError>("Lag depth " + std::to_string(static_cast<long long>(std::min(v, 9e18))) +
                            " exceeds sanity limit (1000) for " + n.name, n.kids[0]->pos);
        return;
      }
      k = static_cast<int>(v);
    }
    register_lag(ci.index, k);
  }

  void register_lag(int state, int k) {
    auto& d = m_.lag_depth[static_cast<std::size_t>(state)];
    d = std::max(d, k);
  }
};

}  // namespace

void check_expressions(Model& m) {
  const ModelSpec& s = *m.spec;
  for (const auto& site : m.sites) {
    if (auto it = m.parse_errors.find(site.expr); it != m.parse_errors.end()) std::rethrow_exception(it->second);
    std::vector<std::string> args;
    for (std::size_t i = 0; i < m.fn_body.size(); ++i)
      if (site.expr == &m.fn_body[i]) args = s.functions[i].args;
    Checker(m, site).run(args);
  }
}

}  // namespace dynlib::model::detail
