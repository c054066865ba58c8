// Results: observer outputs and traces (RunOptions::observers, docs/analysis.md).
#include <dynlib/errors.hpp>
#include <dynlib/results.hpp>
#include <string>

namespace dynlib {

const ObserverOutput& Results::observer(std::string_view key) const {
  for (const auto& o : observers_)
    if (o.key == key) return o;
  std::string names;
  for (const auto& o : observers_) names += (names.empty() ? "" : ", ") + o.key;
  throw ArgumentError("No observer '" + std::string(key) +
                      "' in these results (observers: " + (names.empty() ? "none" : names) + ")");
}

bool Results::has_observer(std::string_view key) const noexcept {
  for (const auto& o : observers_)
    if (o.key == key) return true;
  return false;
}

std::span<const double> Results::trace(std::string_view column) const {
  const auto dot = column.find('.');
  if (dot != std::string_view::npos) return observer(column.substr(0, dot)).trace(column.substr(dot + 1));
  for (const auto& o : observers_)
    for (std::size_t i = 0; i < o.trace_names.size(); ++i)
      if (o.trace_names[i] == column) return o.trace_cols[i];
  std::string names;
  for (const auto& o : observers_)
    for (const auto& n : o.trace_names) names += (names.empty() ? "" : ", ") + o.key + "." + n;
  throw ArgumentError("No trace column '" + std::string(column) +
                      "' (columns: " + (names.empty() ? "none" : names) + ")");
}

}  // namespace dynlib
