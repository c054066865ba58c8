// export_sources: the LLVM IR the JIT generated for a model, written to files. Builds
// builtin://ode/vanderpol (rk4) with jit = true, exports every component to a directory and lists the
// files with their sizes and the first `define` line of runner.ll (the whole simulation loop).
//
//   export_sources [DIR]     DIR defaults to a fresh directory under the system temp directory
//
// The CLI does the same: `dynlib model export-sources URI DIR [--stepper S]`.
#include <stdlib.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <dynlib/dynlib.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace {

namespace fs = std::filesystem;

fs::path fresh_temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "dynlib-export-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw fs::filesystem_error("mkdtemp", tmpl, std::error_code(errno, std::generic_category()));
  return tmpl;
}

std::string first_define(const fs::path& ll) {
  std::ifstream in(ll);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("define ", 0) == 0) return line;
  }
  return "(no define line)";
}

}  // namespace

int main(int argc, char** argv) {
  dynlib::FullModelPtr fm;
  try {
    fm = dynlib::build("builtin://ode/vanderpol", {.stepper = "rk4", .jit = true});
  } catch (
      const dynlib::JITUnavailableError& e) {  // no generated code to export, and never a silent fallback
    std::printf("JIT component not available, nothing to export:\n  %s\n", e.what());
    return 0;
  }
  const fs::path dir = argc > 1 ? fs::path(argv[1]) : fresh_temp_dir();
  const auto files = fm->export_sources(dir);
  std::printf("exported %zu files of %s (stepper %s) to %s\n", files.size(), fm->model().source.c_str(),
              fm->stepper().c_str(), dir.string().c_str());
  for (const auto& [name, path] : files) {
    std::printf("  %-18s %8ju bytes\n", path.filename().string().c_str(),
                static_cast<std::uintmax_t>(fs::file_size(path)));
  }
  if (auto it = files.find("runner"); it != files.end())
    std::printf("runner.ll: %s\n", first_define(it->second).c_str());
  return 0;
}
