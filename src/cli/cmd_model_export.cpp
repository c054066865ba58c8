// dynlib model export-sources URI DIR [--stepper S] [--mod MOD_URI]...: compile the model with the JIT and
// write the generated LLVM IR of every component plus model_info.txt into DIR (docs/jit.md).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <dynlib/errors.hpp>
#include <dynlib/full_model.hpp>
#include <filesystem>
#include <string>
#include <system_error>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "util/output_file.hpp"

namespace dynlib::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kExportUsage =
    "usage: dynlib model export-sources URI DIR [--stepper S] [--mod MOD_URI]...\n"
    "  Compiles the model with the JIT (needs the JIT component) and writes rhs.ll, events.ll, aux.ll,\n"
    "  jacobian.ll, stepper.ll, runner.ll, guards.ll (the unoptimised LLVM IR; inverse.ll for maps with\n"
    "  an inverse) and model_info.txt into DIR, created if missing.\n";

constexpr const char* kPrefix = "dynlib model export-sources: ";

// Fails before the (slow) compile, and without creating anything, when DIR cannot be created or written:
// the deepest existing ancestor of DIR must be a writable directory.
void check_writable(const fs::path& dir) {
  fs::path p = fs::absolute(dir);
  std::error_code ec;
  while (!fs::exists(p, ec) && p.has_parent_path() && p.parent_path() != p) p = p.parent_path();
  if (!fs::is_directory(p, ec)) {
    throw DynlibError(std::string(kPrefix) + "cannot create directory '" + dir.string() + "': '" +
                      p.string() + "' is not a directory");
  }
  if (::access(p.c_str(), W_OK | X_OK) != 0) {
    const std::error_code why(errno, std::generic_category());
    throw DynlibError(std::string(kPrefix) + "cannot write to directory '" + p.string() + "' (for '" +
                      dir.string() + "'): " + why.message());
  }
  // The files the export writes: an existing one that is not a regular file (a FIFO would block the
  // export, a device would be written to) is refused before anything is compiled.
  if (!fs::is_directory(dir, ec)) return;
  for (const char* name : {"rhs.ll", "events.ll", "aux.ll", "jacobian.ll", "stepper.ll", "runner.ll",
                           "guards.ll", "inverse.ll", "model_info.txt"}) {
    try {
      util::check_output_path(dir / name);
    } catch (const util::FileWriteError& e) {
      throw DynlibError(std::string(kPrefix) + "cannot write '" + e.path().string() + "': " + e.reason());
    }
  }
}

}  // namespace

int cmd_model_export_sources(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::fputs(kExportUsage, stdout);
      return 0;
    }
  }
  const ParsedArgs a = parse_args(args, {"stepper", "mod"});
  if (a.positional.size() != 2)
    throw UsageError("expected a model URI and a directory\n" + std::string(kExportUsage));
  const fs::path dir = a.positional[1];
  check_writable(dir);

  BuildOptions bo;
  bo.stepper = a.get("stepper").value_or("");
  bo.jit = true;  // the sources are the JIT's generated code; the disk cache would only add a store
  bo.mods = a.all("mod");
  FullModelPtr fm;
  try {
    fm = build(a.positional[0], bo);
  } catch (const JITUnavailableError& e) {
    // Exporting needs generated code: say so, then the library's text (where it looked, how to get it).
    throw JITUnavailableError(std::string(kPrefix) + "needs the JIT component. " + e.what());
  }

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw DynlibError(std::string(kPrefix) + "cannot create directory '" + dir.string() +
                      "': " + ec.message());
  for (const auto& [name, path] : fm->export_sources(dir)) {
    std::printf("wrote %s (%llu bytes)\n", path.string().c_str(),
                static_cast<unsigned long long>(fs::file_size(path)));
  }
  return 0;
}

}  // namespace dynlib::cli
