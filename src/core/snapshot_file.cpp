// Snapshot files: a line-oriented text format (docs/simulation.md "Snapshot files"), every real
// written as a C99 hex float so a load is bit-exact. Written atomically: temp file in the same
// directory, fsync, rename. Loading checks the pins (model hash, stepper, dtype, sizes).
#include <dynlib/errors.hpp>
#include <dynlib/sim.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "core/sim_impl.hpp"

#ifndef DYNLIB_VERSION_STRING
#define DYNLIB_VERSION_STRING "0.0.0"
#endif

namespace dynlib {
namespace {

constexpr const char* kMagic = "dynlib-snapshot v1";

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
    if constexpr (std::is_same_v<T, double>) s += hexf(x);
    else s += std::to_string(x);
  }
  return s;
}

std::string names_line(const char* key, const std::vector<std::string>& v) {
  std::string s = std::string(key) + " " + std::to_string(v.size());
  for (const auto& x : v) s += " " + x;
  return s;
}

[[noreturn]] void bad(const std::filesystem::path& p, const std::string& why) {
  throw ArgumentError("Cannot read snapshot file '" + p.string() + "': " + why);
}

double parse_double(const std::string& tok, const std::filesystem::path& p) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(tok.c_str(), &end);
  if (end == tok.c_str() || *end) bad(p, "bad number '" + tok + "'");
  return v;
}

std::int64_t parse_int(const std::string& tok, const std::filesystem::path& p) {
  char* end = nullptr;
  long long v = std::strtoll(tok.c_str(), &end, 10);
  if (end == tok.c_str() || *end) bad(p, "bad integer '" + tok + "'");
  return v;
}

}  // namespace

void Sim::save_snapshot(const std::filesystem::path& path, std::string_view snapshot) const {
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
  o << kMagic << "\n";
  o << "name " << name << "\n";
  o << "description " << description << "\n";
  o << "model_hash " << m.hash.hex() << "\n";
  o << "model_source " << m.source << "\n";
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
  o << vec_line("stepper_config", s->stepper_config) << "\n";
  o << "end\n";
  const std::string text = o.str();

  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  // Built with append(): g++ 12 gives a false -Wrestrict for "." + string (GCC PR 105329).
  std::string tmp_name = ".";
  tmp_name.append(path.filename().string()).append(".tmp.").append(std::to_string(::getpid()));
  const auto tmp = dir / tmp_name;
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw ArgumentError("Cannot write snapshot '" + path.string() + "': " + std::strerror(errno));
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = std::fflush(f) == 0 && ok;
  ok = ::fsync(::fileno(f)) == 0 && ok;
  ok = std::fclose(f) == 0 && ok;
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp, path, ec);
  if (!ok || ec) {
    std::filesystem::remove(tmp, ec);
    throw ArgumentError("Cannot write snapshot '" + path.string() + "'");
  }
}

void Sim::load_snapshot(const std::filesystem::path& path) {
  auto& I = *impl_;
  std::ifstream in(path);
  if (!in) bad(path, "cannot open");
  std::string line;
  if (!std::getline(in, line) || line != kMagic) bad(path, "unsupported schema (expected '" + std::string(kMagic) + "')");
  std::map<std::string, std::string> kv;
  bool ended = false;
  while (std::getline(in, line)) {
    if (line == "end") { ended = true; break; }
    auto sp = line.find(' ');
    kv[line.substr(0, sp)] = sp == std::string::npos ? "" : line.substr(sp + 1);
  }
  if (!ended) bad(path, "truncated file");
  auto get = [&](const char* k) -> const std::string& {
    auto it = kv.find(k);
    if (it == kv.end()) bad(path, std::string("missing '") + k + "'");
    return it->second;
  };
  auto toks = [&](const char* k) {
    std::istringstream is(get(k));
    std::vector<std::string> t;
    std::string w;
    std::size_t n = 0;
    is >> n;
    while (is >> w) t.push_back(w);
    if (t.size() != n) bad(path, std::string("'") + k + "' has the wrong length");
    return t;
  };
  auto dvec = [&](const char* k) {
    std::vector<double> v;
    for (const auto& t : toks(k)) v.push_back(parse_double(t, path));
    return v;
  };
  auto ivec = [&](const char* k) {
    std::vector<std::int64_t> v;
    for (const auto& t : toks(k)) v.push_back(parse_int(t, path));
    return v;
  };
  Session s;
  s.y = dvec("y");
  s.params = dvec("params");
  std::string mism = I.pins_mismatch(get("model_hash"), get("stepper"), get("dtype"), s.y.size(), s.params.size());
  if (!mism.empty()) throw ArgumentError("Snapshot incompatible: {" + mism + "}");
  s.t = parse_double(get("t"), path);
  s.dt = parse_double(get("dt"), path);
  s.step = parse_int(get("step"), path);
  s.status = static_cast<Status>(parse_int(get("status"), path));
  s.has_workspace = parse_int(get("has_workspace"), path) != 0;
  s.t_base = parse_double(get("t_base"), path);
  s.step_base = parse_int(get("step_base"), path);
  s.clock_dt = parse_double(get("clock_dt"), path);
  s.time_shift = parse_double(get("time_shift"), path);
  s.nominal_dt = parse_double(get("nominal_dt"), path);
  s.y_prev = dvec("y_prev");
  s.lag_ring = dvec("lag_ring");
  s.lag_head = ivec("lag_head");
  s.aux = dvec("aux");
  s.ws = dvec("ws");
  s.iws = ivec("iws");
  s.stepper_config = dvec("stepper_config");
  const Session ref = I.fresh_session();
  if (s.y_prev.size() != ref.y.size() || s.lag_ring.size() != ref.lag_ring.size() || s.lag_head.size() != ref.lag_head.size() ||
      s.ws.size() != ref.ws.size() || s.iws.size() != ref.iws.size() || s.aux.size() != ref.aux.size())
    throw ArgumentError("Snapshot incompatible: workspace layout differs from this model/stepper");
  I.s = std::move(s);
  I.results.reset();
  I.rec_states.clear();
  I.rec_aux.clear();
}

}  // namespace dynlib
