// A tiny command-line parser for the `dynlib` subcommands.
#pragma once
#include <cstdint>
#include <dynlib/options.hpp>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace dynlib::cli {

// Bad command line: main.cpp prints it with the usage hint and exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ParsedArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> options;  // "--mod X --mod Y" -> options["mod"] = {X, Y}
  std::set<std::string> flags;                              // "--verbose" -> "verbose"

  bool flag(const std::string& name) const { return flags.count(name) != 0; }
  std::optional<std::string> get(const std::string& name) const;  // last value
  std::vector<std::string> all(const std::string& name) const;
};

// `value_options` take a value ("--name value" or "--name=value"); `flag_options` take none. "--" ends
// options. Anything else starting with "--" (or a missing value) throws UsageError. Dashes and underscores in
// option names are interchangeable ("--dry-run" == "--dry_run"); names are stored with underscores.
ParsedArgs parse_args(const std::vector<std::string>& args, const std::set<std::string>& value_options,
                      const std::set<std::string>& flag_options = {});

// Option values. `what` names the option in the UsageError ("bad number for --dt: 'x'").
double parse_number(const std::string& s, const std::string& what);
std::int64_t parse_integer(const std::string& s, const std::string& what);
// A number (finite) above `lo` ("--dt must be > 0, got -1"), an integer of at least `lo`.
double parse_number_above(const std::string& s, const std::string& what, double lo, bool inclusive = false);
std::int64_t parse_integer_at_least(const std::string& s, const std::string& what, std::int64_t lo);
// --set name=value items: a number, or the name of an enumerated setting's value (jacobian_mode=external).
StepperSettings parse_settings(const std::vector<std::string>& items, const std::string& what);
// "name=value" items (--param, --state) in order.
std::vector<std::pair<std::string, double>> parse_assignments(const std::vector<std::string>& items,
                                                              const std::string& what);

}  // namespace dynlib::cli
