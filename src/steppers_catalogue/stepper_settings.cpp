#include "steppers_catalogue/stepper_settings.hpp"

#include <algorithm>
#include <cmath>

#include "util/text.hpp"

namespace dynlib::kernels {
namespace {

struct Range {
  double lo;
  bool lo_open;  // lo excluded
  double hi;     // +inf: no upper bound
  bool hi_open;
  bool allow_inf;  // +inf accepted (dt_max: no cap)
};

// The allowed range of a setting by name; settings not listed only need to be finite.
std::optional<Range> range_of(std::string_view name) {
  const double inf = HUGE_VAL;
  if (name == "atol" || name == "rtol" || name == "min_step") return Range{0.0, false, inf, true, false};
  if (name == "safety" || name == "min_factor") return Range{0.0, true, 1.0, false, false};
  if (name == "max_factor") return Range{1.0, false, inf, true, false};
  if (name == "max_tries" || name == "newton_max_iter" || name == "max_steps")
    return Range{1.0, false, inf, true, false};
  if (name == "newton_tol" || name == "jac_eps") return Range{0.0, true, inf, true, false};
  if (name == "dt_max") return Range{0.0, true, inf, true, true};
  if (name == "beta") return Range{0.0, false, 0.2, false, false};  // dop853's step-size stabilization
  if (name == "newton_stop_tol") return Range{0.0, false, inf, true, false};  // 0: automatic
  if (name == "jac_reuse_theta") return Range{0.0, false, 1.0, true, false};
  if (name == "step_keep_low") return Range{0.0, true, 1.0, false, false};
  if (name == "step_keep_high") return Range{1.0, false, inf, true, false};
  if (name == "max_order") return Range{1.0, false, 5.0, false, false};
  return std::nullopt;
}

std::string describe(const Range& r) {
  std::string lo = std::string(r.lo_open ? "> " : ">= ") + util::shortest_double(r.lo);
  if (std::isinf(r.hi)) return "must be " + lo + (r.allow_inf ? " (inf for no limit)" : "");
  return "must be " + lo + " and " + (r.hi_open ? "< " : "<= ") + util::shortest_double(r.hi);
}

}  // namespace

std::optional<double> setting_code(const ConfigField& f, std::string_view name) {
  for (const auto& [n, code] : f.enum_values)
    if (n == name) return static_cast<double>(code);
  return std::nullopt;
}

std::string setting_value_names(const ConfigField& f) {
  std::vector<std::string> names;
  for (const auto& [n, code] : f.enum_values) names.push_back("'" + n + "'");
  return util::join(names, ", ");
}

std::string setting_value_error(const ConfigField& f, double v) {
  const std::string got = " (got " + util::shortest_double(v) + ")";
  if (!f.enum_values.empty()) {
    for (const auto& [n, code] : f.enum_values)
      if (static_cast<double>(code) == v) return {};
    std::string codes;
    for (const auto& [n, code] : f.enum_values)
      codes += (codes.empty() ? "" : ", ") + n + " (" + std::to_string(code) + ")";
    return "must be one of " + codes + got;
  }
  if (std::isnan(v)) return "must be a number, not nan";
  const auto r = range_of(f.name);
  if (std::isinf(v) && !(r && r->allow_inf && v > 0))
    return (r ? describe(*r) + " and finite" : "must be finite") + got;
  if (f.is_int && v != std::trunc(v)) return "must be an integer" + got;
  if (r) {
    const bool lo_ok = r->lo_open ? v > r->lo : v >= r->lo;
    const bool hi_ok = std::isinf(r->hi) || (r->hi_open ? v < r->hi : v <= r->hi);
    if (!lo_ok || !hi_ok) return describe(*r) + got;
  }
  return {};
}

const std::vector<std::string>& all_setting_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& s : all_steppers())
      for (const auto& f : s.config) v.push_back(f.name);
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  }();
  return names;
}

const ConfigField* find_setting(std::string_view name, const StepperInfo* preferred) {
  if (preferred) {
    const int i = preferred->config_index(name);
    if (i >= 0) return &preferred->config[static_cast<std::size_t>(i)];
  }
  for (const auto& s : all_steppers()) {
    const int i = s.config_index(name);
    if (i >= 0) return &s.config[static_cast<std::size_t>(i)];
  }
  return nullptr;
}

}  // namespace dynlib::kernels
