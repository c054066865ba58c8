// Declaration checks (in the reference's validation order), plus the checks the
// reference never makes: every state has exactly one equation, duplicate block targets.
#include <algorithm>
#include <set>
#include <unordered_set>

#include "model/lower_internal.hpp"
#include "util/text.hpp"

namespace dynlib::model::detail {

namespace {

using util::quoted_list;

template <class T>
std::vector<std::string> names_of(const std::vector<std::pair<std::string, T>>& v) {
  std::vector<std::string> out;
  for (const auto& p : v) out.push_back(p.first);
  return out;
}

void check_reserved(const std::string& section, const std::vector<std::string>& names,
                    const std::vector<SourceLocation>& locs) {
  std::set<std::string> bad;
  SourceLocation loc;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto& n = names[i];
    if (n == "t" || n == "pi" || n == "e") {
      if (bad.empty()) loc = locs[i];
      bad.insert(n);
    }
  }
  if (bad.empty()) return;
  std::string list;
  for (const auto& b : bad) list += (list.empty() ? "" : ", ") + b;
  throw NameConflictError(section + " name(s) " + list + " are reserved (reserved: e, pi, t)", loc);
}

// A function as a whole: the [functions.NAME] header when the parser knows it, else its body's line.
SourceLocation function_loc(const FunctionSpec& f) {
  if (f.loc.line > 0) {
    SourceLocation l = f.loc;
    if (l.toml_path.empty()) l.toml_path = "[functions." + f.name + "]";
    return l;
  }
  SourceLocation l = f.body.loc;
  l.toml_path = "[functions." + f.name + "]";
  l.column = 0;
  l.line_text.clear();
  return l;
}

SourceLocation file_loc(const ModelSpec& spec) {
  SourceLocation l;
  l.file = spec.source;
  return l;
}

template <class T>
SourceLocation loc_of_named(const std::vector<std::pair<std::string, T>>& v, const std::string& name,
                            const SourceLocation& fallback);

template <>
SourceLocation loc_of_named(const std::vector<std::pair<std::string, NumberValue>>& v,
                            const std::string& name, const SourceLocation& fallback) {
  for (const auto& [k, val] : v)
    if (k == name) return val.loc;
  return fallback;
}

void check_equation_lines(const ModelSpec& spec, const std::vector<EquationLine>& lines, bool inverse) {
  const std::string what = inverse ? "Inverse equation" : "Equation";
  std::vector<std::string> unknown;
  SourceLocation unknown_loc;
  std::map<std::string, int> seen;
  std::vector<std::string> dup;
  SourceLocation dup_loc;
  std::unordered_set<std::string> state_names;  // a set: a model may have 100k states
  for (const auto& s : spec.states) state_names.insert(s.first);
  for (const auto& line : lines) {
    const bool known = state_names.count(line.target) != 0;
    if (!known) {
      if (unknown.empty()) unknown_loc = line.rhs.loc;
      unknown.push_back(line.target);
      continue;
    }
    if (line.derivative && (spec.kind == ir::Kind::map || inverse)) {
      throw NameConflictError(
          "Map models do not support derivative notation (d(x) or dx). Use direct assignment (x = expr). "
          "Got: 'd" +
              line.target + "' in line: 'd" + line.target + " = " + line.rhs.text + "'",
          line.rhs.loc);
    }
    if (++seen[line.target] == 2) {
      if (dup.empty()) dup_loc = line.rhs.loc;
      dup.push_back(line.target);
    }
  }
  if (!unknown.empty())
    throw NameConflictError(what + " targets must be declared in [states], unknown: " + quoted_list(unknown),
                            unknown_loc);
  if (!dup.empty())
    throw NameConflictError("Duplicate " + std::string(inverse ? "inverse " : "") + "equation targets: " +
                                quoted_list(dup) + " (each state needs exactly one equation)",
                            dup_loc);
  std::vector<std::string> missing;
  SourceLocation missing_loc;
  for (const auto& [name, val] : spec.states) {
    if (!seen.count(name)) {
      if (missing.empty()) missing_loc = val.loc;
      missing.push_back(name);
    }
  }
  if (!missing.empty()) {
    if (!missing_loc.known()) missing_loc = file_loc(spec);
    throw NameConflictError(std::string(inverse ? "Missing inverse equation(s)" : "Missing equation(s)") +
                                " for state(s) " + quoted_list(missing) +
                                ": every state needs exactly one equation",
                            missing_loc);
  }
}

}  // namespace

