// Results and EventLog accessors.
#include <algorithm>
#include <dynlib/errors.hpp>
#include <dynlib/results.hpp>

#include "core/sim_impl.hpp"

namespace dynlib {

double EventRecord::operator[](std::string_view field) const {
  for (const auto& [k, v] : values)
    if (k == field) return v;
  if (field == "t") return t;
  std::vector<std::string> names;
  for (const auto& kv : values) names.push_back(kv.first);
  throw ArgumentError("Event '" + name + "' does not log '" + std::string(field) +
                      "'. Logged fields: " + join_names(names));
}

bool EventRecord::has(std::string_view field) const noexcept {
  for (const auto& kv : values)
    if (kv.first == field) return true;
  return false;
}

std::size_t EventLog::count(std::string_view name) const noexcept {
  return static_cast<std::size_t>(
      std::count_if(records_.begin(), records_.end(), [&](const EventRecord& r) { return r.name == name; }));
}

std::vector<EventRecord> EventLog::of(std::string_view name) const {
  std::vector<EventRecord> out;
  for (const auto& r : records_)
    if (r.name == name) out.push_back(r);
  return out;
}

std::vector<std::string> EventLog::names() const {
  std::vector<std::string> out;
  for (const auto& r : records_)
    if (std::find(out.begin(), out.end(), r.name) == out.end()) out.push_back(r.name);
  return out;
}

Results::Results(std::vector<std::string> state_names, std::vector<std::string> aux_names)
    : state_names_(std::move(state_names)),
      aux_names_(std::move(aux_names)),
      cols_(state_names_.size() + aux_names_.size()) {}

std::span<const double> Results::operator[](std::string_view name) const {
  int i = index_of(state_names_, name);
  if (i >= 0) return cols_[static_cast<std::size_t>(i)];
  std::string_view a = name;
  if (a.starts_with("aux."))
    a.remove_prefix(4);
  else if (a.starts_with("aux:"))
    a.remove_prefix(4);
  int k = index_of(aux_names_, a);
  if (k >= 0) return cols_[state_names_.size() + static_cast<std::size_t>(k)];
  std::vector<std::string> all = state_names_;
  all.insert(all.end(), aux_names_.begin(), aux_names_.end());
  std::string s = suggest(name, all);
  // Aux variables are recorded only when asked for, so an aux of the model may simply not be here.
  const std::string bare(a);
  throw ArgumentError(
      "Unknown variable: '" + std::string(name) + "'" + (s.empty() ? "" : " (did you mean '" + s + "'?)") +
      ". Available states: " + join_names(state_names_) + ". Available aux: " + join_names(aux_names_) + "." +
      (s.empty() || a != name ? " If '" + bare +
                                    "' is an aux variable, record it: run with "
                                    "record_vars = {..., \"aux." +
                                    bare +
                                    "\"} (CLI: --record-vars "
                                    "<states>,aux." +
                                    bare + " or --aux)."
                              : ""));
}

bool Results::has(std::string_view name) const noexcept {
  if (index_of(state_names_, name) >= 0) return true;
  if (name.starts_with("aux.") || name.starts_with("aux:")) name.remove_prefix(4);
  return index_of(aux_names_, name) >= 0;
}

std::int64_t Results::event_count(std::string_view name) const {
  const int i = index_of(event_names_, name);
  if (i >= 0) return event_counts_[static_cast<std::size_t>(i)];
  const std::string s = suggest(name, event_names_);
  throw ArgumentError("Unknown event '" + std::string(name) + "'" +
                      (s.empty() ? "" : " (did you mean '" + s + "'?)") +
                      ". Events of the model: " + join_names(event_names_));
}

const Segment& Results::segment(std::string_view name) const {
  for (const auto& s : segments_)
    if (s.name == name) return s;
  std::vector<std::string> names;
  for (const auto& s : segments_) names.push_back(s.name);
  throw ArgumentError("Unknown segment '" + std::string(name) + "'. Segments: " + join_names(names));
}

void Results::append_record(double t, std::int64_t step, const double* states, const double* aux) {
  t_.push_back(t);
  step_.push_back(step);
  const std::size_t ns = state_names_.size();
  for (std::size_t k = 0; k < ns; ++k) cols_[k].push_back(states[k]);
  for (std::size_t k = 0; k < aux_names_.size(); ++k) cols_[ns + k].push_back(aux[k]);
}

}  // namespace dynlib
