// Sim: a simulation session over a FullModel (state, parameters, time, step count, stepper
// settings, snapshots, presets) and the stitched results of its runs.
#pragma once
#include <atomic>
#include <cstdint>
#include <dynlib/export.hpp>
#include <dynlib/full_model.hpp>
#include <dynlib/options.hpp>
#include <dynlib/results.hpp>
#include <dynlib/status.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dynlib {

// What Sim::load_preset does with a preset whose name is already in the session.
enum class PresetConflict { error, keep, replace };

struct SnapshotInfo {
  std::string name, description;
  double t = 0.0;
  std::int64_t step = 0;
};

class DYNLIB_API Sim {
 public:
  explicit Sim(FullModelPtr model);
  Sim(Sim&&) noexcept;
  Sim& operator=(Sim&&) noexcept;
  ~Sim();

  // Runs the model (docs/simulation.md). Returns DONE or EARLY_EXIT (USER_BREAK when the break flag
  // was set: the partial run is kept). NAN_DETECTED/STEPFAIL raise SimulationError and leave the
  // session and results untouched. Bad arguments raise ArgumentError.
  Status run(const RunOptions& options = {});

  [[nodiscard]] bool has_results() const noexcept;
  [[nodiscard]] const Results& results() const;  // ArgumentError if there is no run yet
  // The same results, kept alive by the pointer: later runs, reset() and assign() never change or free
  // what it points to (they work on a copy when a caller still holds it). For bindings and threads.
  [[nodiscard]] std::shared_ptr<const Results> shared_results() const;

  // Sets states and parameters by name (states first, then params). Unknown names -> ArgumentError
  // with a suggestion. clear_history drops results and segments.
  void assign(const Assignments& values, bool clear_history = false);
  void assign(std::string_view name, double value) { assign(Assignments{{std::string(name), value}}); }

  // Presets: inline [presets.*] of the model, plus added ones.
  [[nodiscard]] std::vector<std::string> list_presets() const;
  void apply_preset(std::string_view name);  // ArgumentError naming the presets if unknown
  void add_preset(std::string name, Assignments states, Assignments params, bool overwrite = false);
  // Preset files (docs/simulation.md): loads the presets whose names match the glob `pattern` (checked
  // against the model; ArgumentError naming the file, line and key otherwise) and returns how many were
  // added. A name already in the session: error (nothing is loaded), keep the session's, or replace it.
  std::size_t load_preset(std::string_view pattern, const std::filesystem::path& path,
                          PresetConflict on_conflict = PresetConflict::error);
  // Writes the preset `name` into a preset file (created if missing, other presets kept), atomically.
  // ArgumentError if the file already has that name and !overwrite.
  void save_preset(std::string_view name, const std::filesystem::path& path, bool overwrite = false) const;

  // Persistent run defaults (explicit run() argument > config > model [sim] > built-in).
  void config(const SimConfig& cfg);
  // Current stepper settings (name, value) in the stepper's field order.
  [[nodiscard]] Assignments stepper_config() const;

  // In-memory snapshots of the session. "initial" is made by the first run from its seed.
  void create_snapshot(std::string name, std::string description = "");
  [[nodiscard]] std::vector<SnapshotInfo> list_snapshots() const;
  // Restores a snapshot and clears results (ArgumentError if unknown).
  void reset(std::string_view name = "initial");

  // Snapshot files (text format, docs/simulation.md), written atomically (temp file + rename).
  // save: the current session, or the named in-memory snapshot. load: checks the pins (model hash,
  // stepper, dtype, sizes) -> ArgumentError on mismatch; replaces the session and clears results.
  void save_snapshot(const std::filesystem::path& path, std::string_view snapshot = {}) const;
  void load_snapshot(const std::filesystem::path& path);
  // The same text format in memory, for other containers (the Python package's .npz files): the text
  // save_snapshot would write, and a load from such text (`origin` names it in messages), with the same
  // checks as load_snapshot.
  [[nodiscard]] std::string snapshot_text(std::string_view snapshot = {}) const;
  void load_snapshot_text(std::string_view text, std::string_view origin);

  // Session.
  [[nodiscard]] double t() const noexcept;
  [[nodiscard]] std::int64_t step_count() const noexcept;
  [[nodiscard]] double dt() const noexcept;      // the next step size (last dt_next), or the nominal dt
  [[nodiscard]] Status status() const noexcept;  // status of the last run
  [[nodiscard]] std::vector<double> state_vector() const;
  [[nodiscard]] std::vector<double> param_vector() const;
  [[nodiscard]] double state(std::string_view name) const;  // ArgumentError with suggestion if unknown
  [[nodiscard]] double param(std::string_view name) const;

  // Another thread may set this to nonzero: the running loop stops after the current step with
  // USER_BREAK (run() then returns USER_BREAK and keeps the partial run). Cleared by each run().
  [[nodiscard]] std::atomic<std::int32_t>& user_break() noexcept;
  void request_break() noexcept { user_break().store(1); }

  [[nodiscard]] const FullModel& model() const noexcept;
  [[nodiscard]] const FullModelPtr& model_ptr() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// build() + Sim.
[[nodiscard]] DYNLIB_API Sim setup(std::string_view uri, const BuildOptions& options = {});
[[nodiscard]] DYNLIB_API Sim setup(ModelPtr model, const BuildOptions& options = {});

}  // namespace dynlib
