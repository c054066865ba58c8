// Parses every expression of a model once (syntax errors kept and thrown later in file order) and lists
// the expression sites in file order.
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

void parse_all(Model& m) {
  const ModelSpec& s = *m.spec;
  // Syntax errors are kept and thrown later in file order (cycles are checked first, as in the reference).
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
            "Event action lines must be 'name = expr', one assignment per line (no ';' separators)",
            e.where())));
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
    m.sites.push_back(
        {&m.eq_expr[i], where_of(s.equations[i].rhs.loc, "[equations.rhs." + s.equations[i].target + "]")});
  for (std::size_t i = 0; i < m.inv_expr.size(); ++i)
    m.sites.push_back({&m.inv_expr[i], where_of((*s.inverse)[i].rhs.loc,
                                                "[equations.inverse.rhs." + (*s.inverse)[i].target + "]")});
  for (std::size_t i = 0; i < m.aux_expr.size(); ++i)
    m.sites.push_back({&m.aux_expr[i], where_of(s.aux[i].second.loc, "[aux." + s.aux[i].first + "]")});
  for (std::size_t i = 0; i < m.fn_body.size(); ++i)
    m.sites.push_back(
        {&m.fn_body[i], where_of(s.functions[i].body.loc, "[functions." + s.functions[i].name + "].expr")});
  for (std::size_t i = 0; i < m.jac_expr.size(); ++i)
    for (std::size_t j = 0; j < m.jac_expr[i].size(); ++j)
      m.sites.push_back({&m.jac_expr[i][j],
                         where_of((*s.jacobian)[i][j].loc, "[equations.jacobian].expr[" + std::to_string(i) +
                                                               "][" + std::to_string(j) + "]")});
  for (std::size_t i = 0; i < m.ev_cond.size(); ++i) {
    const auto& ev = s.events[i];
    m.sites.push_back(
        {&m.ev_cond[i], where_of(ev.cond.loc, "[events." + ev.name + (ev.root_form ? "].root" : "].cond"))});
    for (std::size_t j = 0; j < m.ev_action[i].size(); ++j)
      m.sites.push_back(
          {&m.ev_action[i][j],
           where_of(ev.actions[j].rhs.loc, "[events." + ev.name + "].action." + ev.actions[j].target)});
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
}  // namespace dynlib::model::detail
