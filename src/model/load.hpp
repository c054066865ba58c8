// URI -> text -> ModelSpec (+ mods). load_model() (include/dynlib/model.hpp) adds lower_model().
#pragma once
#include <dynlib/export.hpp>
#include <dynlib/model.hpp>
#include <string>
#include <string_view>

#include "model/config.hpp"
#include "model/mods.hpp"
#include "model/spec.hpp"

namespace dynlib::model {

// A model or mod URI resolved to its text (docs/model-language.md).
struct ResolvedText {
  enum class Kind { inline_text, file, builtin } kind = Kind::file;
  std::string text;      // the TOML text
  std::string display;   // "inline model", the file path, or "builtin://ode/vanderpol"
  std::string base;      // the URI without its fragment
  std::string fragment;  // text after the first '#' (stripped); never set for inline text
};

// Resolve `uri` and read the text. `inline_name` names inline text ("inline model" / "inline mod").
// Throws ModelNotFoundError, PathTraversalError, AmbiguousModelError, ConfigError, ModelLoadError.
ResolvedText resolve_and_read(std::string_view uri, const Config* cfg, const std::string& inline_name);

// Everything up to (not including) lowering: resolve, read, shebang check, parse, "#mod=NAME", options.mods.
DYNLIB_INTERNAL_API ModelSpec load_model_spec(std::string_view uri, const LoadOptions& options = {});

// A mod from a URI: "inline: [mod] ...", "file.toml" ([mod]), "file.toml#mod=NAME" ([mods.NAME]).
ModSpec load_mod(std::string_view uri, const Config* cfg);

}  // namespace dynlib::model
