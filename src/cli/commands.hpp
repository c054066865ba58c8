// Subcommands of the `dynlib` command.
//
// HOW TO ADD A SUBCOMMAND (e.g. `dynlib run ...`):
//   1. Write `int cmd_run(const std::vector<std::string>& args)` in src/cli/cmd_run.cpp (namespace
//   dynlib::cli).
//      `args` are the words after the subcommand name. Return the process exit code (0 ok, 1 failure,
//      2 usage error). Throwing UsageError prints "dynlib <name>: error: <what>" and exits 2; any DynlibError
//      that escapes prints its what() on stderr and exits 1 (main.cpp does both), so commands may let them
//      fly.
//   2. Declare it below.
//   3. Add one row {"run", "one-line summary", &cmd_run} to kCommands in src/cli/main.cpp.
//   4. Add the file with your own line in src/cli/CMakeLists.txt: target_sources(dynlib_cli PRIVATE
//   cmd_run.cpp) src/cli/args.hpp has a tiny option parser (parse_args).
#pragma once
#include <dynlib/ir.hpp>
#include <string>
#include <vector>

namespace dynlib::cli {

using CommandFn = int (*)(const std::vector<std::string>& args);

struct Command {
  const char* name;
  const char* summary;
  CommandFn fn;
};

// dynlib model validate|show|list ... (src/cli/cmd_model.cpp)
int cmd_model(const std::vector<std::string>& args);
// dynlib model export-sources URI DIR ... (src/cli/cmd_model_export.cpp), dispatched by cmd_model.
int cmd_model_export_sources(const std::vector<std::string>& args);

// dynlib run URI ... (src/cli/cmd_run.cpp)
int cmd_run(const std::vector<std::string>& args);
// dynlib steppers list|show ... (src/cli/cmd_steppers.cpp)
int cmd_steppers(const std::vector<std::string>& args);
// A Jacobian source (FullModel::jacobian_source) in words for `m`, for `run` and `steppers show`.
std::string jacobian_text(const std::string& source, const ir::ModelIR& m);
// How stepper `stepper` solves its linear systems on `m` ("dense LU", "band LU (...)", "sparse LU (...)"),
// "" for a stepper without a Jacobian; for `run` and `steppers show`.
std::string linear_solver_text(const std::string& stepper, const ir::ModelIR& m);
// dynlib cache path|list|clear|verify (src/cli/cmd_cache.cpp)
int cmd_cache(const std::vector<std::string>& args);
// dynlib lyapunov URI ... (src/cli/cmd_lyapunov.cpp)
int cmd_lyapunov(const std::vector<std::string>& args);
// dynlib sweep URI --param ... --out file.csv (src/cli/cmd_sweep.cpp)
int cmd_sweep(const std::vector<std::string>& args);
// dynlib plot CSV --out file.png|.svg ... (src/cli/cmd_plot.cpp): runs the Python package's plot command.
int cmd_plot(const std::vector<std::string>& args);
// dynlib sweep-merge --out FILE SHARD... (src/cli/cmd_sweep_merge.cpp)
int cmd_sweep_merge(const std::vector<std::string>& args);

}  // namespace dynlib::cli
