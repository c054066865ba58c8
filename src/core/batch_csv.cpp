// SweepResults::write_csv (include/dynlib/batch.hpp), written atomically (util/output_file.hpp).
#include <dynlib/batch.hpp>
#include <dynlib/errors.hpp>
#include <sstream>
#include <string>

#include "util/output_file.hpp"
#include "util/text.hpp"

namespace dynlib {

void SweepResults::write_csv(const std::filesystem::path& path) const {
  const auto failed = [&](const util::FileWriteError& e) {
    return DynlibError("Cannot write '" + path.string() + "': " + e.reason());
  };
  try {
    util::check_output_path(path);  // before the rows are formatted
  } catch (const util::FileWriteError& e) {
    throw failed(e);
  }
  std::ostringstream f;
  const auto num = [](double v) { return util::shortest_double(v); };
  const bool series = !batch.record_names.empty();
  // Observer columns come from a run that did not raise: a failed run has no outputs, and its row gets
  // empty cells in their place so every row has every column. A run that stopped short (MAX_STEPS, ...)
  // has its values and its own status.
  const BatchRun* named = nullptr;
  for (const auto& r : batch.runs)
    if (r.error.empty()) {
      named = &r;
      break;
    }
  std::size_t n_observer_cols = 0;
  for (const auto& a : axes) f << a.param << ',';
  if (series) {
    f << "t";
    for (const auto& n : batch.record_names) f << ',' << n;
  } else {
    f << "status,t";
    for (const auto& n : batch.state_names) f << ',' << n;
    if (named)
      for (const auto& o : named->observers)
        for (const auto& n : o.output_names) {
          f << ',' << o.key << '.' << n;
          ++n_observer_cols;
        }
    for (const auto& n : batch.event_names) f << ",events." << n;
  }
  f << '\n';
  const auto empty_cells = [&](std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) f << ',';
  };
  for (std::size_t i = 0; i < nx(); ++i)
    for (std::size_t j = 0; j < ny(); ++j) {
      const auto& r = at(i, j);
      std::string prefix = num(axes[0].values[i]) + ",";
      if (axes.size() > 1) prefix += num(axes[1].values[j]) + ",";
      if (series) {
        if (!r.error.empty()) {  // one row with the point's values and empty cells
          f << prefix;
          empty_cells(batch.record_names.size());
          f << '\n';
          continue;
        }
        for (std::size_t k = 0; k < r.t.size(); ++k) {
          f << prefix << num(r.t[k]);
          for (const auto& c : r.series) f << ',' << num(c[k]);
          f << '\n';
        }
      } else if (!r.error.empty()) {
        f << prefix << "ERROR,";
        empty_cells(batch.state_names.size() + n_observer_cols + batch.event_names.size());
        f << '\n';
      } else {
        f << prefix << status_name(r.status) << ',' << num(r.t_final);
        for (double v : r.final_state) f << ',' << num(v);
        std::size_t written = 0;
        for (const auto& o : r.observers)
          for (double v : o.outputs) {
            if (written++ < n_observer_cols) f << ',' << num(v);
          }
        empty_cells(n_observer_cols > written ? n_observer_cols - written : 0);
        for (std::size_t k = 0; k < batch.event_names.size(); ++k) {
          f << ',';
          if (k < r.event_counts.size()) f << r.event_counts[k];
        }
        f << '\n';
      }
    }
  try {
    util::write_output_file(path, f.view());
  } catch (const util::FileWriteError& e) {
    throw failed(e);
  }
}

}  // namespace dynlib
