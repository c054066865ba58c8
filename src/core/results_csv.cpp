// Results::write_csv / write_events_csv (17 significant digits, "%.17g"), written atomically
// (util/output_file.hpp): a failed write leaves an existing file as it was.
#include <algorithm>
#include <cstdio>
#include <dynlib/errors.hpp>
#include <dynlib/results.hpp>
#include <string>

#include "util/output_file.hpp"

namespace dynlib {
namespace {

void put(std::string& line, double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  line += buf;
}

// Runs `write_rows(file)` into an OutputFile for `path` and commits it; errors name the path and reason.
template <class F>
void write_atomically(const std::filesystem::path& path, F&& write_rows) {
  try {
    util::OutputFile f(path);
    write_rows(f);
    f.commit();
  } catch (const util::FileWriteError& e) {
    throw ArgumentError("Cannot write '" + path.string() + "': " + e.reason());
  }
}

}  // namespace

void Results::write_csv(const std::filesystem::path& path) const {
  write_atomically(path, [&](util::OutputFile& f) {
    std::string line = "t,step";
    for (const auto& s : state_names_) line += "," + s;
    for (const auto& a : aux_names_) line += "," + a;
    f.write(line + '\n');
    for (std::size_t i = 0; i < t_.size(); ++i) {
      line.clear();
      put(line, t_[i]);
      line += ',' + std::to_string(step_[i]);
      for (const auto& c : cols_) {
        line += ',';
        put(line, c[i]);
      }
      line += '\n';
      f.write(line);
    }
  });
}

void Results::write_events_csv(const std::filesystem::path& path) const {
  std::vector<std::string> fields;  // union of logged fields except t, first-appearance order
  for (const auto& r : events_)
    for (const auto& kv : r.values)
      if (kv.first != "t" && std::find(fields.begin(), fields.end(), kv.first) == fields.end())
        fields.push_back(kv.first);
  write_atomically(path, [&](util::OutputFile& f) {
    std::string line = "event,t,step";
    for (const auto& n : fields) line += "," + n;
    f.write(line + '\n');
    for (const auto& r : events_) {
      line = r.name + ',';
      put(line, r.t);
      line += ',' + std::to_string(r.step);
      for (const auto& n : fields) {
        line += ',';
        if (r.has(n)) put(line, r[n]);
      }
      line += '\n';
      f.write(line);
    }
  });
}

}  // namespace dynlib
