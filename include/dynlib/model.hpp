// Loading models: URI / path / inline text -> checked, lowered ModelIR.
#pragma once
#include <dynlib/errors.hpp>
#include <dynlib/export.hpp>
#include <dynlib/ir.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dynlib {

using ModelPtr = std::shared_ptr<const ir::ModelIR>;

struct LoadOptions {
  std::vector<std::string> mods;  // mod URIs ("file.toml#mod=NAME", "inline: [mod] ...") applied in order
};

// Accepts "builtin://ode/vanderpol", "TAG://rel/path", a file path, "path#mod=NAME", or model text
// starting with "inline:". Throws ModelLoadError (and subclasses), ModelNotFoundError, ConfigError, ...
[[nodiscard]] DYNLIB_API ModelPtr load_model(std::string_view uri, const LoadOptions& options = {});

// Names of the builtin models, e.g. "ode/vanderpol", "map/logistic".
[[nodiscard]] DYNLIB_API std::vector<std::string> builtin_model_names();

}  // namespace dynlib
