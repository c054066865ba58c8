// SweepResults::write_csv (include/dynlib/batch.hpp), written atomically (util/output_file.hpp).
#include <dynlib/batch.hpp>
#include <dynlib/errors.hpp>

#include <cstdio>
#include <sstream>
#include <string>

#include "util/output_file.hpp"

namespace dynlib {
namespace {
std::string g17(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}
}  // namespace

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
  const bool series = !batch.record_names.empty();
  for (const auto& a : axes) f << a.param << ',';
  if (series) {
    f << "t";
    for (const auto& n : batch.record_names) f << ',' << n;
  } else {
    f << "status,t";
    for (const auto& n : batch.state_names) f << ',' << n;
    if (!batch.runs.empty())
      for (const auto& o : batch.runs.front().observers)
        for (const auto& n : o.output_names) f << ',' << o.key << '.' << n;
  }
  f << '\n';
  for (std::size_t i = 0; i < nx(); ++i)
    for (std::size_t j = 0; j < ny(); ++j) {
      const auto& r = at(i, j);
      std::string prefix = g17(axes[0].values[i]) + ",";
      if (axes.size() > 1) prefix += g17(axes[1].values[j]) + ",";
      if (series) {
        for (std::size_t k = 0; k < r.t.size(); ++k) {
          f << prefix << g17(r.t[k]);
          for (const auto& c : r.series) f << ',' << g17(c[k]);
          f << '\n';
        }
      } else {
        f << prefix << (r.ok() ? status_name(r.status) : "ERROR") << ',' << g17(r.t_final);
        for (double v : r.final_state) f << ',' << g17(v);
        for (const auto& o : r.observers)
          for (double v : o.outputs) f << ',' << g17(v);
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
