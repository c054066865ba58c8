// Python values -> the library's option types.
#include <dynlib/errors.hpp>

#include "bindings.hpp"

namespace dynlib::python {

Assignments to_assignments(py::handle values, const char* what) {
  Assignments out;
  if (values.is_none()) return out;
  if (py::isinstance<py::dict>(values)) {
    for (auto item : values.cast<py::dict>())
      out.emplace_back(py::str(item.first).cast<std::string>(), item.second.cast<double>());
    return out;
  }
  try {
    for (auto item : values) {
      auto pair = item.cast<py::tuple>();
      if (pair.size() != 2) throw py::value_error("");
      out.emplace_back(pair[0].cast<std::string>(), pair[1].cast<double>());
    }
  } catch (const py::error_already_set&) {
    throw ArgumentError(std::string(what) + " must be a dict {name: value} or a list of (name, value) pairs");
  } catch (const py::cast_error&) {
    throw ArgumentError(std::string(what) + " must be a dict {name: value} or a list of (name, value) pairs");
  }
  return out;
}

StepperSettings to_stepper_settings(const py::dict& settings) {
  StepperSettings out;
  for (auto item : settings) {
    const auto name = py::str(item.first).cast<std::string>();
    if (py::isinstance<py::str>(item.second))
      out.emplace_back(name, SettingValue(item.second.cast<std::string>()));
    else if (py::isinstance<py::bool_>(item.second))
      out.emplace_back(name, SettingValue(item.second.cast<bool>() ? 1.0 : 0.0));
    else
      try {
        out.emplace_back(name, SettingValue(item.second.cast<double>()));
      } catch (const py::cast_error&) {
        throw ArgumentError("Stepper setting '" + name + "' must be a number or the name of a value, not " +
                            py::repr(item.second).cast<std::string>());
      }
  }
  return out;
}

std::vector<std::string> to_names(py::handle names, const char* what) {
  std::vector<std::string> out;
  if (py::isinstance<py::str>(names)) {
    std::string s = names.cast<std::string>(), cur;
    for (char c : s) {
      if (c == ',') {
        if (!cur.empty()) out.push_back(cur);
        cur.clear();
      } else if (c != ' ') {
        cur += c;
      }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
  }
  try {
    for (auto item : names) out.push_back(item.cast<std::string>());
  } catch (const py::cast_error&) {
    throw ArgumentError(std::string(what) + " must be a name, 'a,b' or a list of names");
  }
  return out;
}

}  // namespace dynlib::python
