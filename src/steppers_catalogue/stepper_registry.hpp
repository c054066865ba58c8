// Metadata of the built-in steppers (docs/steppers.md) and lookup by name/alias.
// The algorithms themselves are the kernel templates in src/kernels/stepper_*.hpp.
#pragma once
#include <cstdint>
#include <dynlib/export.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dynlib/ir.hpp"

namespace dynlib::kernels {

enum class StepperId : std::uint8_t {
  map,
  euler,
  rk2,
  rk4,
  rk45,
  ab2,
  ab3,
  sdirk2,
  bdf2,
  bdf2a,
  trbdf2a,
  tsit5,
  dop853,
  radau5,
  rodas5p,  // Rosenbrock-Wanner
  rodas4,
  bdf,
  vern9,
};

enum class JacobianCap : std::uint8_t { none, internal, optional, required };
DYNLIB_INTERNAL_API const char* jacobian_cap_name(
    JacobianCap c) noexcept;  // "none", "internal", "optional", "required"

struct ConfigField {
  std::string name;
  double default_value;  // dataclass default (ints stored as doubles, enums as their code)
  bool is_int = false;
  std::vector<std::pair<std::string, int>> enum_values;  // e.g. jacobian_mode {internal:0, external:1}
};

struct DYNLIB_INTERNAL_API StepperInfo {
  StepperId id{};
  std::string name;  // canonical
  std::vector<std::string> aliases;
  ir::Kind kind = ir::Kind::ode;  // ode | map
  bool adaptive = false;          // time_control: "adaptive" / "fixed"
  bool implicit = false;          // scheme: "implicit" / "explicit"
  std::string family;             // "runge-kutta", "bdf", ...
  int order = 1;
  int embedded_order = 0;  // 0 = none
  bool stiff = false;
  // caps
  bool dense_output = false;
  JacobianCap jacobian = JacobianCap::none;
  bool jit_capable = true;
  bool requires_scipy = false;
  bool variational_stepping = false;
  // Index in the int workspace of three int64 work counters that the stepper keeps over a run: right-hand
  // side evaluations, Jacobian evaluations, LU factorizations (kernels/stepper_common.hpp, WorkCounter).
  // -1: the stepper does not count its work.
  int work_counters_at = -1;
  // Stiffness detection (dop853): iws[stiff_flag_at] becomes 1 when the stepper finds that the problem
  // looks stiff, ws[stiff_time_at(n)] is the time of that step; the host warns once per run. -1: none.
  int stiff_flag_at = -1;
  std::function<std::int64_t(std::int64_t n)> stiff_time_at;
  // config, packed in this order into RunnerArgs::stepper_config
  std::vector<ConfigField> config;
  // persistent workspace sizes for n states
  std::function<std::int64_t(std::int64_t n)> ws_size;   // doubles
  std::function<std::int64_t(std::int64_t n)> iws_size;  // int64s

  const char* time_control() const { return adaptive ? "adaptive" : "fixed"; }
  const char* scheme() const { return implicit ? "implicit" : "explicit"; }
  const char* kind_name() const { return kind == ir::Kind::ode ? "ode" : "map"; }
  int config_index(std::string_view field) const;  // -1 if absent

  // The effective default config: dataclass defaults overridden by any field whose name is on [sim]
  // (atol, rtol, max_steps always exist there; numeric extras too).
  std::vector<double> default_config(const ir::SimDefaults& sim) const;
};

// All registered steppers, sorted by canonical name.
DYNLIB_INTERNAL_API const std::vector<StepperInfo>& all_steppers();

// Lookup by canonical name or alias; throws dynlib::UnknownStepperError listing the valid names and
// suggesting the closest match.
DYNLIB_INTERNAL_API const StepperInfo& get_stepper(std::string_view name_or_alias);
DYNLIB_INTERNAL_API const StepperInfo* find_stepper(
    std::string_view name_or_alias) noexcept;  // null if unknown

// `steppers list` filters (docs/cli.md). Unset fields do not filter.
struct StepperFilter {
  std::optional<ir::Kind> kind;
  std::optional<bool> adaptive;  // time_control
  std::optional<bool> implicit;  // scheme
  std::optional<bool> stiff;
  std::optional<bool> dense_output;
  std::optional<bool> jit_capable;
  std::optional<bool> requires_scipy;
  std::optional<bool> variational_stepping;
  std::optional<JacobianCap> jacobian;
  std::optional<std::string> family;
};
DYNLIB_INTERNAL_API std::vector<const StepperInfo*> list_steppers(
    const StepperFilter& f = {});  // sorted by name

// The Jacobian a stepper uses on `model` with its packed settings `config` (the kernels' rule: the exact
// Jacobian when jacobian_mode is external and ModelIR::exact_jacobian() exists, else finite differences):
// "model" (the model's [equations.jacobian]), "symbolic" (derived from the rhs), "finite differences",
// or "" for a stepper that uses none (it has no jacobian_mode setting).
DYNLIB_INTERNAL_API const char* jacobian_source(const StepperInfo& s, const ir::ModelIR& model,
                                                const std::vector<double>& config);

}  // namespace dynlib::kernels
