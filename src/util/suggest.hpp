// "Did you mean" suggestions: the one place that decides which known name is close to a mistyped one, so
// the model front end, the library and the CLI suggest the same way.
#pragma once

#include <dynlib/export.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace dynlib::util {

// The name in `names` most similar to `word`, or "" when none is similar enough. Similarity is the
// ratio 2*M/(len(word)+len(name)) of matching characters (longest common blocks, as Python's difflib);
// names below 0.6 are not suggested; ties go to the later name in sort order.
DYNLIB_INTERNAL_API std::string closest_name(std::string_view word, const std::vector<std::string>& names);

// " (did you mean 'x'?)" when closest_name() finds one, else "".
DYNLIB_INTERNAL_API std::string did_you_mean(std::string_view word, const std::vector<std::string>& names);

}  // namespace dynlib::util
