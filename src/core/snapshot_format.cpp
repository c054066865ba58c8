#include "core/snapshot_format.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <dynlib/errors.hpp>
#include <dynlib/status.hpp>
#include <map>
#include <string>

namespace dynlib {
namespace {

// Step counters and workspace integers stay far below this; a larger value is an edited file, and
// incrementing it in the runner could overflow.
constexpr std::int64_t kMaxCounter = std::int64_t{1} << 53;
constexpr std::size_t kMaxTextField = 4096;

// The value as it may appear in a message: at most 40 characters, control bytes as \xNN.
std::string shown(std::string_view v) {
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < 40; ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    if (c < 0x20 || c == 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      s += b;
    } else {
      s += static_cast<char>(c);
    }
  }
  if (v.size() > 40) s += "...";
  return s;
}

struct Line {
  std::size_t number = 0;
  std::string_view value;
};

class Reader {
 public:
  Reader(std::string_view text, const std::string& file) : file_(file) { split(text); }

  [[noreturn]] void fail(std::size_t line, std::string_view field, const std::string& why) const {
    std::string where = "Cannot read snapshot file '" + file_ + "'";
    if (line) where += ", line " + std::to_string(line);
    if (!field.empty()) where += " ('" + std::string(field) + "')";
    throw ArgumentError(where + ": " + why);
  }

  const Line& get(const char* key) {
    auto it = fields_.find(key);
    if (it == fields_.end()) fail(0, key, "missing field");
    used_.push_back(key);
    return it->second;
  }

  void check_all_used() const {
    for (const auto& [key, line] : fields_) {
      bool used = false;
      for (const auto& u : used_) used = used || u == key;
      if (!used) fail(line.number, key, "unknown field");
    }
  }

  std::string text(const char* key, bool may_be_empty) {
    const Line& l = get(key);
    if (!may_be_empty && l.value.empty()) fail(l.number, key, "is empty");
    if (l.value.size() > kMaxTextField)
      fail(l.number, key, "longer than " + std::to_string(kMaxTextField) + " characters");
    for (char ch : l.value) {
      const auto c = static_cast<unsigned char>(ch);
      if (c < 0x20 || c == 0x7f)
        fail(l.number, key, "contains a control character: '" + shown(l.value) + "'");
    }
    return std::string(l.value);
  }

  double real(std::size_t line, std::string_view key, const std::string& tok) const {
    char* end = nullptr;
    const double v = std::strtod(tok.c_str(), &end);
    if (tok.empty() || end != tok.c_str() + tok.size() || std::isspace(static_cast<unsigned char>(tok[0])))
      fail(line, key, "not a number: '" + shown(tok) + "'");
    return v;
  }

  std::int64_t integer(std::size_t line, std::string_view key, const std::string& tok, std::int64_t lo,
                       std::int64_t hi) const {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(tok.c_str(), &end, 10);
    if (tok.empty() || end != tok.c_str() + tok.size() || std::isspace(static_cast<unsigned char>(tok[0])))
      fail(line, key, "not an integer: '" + shown(tok) + "'");
    if (errno == ERANGE || v < lo || v > hi)
      fail(line, key,
           "value " + shown(tok) + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) +
               "]");
    return v;
  }

  double finite(const char* key, bool positive) {
    const Line& l = get(key);
    const double v = real(l.number, key, std::string(l.value));
    if (!std::isfinite(v)) fail(l.number, key, "must be a finite number, got '" + shown(l.value) + "'");
    if (positive && !(v > 0)) fail(l.number, key, "must be > 0, got '" + shown(l.value) + "'");
    return v;
  }

  std::int64_t scalar_int(const char* key, std::int64_t lo, std::int64_t hi) {
    const Line& l = get(key);
    return integer(l.number, key, std::string(l.value), lo, hi);
  }

  // "N tok1 ... tokN" with N == expected; returns the tokens.
  std::vector<std::string> list(const char* key, std::size_t expected, const char* what) {
    const Line& l = get(key);
    std::vector<std::string> toks;
    std::size_t i = 0;
    const auto v = l.value;
    while (i < v.size()) {
      if (v[i] == ' ') {
        ++i;
        continue;
      }
      const auto j = std::min(v.find(' ', i), v.size());
      toks.emplace_back(v.substr(i, j - i));
      i = j;
    }
    if (toks.empty()) fail(l.number, key, "missing the element count");
    const auto n = integer(l.number, key, toks[0], 0, kMaxCounter);
    if (static_cast<std::size_t>(n) != expected)
      fail(l.number, key,
           "has " + std::to_string(n) + " " + what + ", this model and stepper need " +
               std::to_string(expected));
    if (toks.size() - 1 != expected)
      fail(l.number, key,
           "announces " + std::to_string(n) + " " + what + " but lists " + std::to_string(toks.size() - 1));
    toks.erase(toks.begin());
    return toks;
  }

