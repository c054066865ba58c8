// Mods (docs/model-language.md): remove / replace / add / set applied to a parsed ModelSpec, in that
// order per mod, mods in caller order, after the group-exclusivity check. Unlike the reference, mods keep
// the model's presets and event tags (docs/internals/differences.md).
#pragma once
#include <dynlib/export.hpp>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/spec.hpp"

namespace dynlib::model {

// A state/param value in a mod: a number, or a numeric-expression string evaluated against the model's
// constants when the mod is applied.
struct ModValue {
  NumberValue number;
  std::optional<Located> expr;
};

struct NamedLoc {
  std::string name;
  SourceLocation loc;
};

struct ModSpec {
  std::string name = "unnamed";
  std::string group;  // "" = no group
  bool exclusive = false;
  SourceLocation loc;

  struct {
    std::vector<NamedLoc> events, params, aux, functions;
  } remove;
  struct {
    std::vector<EventSpec> events;
    std::vector<std::pair<std::string, Located>> aux;
    std::vector<FunctionSpec> functions;
  } replace;
  struct {
    std::vector<EventSpec> events;
    std::vector<std::pair<std::string, ModValue>> params;
    std::vector<std::pair<std::string, Located>> aux;
    std::vector<FunctionSpec> functions;
  } add;
  struct {
    std::vector<std::pair<std::string, ModValue>> states, params;
    std::vector<std::pair<std::string, Located>> aux;  // upsert
    std::vector<FunctionSpec> functions;               // upsert
    std::vector<std::function<void(SimSpec&)>> sim;    // key-by-key updates of [sim], already type-checked
  } set;
};

// Apply `mods` to `spec` (ModError on any problem). Group exclusivity is checked across all of `mods`.
DYNLIB_INTERNAL_API void apply_mods(ModelSpec& spec, const std::vector<ModSpec>& mods);

}  // namespace dynlib::model
