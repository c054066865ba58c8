// The output files of a command are checked before it runs (a typo must not cost a long run): each path
// can be written (util::check_output_path) and no two options name the same file.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace dynlib::cli {

// `outputs` holds {option, path} pairs such as {"--out", "x.csv"}. Throws UsageError naming the option,
// the path and the reason.
void check_output_paths(const std::vector<std::pair<std::string, std::string>>& outputs);

// Writes to a full disk or past a file size limit (ulimit -f) must fail with EFBIG and an error message,
// not kill the process with SIGXFSZ before it can report.
void ignore_file_size_signal();

}  // namespace dynlib::cli
