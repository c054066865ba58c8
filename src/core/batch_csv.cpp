// SweepResults::write_csv (include/dynlib/batch.hpp), written atomically (util/output_file.hpp).
#include <dynlib/batch.hpp>
#include <dynlib/errors.hpp>
#include <string>

#include "core/sweep_rows.hpp"
#include "util/output_file.hpp"

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
  // Observer columns come from a run that did not raise: a failed run has no outputs, and its row gets
  // empty cells in their place so every row has every column. A run that stopped short (MAX_STEPS, ...)
  // has its values and its own status.
  core::SweepColumns c;
  for (const auto& a : axes) c.axis_names.push_back(a.param);
  c.state_names = batch.state_names;
  c.record_names = batch.record_names;
  c.event_names = batch.event_names;
  c.stopped_by = batch.terminal_events;
  for (const auto& r : batch.runs)
    if (r.error.empty()) {
      for (const auto& o : r.observers)
        for (const auto& n : o.output_names) c.observer_cols.push_back(o.key + '.' + n);
      break;
    }
  std::string f = core::sweep_csv_header(c);
  for (std::size_t i = 0; i < nx(); ++i)
    for (std::size_t j = 0; j < ny(); ++j)
      core::append_point_rows(f, c, core::sweep_row_prefix(axes, i, j), at(i, j));
  try {
    util::write_output_file(path, f);
  } catch (const util::FileWriteError& e) {
    throw failed(e);
  }
}

}  // namespace dynlib