  // Real arrays hold computed values: NaN/Inf may be legitimate (a run that stopped on NAN_DETECTED).
  std::vector<double> reals(const char* key, std::size_t expected) {
    const auto toks = list(key, expected, "values");
    const std::size_t line = fields_.at(key).number;
    std::vector<double> v;
    v.reserve(toks.size());
    for (const auto& t : toks) v.push_back(real(line, key, t));
    return v;
  }

  std::size_t line_of(const char* key) const { return fields_.at(key).number; }
  bool has(const char* key) const { return fields_.count(key) != 0; }

 private:
  void split(std::string_view text) {
    std::size_t pos = 0, number = 0;
    bool first = true, ended = false;
    while (pos < text.size()) {
      const auto nl = text.find('\n', pos);
      if (nl == std::string_view::npos) fail(number + 1, "", "truncated file (the last line has no newline)");
      const auto line = text.substr(pos, nl - pos);
      pos = nl + 1;
      ++number;
      if (ended) fail(number, "", "text after 'end'");
      if (first) {
        if (line != kSnapshotMagic)
          fail(number, "", "unsupported schema '" + shown(line) + "' (expected '" + kSnapshotMagic + "')");
        first = false;
        continue;
      }
      if (line == "end") {
        ended = true;
        continue;
      }
      const auto sp = line.find(' ');
      const auto key = line.substr(0, sp);
      if (key.empty()) fail(number, "", "a line without a field name");
      const auto value = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
      auto [it, inserted] = fields_.emplace(std::string(key), Line{number, value});
      if (!inserted) fail(number, key, "repeated (first on line " + std::to_string(it->second.number) + ")");
    }
    if (first) fail(0, "", "empty file (expected '" + std::string(kSnapshotMagic) + "')");
    if (!ended) fail(number, "", "truncated file (no 'end' line)");
  }

  std::string file_;
  std::map<std::string, Line, std::less<>> fields_;
  std::vector<std::string> used_;
};

}  // namespace

SnapshotExpect snapshot_expect(const Sim::Impl& impl) {
  const auto& m = impl.m();
  const auto& L = impl.cm->layout();
  SnapshotExpect e;
  e.model_hash = m.hash.hex();
  e.stepper = impl.fm->stepper();
  e.dtype = impl.fm->dtype_name();
  e.state_names = m.states;
  e.param_names = m.params;
  for (const auto& lag : m.lags) e.lag_depths.push_back(lag.depth);
  e.lag_ring_size = static_cast<std::size_t>(L.lag_ring_size);
  e.n_aux = static_cast<std::size_t>(L.n_aux);
  e.ws_size = static_cast<std::size_t>(L.ws_size);
  e.iws_size = static_cast<std::size_t>(L.iws_size);
  e.n_events = static_cast<std::size_t>(L.n_events);
  e.config_size = impl.cm->default_config().size();
  e.config = impl.cm->stepper().config;
  return e;
}

