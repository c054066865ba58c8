// Results::write_csv / write_events_csv (17 significant digits, "%.17g").
#include <dynlib/errors.hpp>
#include <dynlib/results.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

namespace dynlib {
namespace {

void put(std::string& line, double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  line += buf;
}

std::ofstream open_out(const std::filesystem::path& path) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw ArgumentError("Cannot write '" + path.string() + "'");
  return f;
}

}  // namespace

void Results::write_csv(const std::filesystem::path& path) const {
  auto f = open_out(path);
  std::string line = "t,step";
  for (const auto& s : state_names_) line += "," + s;
  for (const auto& a : aux_names_) line += "," + a;
  f << line << '\n';
  for (std::size_t i = 0; i < t_.size(); ++i) {
    line.clear();
    put(line, t_[i]);
    line += ',' + std::to_string(step_[i]);
    for (const auto& c : cols_) {
      line += ',';
      put(line, c[i]);
    }
    f << line << '\n';
  }
  if (!f) throw ArgumentError("Error writing '" + path.string() + "'");
}

void Results::write_events_csv(const std::filesystem::path& path) const {
  std::vector<std::string> fields;  // union of logged fields except t, first-appearance order
  for (const auto& r : events_)
    for (const auto& kv : r.values)
      if (kv.first != "t" && std::find(fields.begin(), fields.end(), kv.first) == fields.end()) fields.push_back(kv.first);
  auto f = open_out(path);
  std::string line = "event,t,step";
  for (const auto& n : fields) line += "," + n;
  f << line << '\n';
  for (const auto& r : events_) {
    line = r.name + ',';
    put(line, r.t);
    line += ',' + std::to_string(r.step);
    for (const auto& n : fields) {
      line += ',';
      if (r.has(n)) put(line, r[n]);
    }
    f << line << '\n';
  }
  if (!f) throw ArgumentError("Error writing '" + path.string() + "'");
}

}  // namespace dynlib
