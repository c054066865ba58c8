// Shared helpers of the TOML front end (parse_toml_ctx.cpp, parse_numbers.cpp, parse_events.cpp,
// parse_sim.cpp, parse_model.cpp, parse_mods.cpp). Includes toml++: only the parse_*.cpp files include this
// header.
#pragma once
#include <toml++/toml.h>

#include <cstdint>
#include <dynlib/errors.hpp>
#include <dynlib/export.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/mods.hpp"
#include "model/parse.hpp"
#include "model/spec.hpp"
#include "util/suggest.hpp"
#include "util/text.hpp"

namespace dynlib::model::detail {

// The parsed document's source, used to build locations.
class TomlCtx {
 public:
  TomlCtx(std::string_view text, TextSource src);

  const TextSource& source() const { return src_; }
  const std::string& line(int n) const;  // 1-based; "" when out of range

  SourceLocation at(const toml::source_region& r, std::string toml_path) const;
  // Location of node `n` (null or without position: file + path only).
  SourceLocation at(const toml::node* n, std::string toml_path) const;
  SourceLocation file_only(std::string toml_path) const;

  // A string value as an expression: loc points at the first character of its content when it can be found.
  Located located(const toml::node& n, std::string toml_path) const;

  // The non-blank lines of a (block) string value, each stripped, with a location on its own line when the
  // string's lines can be matched to the file. text = the value as parsed.
  std::vector<std::pair<std::string, SourceLocation>> block_lines(const toml::node& n,
                                                                  const std::string& text,
                                                                  const std::string& toml_path) const;

  // Parse the document; TOML syntax errors -> TomlSyntaxError located at the reported line/column.
  toml::table parse_document(std::string_view text) const;

 private:
  TextSource src_;
  std::vector<std::string> lines_;
};

[[noreturn]] void schema_error(std::string msg, SourceLocation loc);

// Entries of a table in file order (toml::table is sorted by key; we sort by source position).
std::vector<std::pair<std::string, const toml::node*>> ordered(const toml::table& t);

// Keys of `t` not in `valid` are ignored by the language; report each through dynlib::warn with its
// location and a close match, since a typo (`phse = "start"`) would otherwise change the model silently.
void warn_unknown_keys(const TomlCtx& c, const toml::table& t, const std::string& prefix,
                       const std::vector<std::string>& valid);

// Python type name of a TOML node, for messages ("list", "dict", "str", "int", "float", "bool", ...).
const char* py_type(const toml::node& n);

// Python repr of a double (shortest round trip, "1.0" for integral values, "inf", "nan").
DYNLIB_INTERNAL_API std::string py_float(double v);

// Python float(s) / int(s) on a string ([sim] values given as strings); nullopt when Python would refuse.
std::optional<double> py_parse_float(std::string_view s);
std::optional<std::int64_t> py_parse_int(std::string_view s);

// State/param/constant value: number, bool or numeric expression string. `ctx` = "[states].x" etc.
// `constants` = constants visible to expression strings (pi and e are always allowed).
NumberValue parse_number_value(const TomlCtx& c, const toml::node& n, const std::string& ctx,
                               const std::vector<std::pair<std::string, double>>& constants);

// Like parse_number_value but without evaluating strings (mods evaluate them when applied).
ModValue parse_mod_value(const TomlCtx& c, const toml::node& n, const std::string& ctx);

// Evaluate a numeric expression string (as in [states]/[params]/[constants]) at `where`.
double eval_number_string(const std::string& text,
                          const std::vector<std::pair<std::string, double>>& constants,
                          const SourceLocation& where);

// [functions.NAME] body. `prefix` = "[functions.f]" for models, "functions.f" for mods.
FunctionSpec parse_function(const TomlCtx& c, const std::string& name, const toml::node& n,
                            const std::string& prefix);

// [events.NAME]. `prefix` = "[events.e]" for models, "events.e" for mods.
EventSpec parse_event(const TomlCtx& c, const std::string& name, const toml::node& n,
                      const std::string& prefix);

// One key of [sim] applied to `sim` (type checks and coercion). `ctx` = "[sim]" (or "set.sim" in mods).
void apply_sim_key(const TomlCtx& c, SimSpec& sim, const std::string& key, const toml::node& v,
                   const std::string& ctx);

// Checks of a whole [sim] table after its keys are applied: unknown keys (with a suggestion), the stepper
// (known, for this kind of model), run defaults in range (dt > 0, ...), stepper settings by name and value.
// Each error is located at its key or value. `ctx` = "[sim]" (or "set.sim" in mods, where the model's kind
// is not known yet: `kind` = nullopt skips the stepper/kind check).
void check_sim_table(const TomlCtx& c, const toml::table& t, const SimSpec& sim, std::optional<ir::Kind> kind,
                     const std::string& ctx);

// An action block's lines: target = text before the first '=' (stripped), rhs = the rest.
std::vector<EquationLine> parse_action_block(const TomlCtx& c, const toml::node& n, const std::string& text,
                                             const std::string& toml_path);

}  // namespace dynlib::model::detail