void check_declarations(const ModelSpec& spec) {
  const SourceLocation floc = file_loc(spec);
  // dtype
  if (spec.dtype != "float64" && spec.dtype != "float32" && spec.dtype != "int64")
    throw SchemaError("Unsupported [model].dtype '" + spec.dtype + "' (supported: float64, float32, int64)",
                      floc);
  if (spec.kind == ir::Kind::ode && spec.dtype == "int64")
    throw SchemaError("ODE models require a floating dtype (float32/float64/float16/bfloat16)", floc);

  // (1) reserved names
  const auto states = names_of(spec.states), params = names_of(spec.params), aux = names_of(spec.aux),
             consts = names_of(spec.constants);
  std::vector<std::string> fns;
  for (const auto& f : spec.functions) fns.push_back(f.name);
  std::vector<SourceLocation> state_locs, param_locs, aux_locs, fn_locs, const_locs;
  for (const auto& [n, v] : spec.states) state_locs.push_back(v.loc);
  for (const auto& [n, v] : spec.params) param_locs.push_back(v.loc);
  for (const auto& [n, v] : spec.aux) aux_locs.push_back(v.loc);
  for (const auto& f : spec.functions) fn_locs.push_back(function_loc(f));
  for (const auto& [n, v] : spec.constants) const_locs.push_back(v.loc);
  check_reserved("[states]", states, state_locs);
  check_reserved("[params]", params, param_locs);
  check_reserved("[aux]", aux, aux_locs);
  check_reserved("[functions]", fns, fn_locs);
  check_reserved("[constants]", consts, const_locs);

  // (2) constants reused as states/params/aux (first offending name in sorted order)
  {
    const std::set<std::string> cset(consts.begin(), consts.end());
    auto reuse = [&](const std::vector<std::string>& names, const std::vector<SourceLocation>& locs,
                     const char* as) {
      std::set<std::string> bad;
      SourceLocation other;
      for (std::size_t i = 0; i < names.size(); ++i)
        if (cset.count(names[i])) {
          if (bad.empty() || names[i] < *bad.begin()) other = locs[i];
          bad.insert(names[i]);
        }
      if (!bad.empty()) {  // reported at the later of the two declarations
        SourceLocation c = loc_of_named(spec.constants, *bad.begin(), floc);
        throw NameConflictError(*bad.begin() + " is defined as a constant and cannot be reused as " + as,
                                other.line > c.line ? other : c);
      }
    };
    reuse(states, state_locs, "a state");
    reuse(params, param_locs, "a parameter");
    reuse(aux, aux_locs, "an auxiliary variable");
  }

  // (3) global uniqueness
  {
    std::map<std::string, std::vector<std::string>> where;
    std::map<std::string, std::vector<SourceLocation>> locs;
    auto add = [&](const std::vector<std::string>& names, const std::vector<SourceLocation>& ls,
                   const char* section) {
      for (std::size_t i = 0; i < names.size(); ++i) {
        where[names[i]].push_back(section);
        locs[names[i]].push_back(ls[i]);
      }
    };
    add(states, state_locs, "states");
    add(params, param_locs, "params");
    add(aux, aux_locs, "aux");
    add(fns, fn_locs, "functions");
    add(consts, const_locs, "constants");
    std::string conflicts;
    SourceLocation first_loc = floc;
    for (const auto& [name, secs] : where) {
      if (secs.size() < 2) continue;
      if (conflicts.empty()) {  // the later declaration in file order (section order when lines are unknown)
        const auto& ls = locs[name];
        first_loc = ls.back();
        for (const auto& l : ls)
          if (l.line > first_loc.line) first_loc = l;
      }
      conflicts += (conflicts.empty() ? "" : "; ") + name + " (";
      for (std::size_t i = 0; i < secs.size(); ++i) conflicts += (i ? ", " : "") + secs[i];
      conflicts += ")";
    }
    if (!conflicts.empty())
      throw NameConflictError(
          "Identifiers must be unique across states/params/aux/functions/constants; conflicts: " + conflicts,
          first_loc);
  }

  // (5) event action targets: only states/params
  {
    const std::set<std::string> sset(states.begin(), states.end()), pset(params.begin(), params.end());
    for (const auto& ev : spec.events) {
      std::vector<std::string> illegal;
      SourceLocation loc = ev.loc;
      for (const auto& a : ev.actions) {
        if (!sset.count(a.target) && !pset.count(a.target)) {
          if (illegal.empty()) loc = a.rhs.loc;
          illegal.push_back(a.target);
        }
      }
      if (!illegal.empty())
        throw EventError(
            "[events." + ev.name + "] may mutate only states/params; illegal: " + quoted_list(illegal), loc);
    }
  }

  // (6) root events locate a zero crossing inside a step of a continuous flow: maps have no such steps
  if (spec.kind == ir::Kind::map)
    for (const auto& ev : spec.events)
      if (ev.root_form)
        throw EventError("[events." + ev.name +
                             "].root is only supported for ODE models (a map has no continuous path between "
                             "iterates to locate a crossing on); use cond for map events",
                         ev.cond.loc);

  // (8) equation targets (unknown, derivative notation for maps, duplicates, missing)
  check_equation_lines(spec, spec.equations, false);
  if (spec.inverse) {
    if (spec.kind != ir::Kind::map)
      throw SchemaError("[equations.inverse] is only supported for map models", floc);
    check_equation_lines(spec, *spec.inverse, true);
  }

  // (9) presets
  for (const auto& p : spec.presets) {
    std::vector<std::string> bad;
    SourceLocation bad_loc = p.loc;
    for (const auto& [k, v] : p.params)
      if (std::find(params.begin(), params.end(), k) == params.end()) {
        if (bad.empty() && v.loc.known()) bad_loc = v.loc;
        bad.push_back(k);
      }
    if (!bad.empty())
      throw SchemaError("[presets." + p.name + "].params contains unknown parameter(s): " + quoted_list(bad) +
                            ". Valid params: " + quoted_list(params),
                        bad_loc);
    for (const auto& [k, v] : p.states)
      if (std::find(states.begin(), states.end(), k) == states.end()) {
        if (bad.empty() && v.loc.known()) bad_loc = v.loc;
        bad.push_back(k);
      }
    if (!bad.empty())
      throw SchemaError("[presets." + p.name + "].states contains unknown state(s): " + quoted_list(bad) +
                            ". Valid states: " + quoted_list(states),
                        bad_loc);
  }

  // (12) jacobian shape
  if (spec.jacobian) {
    const auto& J = *spec.jacobian;
    const std::size_t n = spec.states.size();
    if (J.size() != n)
      throw SchemaError("[equations.jacobian].expr must have " + std::to_string(n) +
                            " rows to match [states]; got " + std::to_string(J.size()),
                        J.empty() || J[0].empty() ? floc : J[0][0].loc);
    for (std::size_t i = 0; i < n; ++i)
      if (J[i].size() != n)
        throw SchemaError("[equations.jacobian].expr[" + std::to_string(i) + "] must have " +
                              std::to_string(n) + " columns to match [states]; got " +
                              std::to_string(J[i].size()),
                          J[i].empty() ? floc : J[i][0].loc);
  }
}

}  // namespace dynlib::model::detail
