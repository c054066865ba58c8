// One replaceable sink for every warning the library emits (cache fallbacks, deprecated keys, ...).
// Default: the text plus a newline on stderr, prefixed with "dynlib: warning: ".
#pragma once
#include <dynlib/export.hpp>
#include <functional>
#include <string_view>

namespace dynlib {

using WarningHandler = std::function<void(std::string_view)>;

// Replace the sink (thread-safe). An empty handler restores the default (stderr).
DYNLIB_API void set_warning_handler(WarningHandler handler);

// Emit one warning through the current sink.
DYNLIB_API void warn(std::string_view message);

}  // namespace dynlib
