// Builtin model files, embedded into the library at build time (cmake/EmbedModels.cmake).
// builtin:// lookups read this text; no install path is ever consulted.
#pragma once
#include <cstddef>
#include <dynlib/export.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dynlib::model {

struct BuiltinModelFile {
  const char* name;  // "ode/vanderpol" (path under models/ without .toml)
  const char* text;  // the file content
};

namespace detail {
extern const BuiltinModelFile kBuiltinModelFiles[];  // terminated by {nullptr, nullptr}
extern const std::size_t kBuiltinModelCount;
}  // namespace detail

// All embedded files, sorted by name.
std::vector<BuiltinModelFile> builtin_model_files();

// Look up "ode/vanderpol" or "ode/vanderpol.toml". nullptr when absent.
DYNLIB_INTERNAL_API const BuiltinModelFile* find_builtin_model(std::string_view name);

}  // namespace dynlib::model
