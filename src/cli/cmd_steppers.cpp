// dynlib steppers list [filters] | dynlib steppers show NAME (docs/cli.md).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <dynlib/errors.hpp>
#include <dynlib/model.hpp>
#include <string>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "kernels/band_lu.hpp"
#include "steppers_catalogue/stepper_registry.hpp"
#include "util/text.hpp"

namespace dynlib::cli {
namespace {

const char* kUsage =
    "usage: dynlib steppers list [--kind ode|map] [--dense_output] [--jit_capable] [--requires_scipy]\n"
    "                            [--variational_stepping] [--jacobian none|internal|optional|required]\n"
    "                            [--time_control fixed|adaptive] [--scheme explicit|implicit] [--stiff]\n"
    "                            [--family F]\n"
    "       dynlib steppers show NAME [URI]   (metadata, aliases and settings with defaults; with a model\n"
    "                                        URI, also which Jacobian the stepper uses on it)\n";

const char* tf(bool b) { return b ? "True" : "False"; }

int list(const std::vector<std::string>& args) {
  const auto p =
      parse_args(args, {"kind", "jacobian", "time_control", "scheme", "family"},
                 {"dense_output", "jit_capable", "requires_scipy", "variational_stepping", "stiff"});
  if (!p.positional.empty()) throw UsageError("unexpected argument '" + p.positional[0] + "'");
  kernels::StepperFilter f;
  if (auto k = p.get("kind")) {
    if (*k == "ode")
      f.kind = ir::Kind::ode;
    else if (*k == "map")
      f.kind = ir::Kind::map;
    else
      throw UsageError("--kind must be ode or map");
  }
  if (p.flag("dense_output")) f.dense_output = true;
  if (p.flag("jit_capable")) f.jit_capable = true;
  if (p.flag("requires_scipy")) f.requires_scipy = true;
  if (p.flag("variational_stepping")) f.variational_stepping = true;
  if (p.flag("stiff")) f.stiff = true;
  if (auto j = p.get("jacobian")) {
    bool ok = false;
    for (auto c : {kernels::JacobianCap::none, kernels::JacobianCap::internal, kernels::JacobianCap::optional,
                   kernels::JacobianCap::required})
      if (*j == kernels::jacobian_cap_name(c)) f.jacobian = c, ok = true;
    if (!ok) throw UsageError("--jacobian must be none, internal, optional or required");
  }
  if (auto t = p.get("time_control")) {
    if (*t != "fixed" && *t != "adaptive") throw UsageError("--time_control must be fixed or adaptive");
    f.adaptive = *t == "adaptive";
  }
  if (auto s = p.get("scheme")) {
    if (*s != "explicit" && *s != "implicit") throw UsageError("--scheme must be explicit or implicit");
    f.implicit = *s == "implicit";
  }
  if (auto s = p.get("family")) f.family = *s;
  const auto found = kernels::list_steppers(f);
  if (found.empty()) {
    std::printf("No steppers found.\n");
    return 0;
  }
  for (const auto* s : found) {
    std::printf(
        "%-12s kind=%-4s scheme=%-8s order=%-2d stiff=%-5s dense_output=%s jacobian=%s jit_capable=%s "
        "requires_scipy=%s variational_stepping=%s\n",
        s->name.c_str(), s->kind_name(), s->scheme(), s->order, tf(s->stiff), tf(s->dense_output),
        kernels::jacobian_cap_name(s->jacobian), tf(s->jit_capable), tf(s->requires_scipy),
        tf(s->variational_stepping));
  }
  return 0;
}

int show(const std::vector<std::string>& args) {
  if (args.empty() || args.size() > 2)
    throw UsageError("steppers show expects one stepper name and optionally a model URI");
  const auto& s = kernels::get_stepper(args[0]);
  const ModelPtr model = args.size() > 1 ? load_model(args[1]) : nullptr;
  std::printf("name:         %s\n", s.name.c_str());
  std::printf("aliases:     ");
  for (const auto& a : s.aliases) std::printf(" %s", a.c_str());
  std::printf("\nkind:         %s\ntime_control: %s\nscheme:       %s\nfamily:       %s\norder:        %d\n",
              s.kind_name(), s.time_control(), s.scheme(), s.family.c_str(), s.order);
  if (s.embedded_order) std::printf("embedded:     %d\n", s.embedded_order);
  std::printf("stiff:        %s\njacobian:     %s\n", tf(s.stiff), kernels::jacobian_cap_name(s.jacobian));
  if (const int k = s.config_index("jacobian_mode"); k >= 0) {
    const bool external = s.config[static_cast<std::size_t>(k)].default_value == 1.0;
    std::printf(
        "jacobian use: jacobian_mode=external: the model's own [equations.jacobian], else the symbolic one\n"
        "              derived from the rhs, else finite differences; internal: finite differences\n"
        "              (default: %s)\n",
        external ? "external" : "internal");
    if (model) {
      std::printf(
          "jacobian used on %s: %s\n", args[1].c_str(),
          jacobian_text(kernels::jacobian_source(s, *model, s.default_config(model->sim)), *model).c_str());
      std::printf("linear solver on %s: %s\n", args[1].c_str(), linear_solver_text(s.name, *model).c_str());
    }
  } else if (model) {
    std::printf("jacobian used on %s: none (the stepper uses no Jacobian)\n", args[1].c_str());
  }
  if (s.config.empty()) {
    std::printf("settings:     none\n");
    return 0;
  }
  std::printf("settings (name, default; [sim] atol/rtol override the defaults):\n");
  for (const auto& c : s.config) {
    std::printf("  %-16s %s", c.name.c_str(), util::shortest_double(c.default_value).c_str());
    if (!c.enum_values.empty()) {
      std::printf("  (");
      for (std::size_t i = 0; i < c.enum_values.size(); ++i)
        std::printf("%s%s=%d", i ? ", " : "", c.enum_values[i].first.c_str(), c.enum_values[i].second);
      std::printf(")");
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace

std::string jacobian_text(const std::string& source, const ir::ModelIR& m) {
  if (source == "model") return "the model's own [equations.jacobian]";
  if (source == "symbolic") return "symbolic, derived from the model's right-hand sides";
  if (source.empty()) return "none";
  return m.exact_jacobian() ? "finite differences (jacobian_mode=internal)"
                            : "finite differences (the model has no exact Jacobian)";
}

std::string linear_solver_text(const std::string& stepper, const ir::ModelIR& m) {
  const auto& s = kernels::get_stepper(stepper);
  if (s.jacobian == kernels::JacobianCap::none) return "";
  const int n = static_cast<int>(m.n_states());
  // bdf's choice (kernels/stepper_bdf.hpp band_of, sparse_of) and radau5's (sparse or dense); the other
  // steppers factor densely.
  if (s.id == kernels::StepperId::bdf || s.id == kernels::StepperId::radau5) {
    const auto bw = kernels::model_bandwidth(m);
    if (s.id == kernels::StepperId::bdf && kernels::use_band(n, bw))
      return "band LU (lower bandwidth " + std::to_string(bw.ml) + ", upper " + std::to_string(bw.mu) + ")";
    if (m.jacobian_sparse && m.jacobian_sparse->n == n && !m.exact_jacobian()) {
      const auto& sp = *m.jacobian_sparse;
      return "sparse LU (" + std::to_string(sp.nnz_jacobian()) + " nonzeros in J, " +
             std::to_string(sp.nnz_factors()) + " in L+U; differences in " + std::to_string(sp.n_groups()) +
             " column groups)";
    }
  }
  return "dense LU";
}

int cmd_steppers(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const auto& a : rest)
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  if (args[0] == "list") return list(rest);
  if (args[0] == "show") return show(rest);
  throw UsageError("unknown steppers subcommand '" + args[0] + "' (expected list or show)");
}

}  // namespace dynlib::cli
