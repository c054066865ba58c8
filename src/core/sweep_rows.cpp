// CSV header and rows of a sweep (sweep_rows.hpp).
#include "core/sweep_rows.hpp"

#include "util/text.hpp"

namespace dynlib::core {
namespace {

// A text cell as CSV (RFC 4180): quoted only if it holds a comma, quote or line break (an event's name
// is a TOML key, which may).
std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + '"';
}

}  // namespace

std::string sweep_csv_header(const SweepColumns& c) {
  std::string f;
  for (const auto& a : c.axis_names) f += a + ',';
  if (c.series()) {
    f += "t";
    for (const auto& n : c.record_names) f += ',' + n;
  } else {
    f += "status,t";
    for (const auto& n : c.state_names) f += ',' + n;
    for (const auto& n : c.observer_cols) f += ',' + n;
    for (const auto& n : c.event_names) f += ",events." + n;
    if (c.stopped_by) f += ",stopped_by";
  }
  return f + '\n';
}

std::string sweep_row_prefix(const std::vector<SweepAxis>& axes, std::size_t i, std::size_t j) {
  std::string prefix = util::shortest_double(axes[0].values[i]) + ",";
  if (axes.size() > 1) prefix += util::shortest_double(axes[1].values[j]) + ",";
  return prefix;
}

void append_point_rows(std::string& f, const SweepColumns& c, const std::string& prefix, const BatchRun& r) {
  const auto num = [](double v) { return util::shortest_double(v); };
  const auto empty_cells = [&](std::size_t n) { f.append(n, ','); };
  const std::size_t n_observer_cols = c.observer_cols.size();
  if (c.series()) {
    if (!r.error.empty()) {  // one row with the point's values and empty cells
      f += prefix;
      empty_cells(c.record_names.size());
      f += '\n';
      return;
    }
    for (std::size_t k = 0; k < r.t.size(); ++k) {
      f += prefix + num(r.t[k]);
      for (const auto& col : r.series) f += ',' + num(col[k]);
      f += '\n';
    }
  } else if (!r.error.empty()) {
    f += prefix + "ERROR,";
    empty_cells(c.state_names.size() + n_observer_cols + c.event_names.size() + (c.stopped_by ? 1 : 0));
    f += '\n';
  } else {
    f += prefix + status_name(r.status) + ',' + num(r.t_final);
    for (double v : r.final_state) f += ',' + num(v);
    std::size_t written = 0;
    for (const auto& o : r.observers)
      for (double v : o.outputs) {
        if (written++ < n_observer_cols) f += ',' + num(v);
      }
    empty_cells(n_observer_cols > written ? n_observer_cols - written : 0);
    for (std::size_t k = 0; k < c.event_names.size(); ++k) {
      f += ',';
      if (k < r.event_counts.size()) f += std::to_string(r.event_counts[k]);
    }
    if (c.stopped_by) f += ',' + csv_cell(r.stopped_by);
    f += '\n';
  }
}

}  // namespace dynlib::core
