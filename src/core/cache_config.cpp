// The configuration lookup of the cache root, and the library's settings of the persistent cache.
#include "core/cache_config.hpp"

#include <toml++/toml.h>

#include <cstddef>
#include <dynlib/errors.hpp>
#include <string>

#include "core/warnings.hpp"
#include "model/config.hpp"
#include "util/regular_file.hpp"

namespace dynlib::core {
namespace fs = std::filesystem;

namespace {

// A configuration file is a few lines; anything bigger is not one.
constexpr std::size_t kMaxConfigFileBytes = std::size_t{1} << 20;

// `[cache] cache_root`, which model::load_config() does not read.
std::optional<std::string> cache_table_cache_root(const model::Config& cfg) {
  if (!cfg.file_loaded) return std::nullopt;
  toml::table doc;
  try {
    doc = toml::parse(util::read_regular_file(cfg.file, kMaxConfigFileBytes), cfg.file);
  } catch (const toml::parse_error&) {
    return std::nullopt;  // load_config() already validated the file; be lenient
  } catch (const util::FileReadError&) {
    return std::nullopt;
  }
  const toml::node* n = doc["cache"]["cache_root"].node();
  if (!n) return std::nullopt;
  if (!n->is_string()) throw ConfigError("[cache].cache_root must be a string path in " + cfg.file);
  return n->as_string()->get();
}

void library_warning(std::string_view message) { dynlib::warn(message); }

}  // namespace

std::optional<fs::path> configured_cache_root() {
  const model::Config cfg = model::load_config();
  if (cfg.cache_root && !cfg.cache_root->empty()) return fs::path(model::expand_user_vars(*cfg.cache_root));
  if (auto cr = cache_table_cache_root(cfg); cr && !cr->empty())
    return fs::path(model::expand_user_vars(*cr));
  return std::nullopt;
}

cache::RootOptions cache_root_options(cache::RootOptions options) {
  if (options.configured)
    options.configured = fs::path(model::expand_user_vars(options.configured->string()));
  else
    options.config_root = configured_cache_root();
  if (!options.warn) options.warn = library_warning;
  return options;
}

cache::CacheSettings cache_settings(cache::CacheSettings settings) {
  if (settings.root)
    settings.root = fs::path(model::expand_user_vars(settings.root->string()));
  else if (!settings.config_root)
    settings.config_root = configured_cache_root;
  if (!settings.warn) settings.warn = library_warning;
  return settings;
}

cache::CodeCache& process_code_cache() {
  static auto* c = new cache::CodeCache(cache_settings());
  return *c;
}

}  // namespace dynlib::core
