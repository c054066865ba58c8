// Snapshot files: a line-oriented text format (docs/simulation.md "Snapshot files"), every real
// written as a C99 hex float so a load is bit-exact. Written atomically (util/output_file.hpp).
// Loading reads a regular file of bounded size and checks every field (core/snapshot_format.hpp).
#include <cstdio>
#include <dynlib/errors.hpp>
#include <dynlib/sim.hpp>
#include <sstream>
#include <string>

#include "core/sim_impl.hpp"
#include "core/snapshot_format.hpp"
#include "util/output_file.hpp"
#include "util/regular_file.hpp"

#ifndef DYNLIB_VERSION_STRING
#define DYNLIB_VERSION_STRING "0.0.0"
#endif

namespace dynlib {
namespace {

std::string hexf(double v) {
  char b[48];
  std::snprintf(b, sizeof b, "%a", v);
  return b;
}

template <class T>
std::string vec_line(const char* key, const std::vector<T>& v) {
  std::string s = std::string(key) + " " + std::to_string(v.size());
  for (const auto& x : v) {
    s += ' ';
    if constexpr (std::is_same_v<T, double>)
      s += hexf(x);
    else
      s += std::to_string(x);
  }
  return s;
}

std::string names_line(const char* key, const std::vector<std::string>& v) {
  std::string s = std::string(key) + " " + std::to_string(v.size());
  for (const auto& x : v) s += " " + x;
  return s;
}

// Free text on one line: a control character (a newline in a description) would break the format.
std::string one_line(std::string v) {
  for (auto& c : v)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return v;
}

}  // namespace

void Sim::save_snapshot(const std::filesystem::path& path, std::string_view snapshot) const {
  const std::string text = snapshot_text(snapshot);
  try {
    util::write_output_file(path, text);
  } catch (const util::FileWriteError& e) {
    throw ArgumentError("Cannot write snapshot '" + path.string() + "': " + e.reason());
  }
}

std::string Sim::snapshot_text(std::string_view snapshot) const {
  const auto& I = *impl_;
  const Session* s = &I.s;
  std::string name = "current", description;
  if (!snapshot.empty()) {
    auto it = I.snapshots.find(snapshot);
    if (it == I.snapshots.end()) throw ArgumentError("Unknown snapshot '" + std::string(snapshot) + "'");
    s = &it->second.session;
    name = it->first;
    description = it->second.description;
  }
  const auto& m = I.m();
  std::ostringstream o;
  o << kSnapshotMagic << "\n";
  o << "name " << one_line(name) << "\n";
  o << "description " << one_line(description) << "\n";
  o << "model_hash " << m.hash.hex() << "\n";
  o << "model_source " << one_line(m.source) << "\n";
  o << "stepper " << I.fm->stepper() << "\n";
  o << "dtype " << I.fm->dtype_name() << "\n";
  o << "dynlib_version " << DYNLIB_VERSION_STRING << "\n";
  o << names_line("state_names", m.states) << "\n";
  o << names_line("param_names", m.params) << "\n";
  o << "t " << hexf(s->t) << "\n";
  o << "dt " << hexf(s->dt) << "\n";
  o << "step " << s->step << "\n";
  o << "status " << static_cast<int>(s->status) << "\n";
  o << "has_workspace " << (s->has_workspace ? 1 : 0) << "\n";
  o << "t_base " << hexf(s->t_base) << "\n";
  o << "step_base " << s->step_base << "\n";
  o << "clock_dt " << hexf(s->clock_dt) << "\n";
  o << "time_shift " << hexf(s->time_shift) << "\n";
  o << "nominal_dt " << hexf(s->nominal_dt) << "\n";
  o << vec_line("y", s->y) << "\n";
  o << vec_line("y_prev", s->y_prev) << "\n";
  o << vec_line("params", s->params) << "\n";
  o << vec_line("lag_ring", s->lag_ring) << "\n";
  o << vec_line("lag_head", s->lag_head) << "\n";
  o << vec_line("aux", s->aux) << "\n";
  o << vec_line("ws", s->ws) << "\n";
  o << vec_line("iws", s->iws) << "\n";
  o << vec_line("event_counts", s->event_counts) << "\n";
  o << vec_line("stepper_config", s->stepper_config) << "\n";
  o << "end\n";
  return o.str();
}

void Sim::load_snapshot(const std::filesystem::path& path) {
  std::string text;
  try {
    text = util::read_regular_file(path, kMaxSnapshotBytes);
  } catch (const util::FileReadError& e) {
    throw ArgumentError("Cannot read snapshot file '" + path.string() + "': " + e.reason());
  }
  load_snapshot_text(text, path.string());
}

void Sim::load_snapshot_text(std::string_view text, std::string_view origin) {
  auto& I = *impl_;
  if (text.size() > kMaxSnapshotBytes)
    throw ArgumentError("Cannot read snapshot '" + std::string(origin) + "': " + std::to_string(text.size()) +
                        " bytes, more than the limit of " + std::to_string(kMaxSnapshotBytes));
  // Every field is checked before the session is replaced: a failed load leaves the Sim as it was.
  Session s = parse_snapshot(text, std::string(origin), snapshot_expect(I));
  I.s = std::move(s);
  I.results.reset();
  I.rec_states.clear();
  I.rec_aux.clear();
}

}  // namespace dynlib
