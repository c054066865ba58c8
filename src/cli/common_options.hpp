// The options that `run`, `sweep` and `lyapunov` share (model, stepper, horizon, values, settings, JIT),
// parsed and range-checked in one place so the three commands accept the same words the same way.
#pragma once
#include <cstdint>
#include <dynlib/ir.hpp>
#include <dynlib/options.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli/args.hpp"

namespace dynlib::cli {

struct CommonOptions {
  BuildOptions build;  // --stepper, --jit, --disk-cache, --mod
  std::optional<double> T, dt, t0, transient;
  std::optional<std::int64_t> N, max_steps;
  Assignments states, params;         // --state, --param (params: not for sweep, whose --param is an axis)
  std::optional<std::string> preset;  // --preset
  StepperSettings settings;           // --set
  bool quiet = false;                 // --quiet: no progress display
};

// `own` plus the shared value options / flags, for parse_args().
std::set<std::string> with_common_values(std::set<std::string> own);
std::set<std::string> with_common_flags(std::set<std::string> own);

// Reads and checks the shared options (UsageError naming the option and what is allowed).
// `params_are_values`: --param is name=value (false for sweep).
CommonOptions read_common(const ParsedArgs& p, bool params_are_values = true);

// Help text of the shared options, for the commands' --help.
extern const char* const kCommonOptionsHelp;

// The presets of a model applied to `params`/`states` by name (sweep has no Sim to apply them); throws
// ArgumentError with a suggestion for an unknown preset.
void expand_preset(const std::string& preset, const ir::ModelIR& m, Assignments& states, Assignments& params);

// run's --record-vars a,b,aux.E (states and aux by name) and --aux (add every aux); nullopt = the default
// (all states, no aux).
std::optional<std::vector<std::string>> read_record_vars(const ParsedArgs& p, const ir::ModelIR& m);

// Output at chosen times (run, sweep): --save-at START:STOP:COUNT (COUNT evenly spaced times, both ends
// included) or --save-at-file FILE (one time per line; blank lines and #-comments skipped); nullopt when
// neither is given. UsageError naming the option (and the file and line) for a bad value. Sim::run checks
// the times against the run (non-decreasing, within [t0, T]).
std::optional<std::vector<double>> read_save_at(const ParsedArgs& p);
// --tstops a,b,c (times adaptive steppers land on exactly); nullopt when not given.
std::optional<std::vector<double>> read_tstops(const ParsedArgs& p);

}  // namespace dynlib::cli
