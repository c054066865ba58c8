// TOML text -> ModelSpec / ModSpec (docs/model-language.md). Every error is located:
// file, line, column and TOML path, with the offending line (see ModelLoadError::what()).
#pragma once
#include <dynlib/export.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "model/mods.hpp"
#include "model/spec.hpp"

namespace dynlib::model {

// Where a text came from. `file` goes into every SourceLocation ("inline model", a path,
// "builtin://ode/vanderpol"); `what` names it in TOML syntax errors ("model file 'x.toml'", "inline model").
struct TextSource {
  std::string file;
  std::string what;
};

// Parse a model document. Throws TomlSyntaxError / SchemaError / ModelLoadError.
DYNLIB_INTERNAL_API ModelSpec parse_model_text(std::string_view text, const TextSource& src);

// Parse a model document and its embedded mod [mods.NAME] (for "file.toml#mod=NAME").
// `uri` is used in "Mod 'x' not found in <uri>. Available mods: [...]".
struct ModelWithMod {
  ModelSpec spec;
  ModSpec mod;
};
ModelWithMod parse_model_text_with_mod(std::string_view text, const TextSource& src,
                                       const std::string& mod_name, const std::string& uri);

// Parse a mod document: `mod_name` selects [mods.NAME]; empty selects the single [mod] table.
DYNLIB_INTERNAL_API ModSpec parse_mod_text(std::string_view text, const TextSource& src,
                                           const std::string& mod_name, const std::string& uri);

}  // namespace dynlib::model
