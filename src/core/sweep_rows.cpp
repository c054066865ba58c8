// CSV header and rows of a sweep (sweep_rows.hpp).
#include "core/sweep_rows.hpp"

#include "util/text.hpp"

namespace dynlib::core {

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
    empty_cells(c.state_names.size() + n_observer_cols + c.event_names.size());
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
    f += '\n';
  }
}

}  // namespace dynlib::core
