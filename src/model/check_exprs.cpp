// Per-expression checks in file order: syntax errors (from parsing), identifier resolution, arity of
// functions/macros/math functions, lag usage and event-macro arguments, on tokens/AST.
#include <algorithm>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <set>

#include "model/lower_internal.hpp"
#include "util/deep_stack.hpp"
#include "util/suggest.hpp"

namespace dynlib::model::detail {

using ast::K;
using ast::Node;

namespace {

class Checker {
 public:
  Checker(Model& m, const Site& site) : m_(m), site_(site) {}

  void run(const std::vector<std::string>& args) {
    locals_ = args;
    walk(*site_.expr->root);
    if (!unknown_.empty()) {
      std::string list;
      const std::vector<std::string> known = known_names();
      for (const auto& u : unknown_) list += (list.empty() ? "" : ", ") + u + util::did_you_mean(u, known);
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

  // Every name an expression here may use, for suggestions: locals, states, params, aux, constants, t,
  // functions.
  std::vector<std::string> known_names() const {
    std::vector<std::string> out = locals_;
    for (const auto* idx : {&m_.state_idx, &m_.param_idx, &m_.aux_idx, &m_.fn_idx})
      for (const auto& [name, i] : *idx) out.push_back(name);
    for (const auto& [name, v] : m_.const_val) out.push_back(name);
    out.push_back("t");
    std::sort(out.begin(), out.end());  // hash maps: a fixed order so ties are broken the same way every time
    return out;
  }
  bool is_local(const std::string& s) const {
    return std::find(locals_.begin(), locals_.end(), s) != locals_.end();
  }
  bool is_global_value(const std::string& s) const {
    return m_.state_idx.count(s) || m_.param_idx.count(s) || m_.aux_idx.count(s) || m_.const_val.count(s) ||
           s == "t";
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
      defer<ArityError>(display + "() expects " + std::to_string(want) + " positional arguments, got " +
                            std::to_string(got),
                        n.pos);
    if (want == -1 && got < 2)
      defer<ArityError>(display + "() expects at least 2 positional arguments, got " + std::to_string(got),
                        n.pos);
    if (want == -2 && (got < 1 || got > 2))
      defer<ArityError>(display + "() expects 1 or 2 positional arguments, got " + std::to_string(got),
                        n.pos);
  }

  void walk(const Node& n) {
    if (util::stack_low())
      throw ExpressionSyntaxError("Invalid expression syntax: expression is nested too deeply",
                                  site_.expr->at(n.pos));
    switch (n.kind) {
      case K::Name: {
        if (is_local(n.name) || is_global_value(n.name)) return;
        static const std::set<std::string> math_consts = {"math.pi", "math.e", "math.tau", "math.inf",
                                                          "math.nan"};
        if (math_consts.count(n.name)) return;
        if (m_.fn_idx.count(n.name)) {
          defer<ArityError>("'" + n.name + "' is a function; call it as " + n.name + "(...)", n.pos);
          return;
        }
        unknown(n.name, n.pos);
        return;
      }
      case K::Call:
        return call(n);
      case K::Gen: {
        for (int i = 1; i <= n.n_range; ++i) walk(*n.kids[static_cast<std::size_t>(i)]);
        if (is_global_value(n.var) || m_.fn_idx.count(n.var) || n.var == "pi" || n.var == "e")
          defer<NameConflictError>(
              "loop variable '" + n.var + "' in " + site_.where + " shadows a declared name", n.var_pos);
        locals_.push_back(n.var);
        walk(*n.kids[0]);
        for (std::size_t i = static_cast<std::size_t>(n.n_range) + 1; i < n.kids.size(); ++i)
          walk(*n.kids[i]);
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
        defer<ExpressionSyntaxError>(
            "Invalid expression syntax: range() is only supported inside sum(...) or prod(...) generators",
            n.pos);
        break;
      case CallKind::Lag:
        lag(n, ci);
        return;
      case CallKind::EventMacro: {
        arity(n, n.name, ci.arity);
        if (n.name != "in_interval" && !n.kids.empty()) {
          const Node& a = *n.kids[0];
          if (a.kind != K::Name) {
            defer<LagError>(n.name + "() first argument must be a state identifier (e.g. x)", a.pos);
          } else if (is_local(a.name) || !m_.state_idx.count(a.name)) {
            defer<LagError>(n.name + "() first argument must be a declared state, got '" + a.name + "'",
                            a.pos);
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
                            " exceeds sanity limit (1000) for " + n.name,
                        n.kids[0]->pos);
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
    if (auto it = m.parse_errors.find(site.expr); it != m.parse_errors.end())
      std::rethrow_exception(it->second);
    std::vector<std::string> args;
    for (std::size_t i = 0; i < m.fn_body.size(); ++i)
      if (site.expr == &m.fn_body[i]) args = s.functions[i].args;
    Checker(m, site).run(args);
  }
}
}  // namespace dynlib::model::detail
