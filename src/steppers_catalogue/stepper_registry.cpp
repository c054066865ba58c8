#include "steppers_catalogue/stepper_registry.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "dynlib/errors.hpp"
#include "util/suggest.hpp"
#include "util/text.hpp"

namespace dynlib::kernels {

const char* jacobian_cap_name(JacobianCap c) noexcept {
  switch (c) {
    case JacobianCap::none:
      return "none";
    case JacobianCap::internal:
      return "internal";
    case JacobianCap::optional:
      return "optional";
    case JacobianCap::required:
      return "required";
  }
  return "none";
}

int StepperInfo::config_index(std::string_view field) const {
  for (std::size_t k = 0; k < config.size(); ++k)
    if (config[k].name == field) return static_cast<int>(k);
  return -1;
}

std::vector<double> StepperInfo::default_config(const ir::SimDefaults& sim) const {
  std::vector<double> out;
  out.reserve(config.size());
  for (const auto& f : config) {
    double v = f.default_value;
    if (f.name == "atol")
      v = sim.atol;
    else if (f.name == "rtol")
      v = sim.rtol;
    else if (f.name == "max_steps")
      v = static_cast<double>(sim.max_steps);
    for (const auto& [k, x] : sim.extras)
      if (k == f.name) v = f.is_int ? std::trunc(x) : x;
    for (const auto& [k, s] : sim.string_extras)
      if (k == f.name)
        for (const auto& [en, code] : f.enum_values)
          if (en == s) v = code;
    out.push_back(v);
  }
  return out;
}

namespace {

using Fn = std::function<std::int64_t(std::int64_t)>;
Fn lin(std::int64_t a, std::int64_t c = 0) {
  return [a, c](std::int64_t n) { return a * n + c; };
}
Fn quad(std::int64_t q, std::int64_t a, std::int64_t c = 0) {
  return [q, a, c](std::int64_t n) { return q * n * n + a * n + c; };
}

std::vector<ConfigField> newton_fields() {
  return {{"newton_tol", 1e-8, false, {}},
          {"newton_max_iter", 50, true, {}},
          {"jac_eps", 1e-8, false, {}},
          {"jacobian_mode", 0, true, {{"internal", 0}, {"external", 1}}}};
}

std::vector<ConfigField> adaptive_implicit_fields() {
  const double inf = std::numeric_limits<double>::infinity();
  return {{"atol", 1e-6, false, {}},         {"rtol", 1e-3, false, {}},
          {"safety", 0.9, false, {}},        {"min_factor", 0.2, false, {}},
          {"max_factor", 5.0, false, {}},    {"max_tries", 10, true, {}},
          {"min_step", 1e-12, false, {}},    {"newton_tol", 1e-8, false, {}},
          {"newton_max_iter", 50, true, {}}, {"jac_eps", 1e-8, false, {}},
          {"dt_max", inf, false, {}},        {"jacobian_mode", 0, true, {{"internal", 0}, {"external", 1}}}};
}

// radau5 (kernels/stepper_radau5.hpp: config order, workspace layout, work counters at iws[1..3]).
// jacobian_mode defaults to external: the exact Jacobian when the model has one (else finite differences).
StepperInfo radau5_info() {
  const double inf = std::numeric_limits<double>::infinity();
  StepperInfo s;
  s.id = StepperId::radau5;
  s.name = "radau5";
  s.aliases = {"radau", "radau_iia"};
  s.adaptive = true;
  s.implicit = true;
  s.family = "radau-iia";
  s.order = 5;
  s.embedded_order = 3;
  s.stiff = true;
  s.dense_output = true;
  s.jacobian = JacobianCap::optional;
  s.work_counters_at = 1;
  s.config = {{"atol", 1e-6, false, {}},
              {"rtol", 1e-3, false, {}},
              {"safety", 0.9, false, {}},
              {"min_factor", 0.2, false, {}},
              {"max_factor", 8.0, false, {}},
              {"max_tries", 20, true, {}},
              {"min_step", 1e-12, false, {}},
              {"dt_max", inf, false, {}},
              {"newton_max_iter", 7, true, {}},
              {"newton_stop_tol", 0.0, false, {}},
              {"jac_eps", 1e-8, false, {}},
              {"jacobian_mode", 1, true, {{"internal", 0}, {"external", 1}}},
              {"jac_reuse_theta", 0.001, false, {}},
              {"step_keep_low", 1.0, false, {}},
              {"step_keep_high", 1.2, false, {}}};
  s.ws_size = [](std::int64_t n) { return 4 * n * n + 14 * n + 5; };
  s.iws_size = lin(2, 6);
  return s;
}

std::vector<StepperInfo> build() {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<StepperInfo> v;
  auto add = [&](StepperInfo s) { v.push_back(std::move(s)); };
  StepperInfo s;
  // Workspace layouts (doubles) are documented in each stepper header; sizes must match them.
  s = {};
  s.id = StepperId::map;
  s.name = "map";
  s.aliases = {"iter", "discrete"};
  s.kind = ir::Kind::map;
  s.family = "iter";
  s.order = 1;
  s.ws_size = lin(1);
  s.iws_size = lin(0);
  add(s);
  s = {};
  s.id = StepperId::euler;
  s.name = "euler";
  s.aliases = {"fwd_euler", "forward_euler"};
  s.family = "euler";
  s.order = 1;
  s.variational_stepping = true;
  s.ws_size = lin(2);
  s.iws_size = lin(0);
  add(s);
  s = {};
  s.id = StepperId::rk2;
  s.name = "rk2";
  s.aliases = {"rk2_midpoint"};
  s.family = "runge-kutta";
  s.order = 2;
  s.variational_stepping = true;
  s.ws_size = lin(6);
  s.iws_size = lin(0);
  add(s);
  s = {};
  s.id = StepperId::rk4;
  s.name = "rk4";
  s.aliases = {"rk4_classic", "classical_rk4"};
  s.family = "runge-kutta";
  s.order = 4;
  s.variational_stepping = true;
  s.ws_size = lin(10);
  s.iws_size = lin(0);
  add(s);
  s = {};
  s.id = StepperId::rk45;
  s.name = "rk45";
  s.aliases = {"dopri5", "dormand_prince"};
  s.adaptive = true;
  s.family = "runge-kutta";
  s.order = 5;
  s.embedded_order = 4;
  s.dense_output = true;
  s.config = {{"atol", 1e-6, false, {}},      {"rtol", 1e-3, false, {}},      {"safety", 0.9, false, {}},
              {"min_factor", 0.2, false, {}}, {"max_factor", 5.0, false, {}}, {"max_tries", 10, true, {}},
              {"min_step", 1e-12, false, {}}, {"dt_max", inf, false, {}}};
  s.ws_size = lin(9);
  s.iws_size = lin(0);
  add(s);
  s = {};
  s.id = StepperId::ab2;
  s.name = "ab2";
  s.aliases = {"adams_bashforth_2"};
  s.family = "adams-bashforth";
  s.order = 2;
  s.variational_stepping = true;
  s.ws_size = lin(4);
  s.iws_size = lin(0, 1);
  add(s);
  s = {};
  s.id = StepperId::ab3;
  s.name = "ab3";
  s.aliases = {"adams_bashforth_3"};
  s.family = "adams-bashforth";
  s.order = 3;
  s.variational_stepping = true;
  s.ws_size = lin(5);
  s.iws_size = lin(0, 1);
  add(s);
  s = {};
  s.id = StepperId::sdirk2;
  s.name = "sdirk2";
  s.aliases = {"sdirk2_jit", "alexander2"};
  s.implicit = true;
  s.family = "dirk";
  s.order = 2;
  s.stiff = true;
  s.jacobian = JacobianCap::optional;
  s.config = newton_fields();
  s.ws_size = quad(2, 8);
  s.iws_size = lin(1, 4);  // iws[1..3]: work counters
  s.work_counters_at = 1;
  add(s);
  s = {};
  s.id = StepperId::bdf2;
  s.name = "bdf2";
  s.aliases = {"bdf2_jit"};
  s.implicit = true;
  s.family = "bdf";
  s.order = 2;
  s.stiff = true;
  s.jacobian = JacobianCap::optional;
  s.config = newton_fields();
  s.ws_size = quad(2, 8);
  s.iws_size = lin(1, 4);  // iws[0]: history, iws[1..3]: work counters
  s.work_counters_at = 1;
  add(s);
  s = {};
  s.id = StepperId::bdf2a;
  s.name = "bdf2a";
  s.aliases = {"bdf2a_jit"};
  s.adaptive = true;
  s.implicit = true;
  s.family = "bdf";
  s.order = 2;
  s.embedded_order = 1;
  s.stiff = true;
  s.jacobian = JacobianCap::optional;
  s.config = adaptive_implicit_fields();
  s.ws_size = quad(2, 10, 1);
  s.iws_size = lin(1, 4);  // iws[0]: history, iws[1..3]: work counters
  s.work_counters_at = 1;
  add(s);
  s = {};
  s.id = StepperId::trbdf2a;
  s.name = "tr-bdf2a";
  s.aliases = {"trbdf2a"};
  s.adaptive = true;
  s.implicit = true;
  s.family = "tr-bdf2";
  s.order = 2;
  s.embedded_order = 1;
  s.stiff = true;
  s.jacobian = JacobianCap::optional;
  s.config = adaptive_implicit_fields();
  s.ws_size = quad(2, 10);
  s.iws_size = lin(1, 4);  // iws[0]: history, iws[1..3]: work counters
  s.work_counters_at = 1;
  add(s);
  // Explicit high-order pairs with FSAL and dense output (kernels/stepper_tsit5.hpp, stepper_dop853.hpp).
  // max_tries 100, as Hairer's DOP853 has no limit on rejections: across a jump of the right-hand side the
  // error estimate falls only like h, not like h^(order+1), so the controller's factors shrink the step too
  // little per try and 10 tries end in STEPFAIL well above min_step; min_step still ends a hopeless step.
  s = {};
  s.id = StepperId::tsit5;
  s.name = "tsit5";
  s.aliases = {"tsitouras5"};
  s.adaptive = true;
  s.family = "runge-kutta";
  s.order = 5;
  s.embedded_order = 4;
  s.dense_output = true;
  s.work_counters_at = 1;
  s.config = {{"atol", 1e-6, false, {}},      {"rtol", 1e-3, false, {}},      {"safety", 0.9, false, {}},
              {"min_factor", 0.2, false, {}}, {"max_factor", 5.0, false, {}}, {"max_tries", 100, true, {}},
              {"min_step", 1e-12, false, {}}, {"dt_max", inf, false, {}}};
  s.ws_size = lin(10, 2);
  s.iws_size = lin(0, 4);
  add(s);
  s = {};
  s.id = StepperId::dop853;
  s.name = "dop853";
  s.aliases = {"dopri853"};
  s.adaptive = true;
  s.family = "runge-kutta";
  s.order = 8;
  s.embedded_order = 5;
  s.dense_output = true;
  s.work_counters_at = 1;
  s.config = {{"atol", 1e-6, false, {}},        {"rtol", 1e-3, false, {}},      {"safety", 0.9, false, {}},
              {"min_factor", 0.333, false, {}}, {"max_factor", 6.0, false, {}}, {"beta", 0.0, false, {}},
              {"max_tries", 100, true, {}},     {"min_step", 1e-12, false, {}}, {"dt_max", inf, false, {}},
              {"nstiff", 1000, true, {}}};
  s.ws_size = lin(26, 3);
  s.iws_size = lin(0, 8);
  s.stiff_flag_at = 7;  // kernels/stepper_dop853.hpp
  s.stiff_time_at = lin(26, 2);
  add(s);
  // Verner's 9(8) pair (kernels/stepper_vern9.hpp): no FSAL and no own interpolant (the runner's Hermite
  // dense output serves it); settings as dop853's without the stiffness test.
  s = {};
  s.id = StepperId::vern9;
  s.name = "vern9";
  s.aliases = {"verner9"};
  s.adaptive = true;
  s.family = "runge-kutta";
  s.order = 9;
  s.embedded_order = 8;
  s.work_counters_at = 0;
  s.config = {{"atol", 1e-6, false, {}},        {"rtol", 1e-3, false, {}},      {"safety", 0.9, false, {}},
              {"min_factor", 0.333, false, {}}, {"max_factor", 6.0, false, {}}, {"beta", 0.0, false, {}},
              {"max_tries", 100, true, {}},     {"min_step", 1e-12, false, {}}, {"dt_max", inf, false, {}}};
  s.ws_size = lin(17, 1);
  s.iws_size = lin(0, 3);
  add(s);
  add(radau5_info());
  // Rosenbrock-Wanner (kernels/stepper_rosenbrock.hpp): the exact Jacobian by default, when there is one.
  auto rosenbrock_fields = [&] {
    return std::vector<ConfigField>{{"atol", 1e-6, false, {}},
                                    {"rtol", 1e-3, false, {}},
                                    {"safety", 0.9, false, {}},
                                    {"min_factor", 0.2, false, {}},
                                    {"max_factor", 6.0, false, {}},
                                    {"max_tries", 10, true, {}},
                                    {"min_step", 1e-12, false, {}},
                                    {"dt_max", inf, false, {}},
                                    {"jacobian_mode", 1, true, {{"internal", 0}, {"external", 1}}},
                                    {"jac_eps", 1e-8, false, {}}};
  };
  // Workspace (kernels/stepper_rosenbrock.hpp): J and E (n*n each), f0, ft, u, the stages and the dense
  // output terms (n each); ints: three work counters at 0, then n pivots.
  auto rosenbrock = [&](StepperId id, const char* name, std::vector<std::string> aliases, int order, int emb,
                        std::int64_t stages, std::int64_t dense_terms) {
    StepperInfo r;
    r.id = id;
    r.name = name;
    r.aliases = std::move(aliases);
    r.adaptive = true;
    r.implicit = true;
    r.family = "rosenbrock";
    r.order = order;
    r.embedded_order = emb;
    r.stiff = true;
    r.dense_output = true;
    r.jacobian = JacobianCap::optional;
    r.work_counters_at = 0;
    r.config = rosenbrock_fields();
    r.ws_size = quad(2, 5 + stages + dense_terms);
    r.iws_size = lin(1, 3);
    return r;
  };
  add(rosenbrock(StepperId::rodas5p, "rodas5p", {}, 5, 4, 8, 3));
  add(rosenbrock(StepperId::rodas4, "rodas4", {"rodas"}, 4, 3, 6, 2));
  s = {};
  s.id = StepperId::bdf;
  s.name = "bdf";
  s.aliases = {"ndf", "bdf_variable_order"};
  s.adaptive = true;
  s.implicit = true;
  s.family = "bdf";
  s.order = 5;  // variable order 1..max_order
  s.stiff = true;
  s.dense_output = true;
  s.jacobian = JacobianCap::optional;
  s.work_counters_at = 1;
  // jacobian_mode defaults to external: the exact Jacobian when the model has one (else differences).
  s.config = {{"atol", 1e-6, false, {}},
              {"rtol", 1e-3, false, {}},
              {"max_order", 5, true, {}},
              {"min_step", 1e-12, false, {}},
              {"dt_max", inf, false, {}},
              {"max_tries", 20, true, {}},
              {"newton_max_iter", 4, true, {}},
              {"jac_eps", 1e-8, false, {}},
              {"jacobian_mode", 1, true, {{"internal", 0}, {"external", 1}}}};
  s.ws_size = quad(2, 17, 3);  // kernels/stepper_bdf.hpp
  s.iws_size = lin(1, 8);
  add(s);
  std::sort(v.begin(), v.end(), [](const StepperInfo& a, const StepperInfo& b) { return a.name < b.name; });
  return v;
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

}  // namespace

const std::vector<StepperInfo>& all_steppers() {
  static const std::vector<StepperInfo> v = build();
  return v;
}

const StepperInfo* find_stepper(std::string_view name) noexcept {
  for (const auto& s : all_steppers()) {
    if (s.name == name) return &s;
    for (const auto& a : s.aliases)
      if (a == name) return &s;
  }
  return nullptr;
}

const StepperInfo& get_stepper(std::string_view name) {
  if (const auto* s = find_stepper(name)) return *s;
  std::vector<std::string> valid, candidates;
  for (const auto& s : all_steppers()) {
    valid.push_back(s.name);
    candidates.push_back(s.name);
    candidates.insert(candidates.end(), s.aliases.begin(), s.aliases.end());
  }
  std::string msg = "Unknown stepper '" + std::string(name) + "'.";
  const std::string close = util::closest_name(lower(name), candidates);
  if (!close.empty()) msg += " Did you mean '" + find_stepper(close)->name + "'?";
  msg += " Valid steppers: " + util::join(valid, ", ") + ".";
  throw UnknownStepperError(msg);
}

std::vector<const StepperInfo*> list_steppers(const StepperFilter& f) {
  std::vector<const StepperInfo*> out;
  for (const auto& s : all_steppers()) {
    if (f.kind && s.kind != *f.kind) continue;
    if (f.adaptive && s.adaptive != *f.adaptive) continue;
    if (f.implicit && s.implicit != *f.implicit) continue;
    if (f.stiff && s.stiff != *f.stiff) continue;
    if (f.dense_output && s.dense_output != *f.dense_output) continue;
    if (f.jit_capable && s.jit_capable != *f.jit_capable) continue;
    if (f.requires_scipy && s.requires_scipy != *f.requires_scipy) continue;
    if (f.variational_stepping && s.variational_stepping != *f.variational_stepping) continue;
    if (f.jacobian && s.jacobian != *f.jacobian) continue;
    if (f.family && s.family != *f.family) continue;
    out.push_back(&s);
  }
  return out;
}

const char* jacobian_source(const StepperInfo& s, const ir::ModelIR& model,
                            const std::vector<double>& config) {
  const int k = s.config_index("jacobian_mode");
  if (k < 0) return "";
  const bool external =
      static_cast<std::size_t>(k) < config.size() && config[static_cast<std::size_t>(k)] == 1.0;
  if (!external || !model.exact_jacobian()) return "finite differences";
  return model.jacobian ? "model" : "symbolic";
}

}  // namespace dynlib::kernels
