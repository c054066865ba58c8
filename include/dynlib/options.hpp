// Options of build()/setup() and Sim::run()/Sim::config(). Plain aggregates: use designated
// initializers in declaration order, e.g. `sim.run({.T = 20.0, .dt = 0.01})`.
#pragma once
#include <cstdint>
#include <dynlib/observers.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace dynlib {

// name -> value pairs (states, params or stepper settings), applied in order.
using Assignments = std::vector<std::pair<std::string, double>>;

// The value of one stepper setting: a number, or the name of an enumerated setting's value
// ({"jacobian_mode", "external"} is the same as {"jacobian_mode", 1}). `dynlib steppers show NAME` lists
// each stepper's settings with their allowed values.
struct SettingValue {
  double number = 0.0;
  std::string name{};  // non-empty: given by name

  SettingValue() = default;
  template <class T>
  requires std::is_arithmetic_v<T> SettingValue(T v)
      : number(static_cast<double>(v)) {}              // NOLINT: implicit, so {{"atol", 1e-10}} works
  SettingValue(const char* n) : name(n) {}             // NOLINT
  SettingValue(std::string n) : name(std::move(n)) {}  // NOLINT
  bool is_name() const { return !name.empty(); }
};

// Stepper settings by name, applied in order, e.g. {{"atol", 1e-10}, {"jacobian_mode", "external"}}.
// Also built from numeric Assignments, so code that keeps settings as name -> double pairs still works.
struct StepperSettings : std::vector<std::pair<std::string, SettingValue>> {
  using std::vector<std::pair<std::string, SettingValue>>::vector;
  StepperSettings() = default;
  StepperSettings(const Assignments& numbers) {  // NOLINT: implicit on purpose
    for (const auto& [name, value] : numbers) emplace_back(name, SettingValue(value));
  }
};

struct BuildOptions {
  std::string stepper{};  // "" = the model's [sim].stepper, else rk4 (ode) / map (map); aliases accepted
  bool jit = false;       // true: compile with the LLVM JIT (JITUnavailableError if absent; never a fallback)
  bool disk_cache = false;          // with jit: persist object code under the cache root
  std::string dtype{};              // "" = the model's dtype ("float64", "float32", "int64")
  std::vector<std::string> mods{};  // mod URIs applied in order
  std::string cache_token{};        // with jit: any change makes new cache entries (manual invalidation)
  bool jit_tiered = true;  // with jit, when compiling: return with quickly compiled baseline code and
                           // switch to the optimised code when a background compile ends (docs/jit.md)
};

// Every field is optional: unset means "Sim::config() default, then the model's [sim], then built-in".
struct RunOptions {
  std::optional<double> T{};        // ode: absolute end time (default [sim].t_end); map: N = round((T-t0)/dt)
  std::optional<std::int64_t> N{};  // maps only: absolute number of iterations
  std::optional<double> dt{};       // > 0; sticky (later runs reuse it); adaptive: cap on the first step
  std::optional<double> t0{};       // default [sim].t0 (not the session time)
  std::optional<bool> record{};     // default config, then [sim].record (true)
  std::optional<std::int64_t> record_interval{};  // >= 1, default config, then 1
  std::optional<std::vector<std::string>>
      record_vars{};                        // states and aux ("E" or "aux.E"); default: all states, no aux
  std::optional<std::int64_t> max_steps{};  // default config, then [sim].max_steps
  std::optional<std::int64_t> max_record_bytes{};  // records of one run (t, step, states, aux; 8 bytes each);
                                                   // default 4 GiB; reaching it stops with RECORD_LIMIT
  std::optional<std::int64_t> max_events{};        // logged events of one run; default 10^7 (RECORD_LIMIT)
  bool resume = false;                // continue the session (no ic/params/t0/dt/transient/record_vars)
  std::optional<double> transient{};  // warm-up (time for ode, iterations for maps), not recorded
  Assignments ic{};           // initial state overrides by name (start from the session state otherwise)
  Assignments params{};       // parameter overrides by name
  StepperSettings stepper{};  // stepper settings, e.g. {{"atol", 1e-10}}; sticky
  std::optional<std::int64_t> cap_rec{};  // initial record capacity (default 1024, >= 1)
  std::optional<std::int64_t> cap_evt{};  // initial event capacity (default 1, >= 1)
  std::string tag{};                      // segment name ("" = auto "run#<id>")
  std::vector<Observer> observers{};      // analyses run with the recorded run (not the transient);
                                          // fixed-step steppers only; not with resume (docs/analysis.md)
  // ODEs: record exactly at these times (finite, non-decreasing, within [t0, T]; resume: [t, T]) from
  // the stepper's dense output instead of at step boundaries (record_interval cannot be combined with
  // it). A resume without save_at continues the previous schedule. docs/simulation.md "Output at
  // chosen times".
  std::optional<std::vector<double>> save_at{};
  // ODEs with an adaptive stepper: times the steps land on exactly (finite, non-decreasing), e.g. jumps
  // of a forcing. A resume without tstops keeps the previous ones.
  std::optional<std::vector<double>> tstops{};
};

// Persistent run defaults (Sim::config).
struct SimConfig {
  std::optional<double> dt{};
  std::optional<std::int64_t> max_steps{};
  std::optional<bool> record{};
  std::optional<std::int64_t> record_interval{};
  std::optional<std::int64_t> cap_rec{};
  std::optional<std::int64_t> cap_evt{};
  StepperSettings stepper{};  // stepper settings
};

}  // namespace dynlib
