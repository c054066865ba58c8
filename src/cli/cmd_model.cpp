// dynlib model validate|show|list (export-sources: cmd_model_export.cpp)
#include <fmt/format.h>

#include <cstdio>
#include <dynlib/ir.hpp>
#include <dynlib/model.hpp>
#include <iostream>
#include <string>

#include "cli/args.hpp"
#include "cli/commands.hpp"

namespace dynlib::cli {
namespace {

constexpr const char* kUsage =
    "usage: dynlib model validate URI [--mod MOD_URI]...\n"
    "       dynlib model show URI [--mod MOD_URI]...\n"
    "       dynlib model list\n"
    "       dynlib model export-sources URI DIR [--stepper S] [--mod MOD_URI]...\n"
    "\n"
    "  --mod MOD_URI  apply a mod before validating/showing (repeatable, in order)\n"
    "  -h, --help     this help\n"
    "validate: load and check the model (tables, [sim], expressions) and print a one-line summary;\n"
    "     errors name the file, line and key. show: print the model as dynlib understood it.\n"
    "\n"
    "URI: builtin://ode/NAME, builtin://map/NAME, TAG://path, a file path (with optional #mod=NAME),\n"
    "     or model text starting with 'inline:'.\n"
    "export-sources: compile with the JIT (needs the JIT component) and write the generated LLVM IR of\n"
    "     every component (rhs.ll, events.ll, aux.ll, jacobian.ll, stepper.ll, runner.ll, guards.ll) and\n"
    "     model_info.txt into DIR.\n";

std::string num(double v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // 2 -> 2.0 (inf/nan contain 'n')
  return s;
}

const char* kind_name(ir::Kind k) { return k == ir::Kind::ode ? "ode" : "map"; }

const char* phase_name(ir::Phase p) {
  switch (p) {
    case ir::Phase::start:
      return "start";
    case ir::Phase::end:
      return "end";
    case ir::Phase::both:
      return "both";
  }
  return "?";
}

ModelPtr load_with(const ParsedArgs& a) {
  if (a.positional.size() != 1) throw UsageError("expected exactly one model URI");
  LoadOptions opts;
  opts.mods = a.all("mod");
  return load_model(a.positional.front(), opts);
}

int validate(const std::vector<std::string>& args) {
  const ParsedArgs a = parse_args(args, {"mod"});
  const ModelPtr m = load_with(a);
  std::printf("Model OK: kind=%s dtype=%s states=%zu stepper=%s\n", kind_name(m->kind),
              ir::dtype_name(m->dtype), m->n_states(), m->default_stepper().c_str());
  return 0;
}

int show(const std::vector<std::string>& args) {
  const ParsedArgs a = parse_args(args, {"mod"});
  const ModelPtr mp = load_with(a);
  const ir::ModelIR& m = *mp;
  std::string o;
  o += fmt::format("Model: {}\n", m.name.empty() ? std::string("(unnamed)") : m.name);
  o += fmt::format("Source: {}\n", m.source);
  o += fmt::format("Kind: {}  dtype: {}  stepper: {}\n", kind_name(m.kind), ir::dtype_name(m.dtype),
                   m.default_stepper());
  o += fmt::format("Hash: {}\n", m.hash.hex());

  o += fmt::format("\nStates ({}):\n", m.n_states());
  for (std::size_t i = 0; i < m.n_states(); ++i)
    o += fmt::format("  {} = {}\n", m.states[i], num(m.state_ic[i]));
  o += fmt::format("\nParams ({}):\n", m.n_params());
  for (std::size_t i = 0; i < m.n_params(); ++i)
    o += fmt::format("  {} = {}\n", m.params[i], num(m.param_vals[i]));
  if (!m.constants.empty()) {
    o += fmt::format("\nConstants ({}):\n", m.constants.size());
    for (const auto& [k, v] : m.constants) o += fmt::format("  {} = {}\n", k, num(v));
  }

  o += "\nEquations:\n";
  for (std::size_t i = 0; i < m.rhs.size() && i < m.n_states(); ++i) {
    const std::string lhs = m.kind == ir::Kind::ode ? "d" + m.states[i] + "/dt" : m.states[i] + "[n+1]";
    o += fmt::format("  {} = {}\n", lhs, m.rhs[i] ? ir::to_string(m.rhs[i], m) : std::string("(none)"));
  }
  if (m.inverse) {
    o += "\nInverse:\n";
    for (std::size_t i = 0; i < m.inverse->size() && i < m.n_states(); ++i) {
      const auto& e = (*m.inverse)[i];
      o += fmt::format("  {}[n-1] = {}\n", m.states[i], e ? ir::to_string(e, m) : std::string("(none)"));
    }
  }
  if (const auto* jac = m.exact_jacobian()) {  // the model's own, else the symbolic one
    o += m.jacobian ? "\nJacobian:\n" : "\nJacobian (derived):\n";
    for (std::size_t i = 0; i < jac->size(); ++i) {
      for (std::size_t j = 0; j < (*jac)[i].size(); ++j) {
        const auto& e = (*jac)[i][j];
        o += fmt::format("  J[{}][{}] = {}\n", i, j, e ? ir::to_string(e, m) : std::string("0"));
      }
    }
  }
  if (m.n_aux() > 0) {
    o += fmt::format("\nAux ({}):\n", m.n_aux());
    for (std::size_t i = 0; i < m.n_aux(); ++i) {
      o += fmt::format("  {} = {}\n", m.aux[i],
                       i < m.aux_exprs.size() ? ir::to_string(m.aux_exprs[i], m) : "?");
    }
  }
  if (!m.events.empty()) {
    o += fmt::format("\nEvents ({}):\n", m.events.size());
    for (const auto& ev : m.events) {
      if (ev.root) {
        const char* dir = ev.direction == ir::Direction::up     ? "up"
                          : ev.direction == ir::Direction::down ? "down"
                                                                : "either";
        std::string term = ev.terminal == 0   ? "false"
                           : ev.terminal == 1 ? "true"
                                              : std::to_string(ev.terminal);
        o += fmt::format("  {} [root, direction={}, terminal={}]\n", ev.name, dir, term);
        o += fmt::format("    root: {}\n", ir::to_string(ev.root, m));
      } else {
        o += fmt::format("  {} [phase={}]\n", ev.name, phase_name(ev.phase));
        o += fmt::format("    cond: {}\n", ir::to_string(ev.cond, m));
      }
      for (const auto& act : ev.actions) {
        const std::string target = act.target == ir::Action::Target::State
                                       ? m.states.at(static_cast<std::size_t>(act.index))
                                       : m.params.at(static_cast<std::size_t>(act.index));
        o += fmt::format("    action: {} = {}\n", target, ir::to_string(act.value, m));
      }
      if (!ev.log.empty()) {
        std::string names;
        for (const auto& l : ev.log) names += (names.empty() ? "" : ", ") + l.name;
        o += fmt::format("    log: {}\n", names);
      }
      if (!ev.tags.empty()) {
        std::string tags;
        for (const auto& t : ev.tags) tags += (tags.empty() ? "" : ", ") + t;
        o += fmt::format("    tags: {}\n", tags);
      }
    }
  }
  if (m.stop) o += fmt::format("\nStop: {}\n", ir::to_string(m.stop, m));
  o += "\nLags:";
  if (m.lags.empty()) {
    o += " none\n";
  } else {
    o += fmt::format(" (ring size {})\n", m.lag_ring_size);
    for (const auto& l : m.lags) {
      o += fmt::format("  {}: depth {}, offset {}\n", m.states.at(static_cast<std::size_t>(l.state)), l.depth,
                       l.offset);
    }
  }
  if (!m.presets.empty()) {
    o += fmt::format("\nPresets ({}):\n", m.presets.size());
    for (const auto& p : m.presets) {
      std::string items;
      for (const auto& [i, v] : p.params) {
        items += fmt::format("{}{}={}", items.empty() ? "" : ", ", m.params.at(static_cast<std::size_t>(i)),
                             num(v));
      }
      for (const auto& [i, v] : p.states) {
        items += fmt::format("{}{}={}", items.empty() ? "" : ", ", m.states.at(static_cast<std::size_t>(i)),
                             num(v));
      }
      o += fmt::format("  {}: {}\n", p.name, items);
    }
  }
  const auto& s = m.sim;
  o += fmt::format("\nSim: t0={} t_end={} dt={} stepper={} record={} atol={} rtol={} max_steps={}\n",
                   num(s.t0), num(s.t_end), num(s.dt), m.default_stepper(), s.record ? "true" : "false",
                   num(s.atol), num(s.rtol), s.max_steps);
  for (const auto& [k, v] : s.extras) o += fmt::format("  {} = {}\n", k, num(v));
  for (const auto& [k, v] : s.string_extras) o += fmt::format("  {} = \"{}\"\n", k, v);
  std::fputs(o.c_str(), stdout);
  return 0;
}

int list(const std::vector<std::string>& args) {
  const ParsedArgs a = parse_args(args, {});
  if (!a.positional.empty()) throw UsageError("'model list' takes no arguments");
  for (const auto& n : builtin_model_names()) std::printf("builtin://%s\n", n.c_str());
  return 0;
}

}  // namespace

int cmd_model(const std::vector<std::string>& args) {
  if (args.empty() || args.front() == "--help" || args.front() == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::string& sub = args.front();
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const auto& a : rest)
    if ((a == "--help" || a == "-h") && sub != "export-sources") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  if (sub == "validate") return validate(rest);
  if (sub == "show") return show(rest);
  if (sub == "list") return list(rest);
  if (sub == "export-sources") return cmd_model_export_sources(rest);
  throw UsageError("unknown model subcommand '" + sub + "'\n" + kUsage);
}

}  // namespace dynlib::cli
