// Checking one stepper setting: the allowed range of each setting by name, and enumerated settings
// given by the name of their value (jacobian_mode = "external"). Used by the [sim] table of a model,
// by Sim::config()/run() settings and by the CLI's --set, so all of them accept and refuse the same values.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "steppers_catalogue/stepper_registry.hpp"

namespace dynlib::kernels {

// The code of an enumerated setting's value given by name ("external" -> 1); nullopt if `name` is not one
// of f.enum_values (or f is not enumerated).
std::optional<double> setting_code(const ConfigField& f, std::string_view name);

// The names of an enumerated setting's values: "'internal', 'external'".
std::string setting_value_names(const ConfigField& f);

// "" when `v` is allowed for `f`, else what is allowed, e.g. "must be >= 0 (got -1)".
std::string setting_value_error(const ConfigField& f, double v);

// Every setting name of every stepper, sorted, each once (for checking [sim] keys).
const std::vector<std::string>& all_setting_names();

// The definition of setting `name` in `preferred` if it has one, else in the first stepper that has it;
// null if no stepper has such a setting.
const ConfigField* find_setting(std::string_view name, const StepperInfo* preferred = nullptr);

}  // namespace dynlib::kernels
