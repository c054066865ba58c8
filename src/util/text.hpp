// Small text helpers shared by the model front end, the library and the CLI: trimming, joining names
// for messages, and printing doubles so that they read back exactly.
#pragma once

#include <dynlib/export.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace dynlib::util {

// `s` without leading and trailing whitespace (space, tab, CR, LF, FF, VT).
DYNLIB_INTERNAL_API std::string trim(std::string_view s);

// Names joined by `sep`: join({"a", "b"}, ", ") == "a, b".
DYNLIB_INTERNAL_API std::string join(const std::vector<std::string>& names, std::string_view sep);

// Names quoted for messages, Python style: ['a', 'b'].
DYNLIB_INTERNAL_API std::string quoted_list(const std::vector<std::string>& names);

// The shortest decimal text that reads back as the same double: 0.3 (not 0.30000000000000004), 1e-06, 2,
// -1.5, inf, -inf, nan.
DYNLIB_INTERNAL_API std::string shortest_double(double v);

}  // namespace dynlib::util
