// What the library hands the persistent cache (src/cache), which knows neither the configuration file
// nor the warning sink: the cache root named by DYNLIB_CONFIG and dynlib::warn. Every caller of the cache
// in the library (the JIT component, `dynlib cache`) goes through these.
#pragma once
#include <dynlib/export.hpp>
#include <filesystem>
#include <optional>

#include "cache/cache_root.hpp"
#include "cache/code_cache.hpp"

namespace dynlib::core {

// The root named by DYNLIB_CONFIG: top-level `cache_root`, else `[cache] cache_root`, else `[cache] root`
// ($VARS and ~ expanded). nullopt if none (or empty). Throws ConfigError for a malformed config.
std::optional<std::filesystem::path> configured_cache_root();

// `options` completed with the library's choices: the configured root (read only when
// options.configured is not set; an explicit root has its $VARS and ~ expanded) and dynlib::warn
// (unless options.warn is set). Throws ConfigError for a malformed config.
DYNLIB_INTERNAL_API cache::RootOptions cache_root_options(cache::RootOptions options = {});

// `settings` completed likewise; the configuration is read on the cache's first disk use.
DYNLIB_INTERNAL_API cache::CacheSettings cache_settings(cache::CacheSettings settings = {});

// The process-wide cache of compiled code (cache_settings(): root from DYNLIB_CONFIG / XDG, resolved on
// first disk use). Never destroyed: usable from other static destructors.
DYNLIB_INTERNAL_API cache::CodeCache& process_code_cache();

}  // namespace dynlib::core
