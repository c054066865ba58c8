#include "cli/args.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "util/suggest.hpp"
#include "util/text.hpp"

namespace dynlib::cli {

std::optional<std::string> ParsedArgs::get(const std::string& name) const {
  auto it = options.find(name);
  if (it == options.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> ParsedArgs::all(const std::string& name) const {
  auto it = options.find(name);
  return it == options.end() ? std::vector<std::string>{} : it->second;
}

ParsedArgs parse_args(const std::vector<std::string>& args, const std::set<std::string>& value_options,
                      const std::set<std::string>& flag_options) {
  ParsedArgs out;
  bool only_positional = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (only_positional || a.size() < 3 || a.rfind("--", 0) != 0) {
      if (!only_positional && a == "--") {
        only_positional = true;
        continue;
      }
      out.positional.push_back(a);
      continue;
    }
    std::string name = a.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    std::replace(name.begin(), name.end(), '-', '_');
    if (value_options.count(name)) {
      if (!value) {
        if (i + 1 >= args.size()) throw UsageError("option --" + name + " needs a value");
        value = args[++i];
      }
      out.options[name].push_back(*value);
    } else if (flag_options.count(name)) {
      if (value) throw UsageError("option --" + name + " takes no value");
      out.flags.insert(name);
    } else {
      std::vector<std::string> known;
      for (const auto* set : {&value_options, &flag_options})
        for (std::string k : *set) {
          std::replace(k.begin(), k.end(), '_', '-');
          known.push_back("--" + k);
        }
      std::string shown = "--" + name;
      std::replace(shown.begin(), shown.end(), '_', '-');
      throw UsageError("unknown option " + a + util::did_you_mean(shown, known) + " (see --help)");
    }
  }
  return out;
}

double parse_number(const std::string& s, const std::string& what) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end || std::isspace(static_cast<unsigned char>(s[0])))
    throw UsageError("bad number for " + what + ": '" + s + "'");
  if (!std::isfinite(v)) throw UsageError(what + " must be a finite number, got '" + s + "'");
  return v;
}

std::int64_t parse_integer(const std::string& s, const std::string& what) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end || std::isspace(static_cast<unsigned char>(s[0])))
    throw UsageError("bad integer for " + what + ": '" + s + "'");
  if (errno == ERANGE) {
    throw UsageError(what + " is out of range: '" + s + "' (at most " +
                     std::to_string(std::numeric_limits<std::int64_t>::max()) + ")");
  }
  return v;
}

double parse_number_above(const std::string& s, const std::string& what, double lo, bool inclusive) {
  const double v = parse_number(s, what);
  if (inclusive ? !(v >= lo) : !(v > lo)) {
    throw UsageError(what + " must be " + (inclusive ? ">= " : "> ") + util::shortest_double(lo) + ", got " +
                     s);
  }
  return v;
}

std::int64_t parse_integer_at_least(const std::string& s, const std::string& what, std::int64_t lo) {
  const std::int64_t v = parse_integer(s, what);
  if (v < lo) throw UsageError(what + " must be >= " + std::to_string(lo) + ", got " + s);
  return v;
}

StepperSettings parse_settings(const std::vector<std::string>& items, const std::string& what) {
  StepperSettings out;
  for (const auto& it : items) {
    const auto eq = it.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == it.size())
      throw UsageError(what + " expects name=value, got '" + it + "'");
    const std::string name = it.substr(0, eq), value = it.substr(eq + 1);
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (!*end && !std::isspace(static_cast<unsigned char>(value[0]))) {
      if (!std::isfinite(v) && name != "dt_max")
        throw UsageError(what + " " + name + " must be finite, got '" + value + "'");
      out.emplace_back(name, SettingValue(v));
    } else {
      out.emplace_back(name, SettingValue(value));  // an enumerated value by name (jacobian_mode=external)
    }
  }
  return out;
}

std::vector<std::pair<std::string, double>> parse_assignments(const std::vector<std::string>& items,
                                                              const std::string& what) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& it : items) {
    const auto eq = it.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError(what + " expects name=value, got '" + it + "'");
    out.emplace_back(it.substr(0, eq), parse_number(it.substr(eq + 1), what + " " + it.substr(0, eq)));
  }
  return out;
}

}  // namespace dynlib::cli
