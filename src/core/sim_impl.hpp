// Internal state of dynlib::Sim (shared by src/core/sim*.cpp and snapshot*.cpp).
#pragma once
#include <atomic>
#include <cstdint>
#include <dynlib/sim.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/compiled_model.hpp"
#include "util/suggest.hpp"
#include "util/text.hpp"

namespace dynlib {

namespace run_detail {
struct RunPlan;
struct ChunkSpec;
struct Chunk;
}  // namespace run_detail

// Everything a resume needs: the session proper (state, workspace, lag rings) plus our fixed-step clock.
struct Session {
  double t = 0.0;
  std::vector<double> y, y_prev, params;
  double dt = 0.0;        // next step (adaptive: last dt_next; fixed: nominal)
  std::int64_t step = 0;  // committed steps since the recording began
  std::vector<double> lag_ring;
  std::vector<std::int64_t> lag_head;
  std::vector<double> aux;
  std::vector<double> ws;
  std::vector<std::int64_t> iws;
  std::vector<std::int64_t> event_counts;  // firings per event since the recording began (logged or not)
  bool has_workspace = false;              // ws/iws/lag hold a live run's state (resume possible)
  std::vector<double> stepper_config;
  Status status = Status::DONE;
  // fixed-step / map clock (runner_abi.hpp)
  double t_base = 0.0;
  std::int64_t step_base = 0;
  double clock_dt = 0.0;
  // Sim-level
  double time_shift = 0.0;
  double nominal_dt = 0.0;
  // save_at times not recorded yet and the tstops, in run time (the session clock minus time_shift); a
  // resume continues them. Not kept in snapshots.
  std::vector<double> save_at_left, tstops;
  bool save_at_mode = false;  // the last run recorded at save_at times (a resume continues so)
};

struct StoredSnapshot {
  Session session;
  std::string description;
};

struct Sim::Impl {
  FullModelPtr fm;
  const kernels::CompiledModel* cm = nullptr;
  Session s;
  SimConfig cfg;
  std::map<std::string, StoredSnapshot, std::less<>> snapshots;
  std::vector<ir::Preset> extra_presets;  // added at runtime (by name; replace inline ones)
  // Shared so that callers can keep a run's results (Sim::shared_results) while the session goes on:
  // a run that would change results someone else holds works on a copy instead (copy on write).
  std::shared_ptr<Results> results;
  std::vector<std::int64_t> rec_states, rec_aux;  // recording selection of the current results
  int next_segment_id = 0;
  bool ran = false;
  std::atomic<std::int32_t> user_break{0};

  const ir::ModelIR& m() const { return fm->model(); }
  Session fresh_session() const;
  std::vector<double> build_stepper_config(const StepperSettings& kw) const;
  // Pieces of Sim::run (sim_run_parts.hpp).
  run_detail::RunPlan plan_run(const RunOptions& o) const;
  Results new_results(const run_detail::RunPlan& plan) const;  // empty, with the plan's recorded names
  void stitch_chunk(Results& R, int& next_segment_id, const Session& s, const RunOptions& o,
                    const run_detail::RunPlan& plan, const run_detail::ChunkSpec& spec,
                    const run_detail::Chunk& c) const;
  std::string pins_mismatch(const std::string& hash, const std::string& stepper, const std::string& dtype,
                            std::size_t n_state, std::size_t n_params) const;
};

// Did-you-mean suggestions and name lists for messages: the shared helpers of src/util.
inline std::string suggest(std::string_view name, const std::vector<std::string>& choices) {
  return util::closest_name(name, choices);
}
inline std::string join_names(const std::vector<std::string>& names) { return util::quoted_list(names); }
int index_of(const std::vector<std::string>& v, std::string_view name);

}  // namespace dynlib
