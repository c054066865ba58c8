// Reading a snapshot file's text (docs/simulation.md "Snapshot files") into a Session, checking every
// field before anything reaches a Sim. A snapshot may come from anywhere: a hand-edited lag_head or a
// wrong workspace size would otherwise make the runner write outside its buffers. Errors name the file,
// the line and the field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/sim_impl.hpp"
#include "steppers_catalogue/stepper_registry.hpp"

namespace dynlib {

// Snapshot files are small (a few KiB, a few MiB for a model with long lag rings); a larger file is
// refused before it is read.
inline constexpr std::size_t kMaxSnapshotBytes = std::size_t{64} << 20;

inline constexpr const char* kSnapshotMagic = "dynlib-snapshot v1";

// What the loading Sim requires of a snapshot: its pins, names and the sizes of every array.
struct SnapshotExpect {
  std::string model_hash, stepper, dtype;
  std::vector<std::string> state_names, param_names;
  std::vector<std::int32_t> lag_depths;  // one per lag slot; the slot's head must be in [0, depth)
  std::size_t lag_ring_size = 0, n_aux = 0, ws_size = 0, iws_size = 0, config_size = 0, n_events = 0;
  std::vector<kernels::ConfigField> config;  // the stepper's settings (enum codes, integers)
};

SnapshotExpect snapshot_expect(const Sim::Impl& impl);

// The session stored in `text`, read from `file` (named in errors). Throws ArgumentError when a field is
// missing, repeated, unknown, malformed, out of range, or does not fit `want`.
Session parse_snapshot(std::string_view text, const std::string& file, const SnapshotExpect& want);

}  // namespace dynlib
