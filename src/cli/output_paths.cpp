#include "cli/output_paths.hpp"

#include <csignal>

#include "cli/args.hpp"
#include "util/output_file.hpp"

namespace dynlib::cli {

void check_output_paths(const std::vector<std::pair<std::string, std::string>>& outputs) {
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const auto& [option, path] = outputs[i];
    try {
      util::check_output_path(path);
    } catch (const util::FileWriteError& e) {
      throw UsageError(option + " '" + path + "': " + e.reason());
    }
    for (std::size_t j = 0; j < i; ++j)
      if (util::same_output_path(outputs[j].second, path))
        throw UsageError(option + " '" + path + "' names the same file as " + outputs[j].first + " '" +
                         outputs[j].second + "'; give each output its own file");
  }
}

void ignore_file_size_signal() { std::signal(SIGXFSZ, SIG_IGN); }

}  // namespace dynlib::cli