Session parse_snapshot(std::string_view text, const std::string& file, const SnapshotExpect& want) {
  Reader r(text, file);
  // Free text: shown by tools, never interpreted.
  r.text("name", false);
  r.text("description", true);
  r.text("model_source", true);
  r.text("dynlib_version", false);

  // The pins first: a snapshot of another model is reported as such, not as a size error.
  const std::string hash = r.text("model_hash", false), stepper = r.text("stepper", false),
                    dtype = r.text("dtype", false);
  const auto count_of = [&](const char* key) -> std::string {
    const auto& l = r.get(key);
    const auto sp = l.value.find(' ');
    return std::string(l.value.substr(0, sp));
  };
  const std::string n_state = count_of("y"), n_params = count_of("params");
  std::string d;
  auto pin = [&](const char* f, const std::string& mine, const std::string& theirs) {
    if (mine != theirs)
      d += std::string(d.empty() ? "" : ", ") + f + ": model=" + mine + " snapshot=" + shown(theirs);
  };
  pin("model_hash", want.model_hash, hash);
  pin("stepper", want.stepper, stepper);
  pin("dtype", want.dtype, dtype);
  pin("n_state", std::to_string(want.state_names.size()), n_state);
  pin("n_params", std::to_string(want.param_names.size()), n_params);
  if (!d.empty()) throw ArgumentError("Snapshot incompatible ('" + file + "'): {" + d + "}");

  auto names = [&](const char* key, const std::vector<std::string>& mine) {
    const auto got = r.list(key, mine.size(), "names");
    for (std::size_t i = 0; i < got.size(); ++i)
      if (got[i] != mine[i])
        r.fail(r.line_of(key), key,
               "name " + std::to_string(i) + " is '" + shown(got[i]) + "', the model has '" + mine[i] + "'");
  };
  names("state_names", want.state_names);
  names("param_names", want.param_names);

  Session s;
  s.t = r.finite("t", false);
  s.dt = r.finite("dt", true);
  s.t_base = r.finite("t_base", false);
  s.clock_dt = r.finite("clock_dt", true);
  s.time_shift = r.finite("time_shift", false);
  s.nominal_dt = r.finite("nominal_dt", true);
  s.step = r.scalar_int("step", 0, kMaxCounter);
  s.step_base = r.scalar_int("step_base", 0, kMaxCounter);
  if (s.step_base > s.step)
    r.fail(r.line_of("step_base"), "step_base",
           "is " + std::to_string(s.step_base) + ", after 'step' (" + std::to_string(s.step) + ")");
  {
    const auto& l = r.get("status");
    const auto code = r.integer(l.number, "status", std::string(l.value), INT32_MIN, INT32_MAX);
    const auto st = static_cast<Status>(code);
    if (std::strcmp(status_name(st), "UNKNOWN") == 0)
      r.fail(l.number, "status", "unknown status code " + std::to_string(code));
    s.status = st;
  }
  s.has_workspace = r.scalar_int("has_workspace", 0, 1) != 0;

  s.y = r.reals("y", want.state_names.size());
  s.y_prev = r.reals("y_prev", want.state_names.size());
  s.params = r.reals("params", want.param_names.size());
  s.lag_ring = r.reals("lag_ring", want.lag_ring_size);
  {
    const auto toks = r.list("lag_head", want.lag_depths.size(), "values");
    const std::size_t line = r.line_of("lag_head");
    for (std::size_t k = 0; k < toks.size(); ++k) {
      const std::int64_t depth = want.lag_depths[k];
      if (depth < 1) r.fail(line, "lag_head", "the model's lag slot " + std::to_string(k) + " has no buffer");
      s.lag_head.push_back(r.integer(line, "lag_head", toks[k], 0, depth - 1));
    }
  }
  s.aux = r.reals("aux", want.n_aux);
  s.ws = r.reals("ws", want.ws_size);
  {
    const auto toks = r.list("iws", want.iws_size, "values");
    for (const auto& t : toks) s.iws.push_back(r.integer(r.line_of("iws"), "iws", t, 0, kMaxCounter));
  }
  // Optional: files written before the event counters existed have none (the counts start at 0).
  if (r.has("event_counts")) {
    const auto toks = r.list("event_counts", want.n_events, "values");
    for (const auto& t : toks)
      s.event_counts.push_back(r.integer(r.line_of("event_counts"), "event_counts", t, 0, kMaxCounter));
  } else {
    s.event_counts.assign(want.n_events, 0);
  }
  s.stepper_config = r.reals("stepper_config", want.config_size);
  for (std::size_t i = 0; i < s.stepper_config.size(); ++i) {
    const double v = s.stepper_config[i];
    const std::string which = i < want.config.size() ? want.config[i].name : std::to_string(i);
    const auto fail = [&](const std::string& why) {
      r.fail(r.line_of("stepper_config"), "stepper_config", "setting '" + which + "' " + why);
    };
    if (std::isnan(v)) fail("is NaN");
    if (i >= want.config.size()) continue;
    const auto& f = want.config[i];
    if (!f.enum_values.empty()) {
      bool ok = false;
      for (const auto& ev : f.enum_values) ok = ok || static_cast<double>(ev.second) == v;
      if (!ok) fail("has no value " + std::to_string(v));
    } else if (f.is_int && (!std::isfinite(v) || std::trunc(v) != v)) {
      fail("must be an integer, got " + std::to_string(v));
    }
  }
  r.check_all_used();
  return s;
}

}  // namespace dynlib
