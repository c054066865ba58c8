// User configuration (docs/model-language.md): model path tags and the cache root.
//   config file: $DYNLIB_CONFIG, else ${XDG_CONFIG_HOME:-~/.config}/dynlib/config.toml (missing file = empty)
//     [paths]  tag = "root" | ["root1", "root2"]
//     cache_root = "..."  (top level, before any table), else [cache] cache_root = "...", else [cache] root =
//     "..."
//   DYN_MODEL_PATH: TAG1=/a,/b:TAG2=/c  (entries are prepended to that tag's roots)
#pragma once
#include <cstddef>
#include <dynlib/export.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dynlib::model {

// Model, mod and configuration files larger than this are refused before they are read (the largest
// models are a few hundred KiB; a device or a huge file must not exhaust memory).
inline constexpr std::size_t kMaxModelFileBytes = std::size_t{64} << 20;

struct DYNLIB_INTERNAL_API Config {
  std::string file;  // the config file that was consulted (may not exist)
  bool file_loaded = false;
  // tag -> roots, in order of first appearance; roots are kept as written (expanded when used).
  std::vector<std::pair<std::string, std::vector<std::string>>> tags;
  // Cache root setting for the disk cache (not expanded; the cache resolves defaults and fallbacks).
  std::optional<std::string> cache_root;

  const std::vector<std::string>* roots(std::string_view tag) const;
  std::vector<std::string> tag_names() const;  // sorted
};

// Path of the config file to consult (does not check existence). Throws ConfigError.
DYNLIB_INTERNAL_API std::string config_file_path();

// Read the config file and DYN_MODEL_PATH from the current environment. Throws ConfigError.
DYNLIB_INTERNAL_API Config load_config();

// Parse config text (for tests); `file` names the source in messages.
DYNLIB_INTERNAL_API Config parse_config_text(std::string_view text, const std::string& file);

// Apply a DYN_MODEL_PATH value to `cfg` (prepends roots). Throws ConfigError.
DYNLIB_INTERNAL_API void apply_model_path_env(Config& cfg, std::string_view value);

// $VAR / ${VAR} expansion (unset variables are left as written, like os.path.expandvars) and
// a leading ~ / ~/ expanded to $HOME.
DYNLIB_INTERNAL_API std::string expand_user_vars(std::string_view path);

}  // namespace dynlib::model
