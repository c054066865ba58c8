#include "cli/common_options.hpp"

#include <algorithm>
#include <dynlib/errors.hpp>
#include <dynlib/ir.hpp>

#include "util/regular_file.hpp"
#include "util/suggest.hpp"
#include "util/text.hpp"

namespace dynlib::cli {

const char* const kCommonOptionsHelp =
    "common options (run, sweep, lyapunov):\n"
    "  --stepper S         stepper name or alias (default: the model's [sim].stepper; `dynlib steppers "
    "list`)\n"
    "  --T x               end time (ode) or horizon; must be finite\n"
    "  --N n               iterations (maps), 0 <= n <= 9223372036854775807\n"
    "  --dt h              step size, > 0\n"
    "  --t0 x              start time\n"
    "  --transient x       warm-up before recording, >= 0\n"
    "  --param k=v         parameter value (repeatable; sweep: an axis, see below)\n"
    "  --state k=v         initial state value (repeatable)\n"
    "  --preset P          apply the model's preset P first\n"
    "  --set name=value    stepper setting, a number or a value name (--set atol=1e-10,\n"
    "                      --set jacobian_mode=external); `dynlib steppers show S` lists them\n"
    "  --max-steps n       step limit, >= 1\n"
    "  --mod MOD_URI       apply a mod (repeatable, in order)\n"
    "  --jit               compile with the LLVM JIT\n"
    "  --disk-cache        with --jit: keep compiled code in the disk cache\n"
    "  --quiet             no progress display on a terminal\n"
    "  -h, --help          this help\n";

std::set<std::string> with_common_values(std::set<std::string> own) {
  own.insert(
      {"stepper", "T", "N", "dt", "t0", "transient", "param", "state", "preset", "set", "max_steps", "mod"});
  return own;
}

std::set<std::string> with_common_flags(std::set<std::string> own) {
  own.insert({"jit", "disk_cache", "quiet"});
  return own;
}

CommonOptions read_common(const ParsedArgs& p, bool params_are_values) {
  CommonOptions o;
  if (p.get("T") && p.get("N")) throw UsageError("pass either --T or --N, not both");
  o.build.stepper = p.get("stepper").value_or("");
  o.build.jit = p.flag("jit");
  o.build.disk_cache = p.flag("disk_cache");
  o.build.mods = p.all("mod");
  if (auto v = p.get("T")) o.T = parse_number(*v, "--T");
  if (auto v = p.get("N")) o.N = parse_integer_at_least(*v, "--N", 0);
  if (auto v = p.get("dt")) o.dt = parse_number_above(*v, "--dt", 0.0);
  if (auto v = p.get("t0")) o.t0 = parse_number(*v, "--t0");
  if (auto v = p.get("transient")) o.transient = parse_number_above(*v, "--transient", 0.0, true);
  if (auto v = p.get("max_steps")) o.max_steps = parse_integer_at_least(*v, "--max-steps", 1);
  o.states = parse_assignments(p.all("state"), "--state");
  if (params_are_values) o.params = parse_assignments(p.all("param"), "--param");
  o.preset = p.get("preset");
  o.settings = parse_settings(p.all("set"), "--set");
  o.quiet = p.flag("quiet");
  return o;
}

void expand_preset(const std::string& preset, const ir::ModelIR& m, Assignments& states,
                   Assignments& params) {
  std::vector<std::string> names;
  for (const auto& pr : m.presets) {
    names.push_back(pr.name);
    if (pr.name != preset) continue;
    Assignments s, q;
    for (const auto& [i, v] : pr.states) s.emplace_back(m.states.at(static_cast<std::size_t>(i)), v);
    for (const auto& [i, v] : pr.params) q.emplace_back(m.params.at(static_cast<std::size_t>(i)), v);
    states.insert(states.begin(), s.begin(), s.end());  // explicit --state/--param win over the preset
    params.insert(params.begin(), q.begin(), q.end());
    return;
  }
  throw ArgumentError("Unknown preset '" + preset + "'" + util::did_you_mean(preset, names) +
                      ". Available presets: " + util::quoted_list(names));
}

std::optional<std::vector<std::string>> read_record_vars(const ParsedArgs& p, const ir::ModelIR& m) {
  const auto list = p.get("record_vars");
  if (!list && !p.flag("aux")) return std::nullopt;
  std::vector<std::string> vars;
  if (list) {
    std::size_t pos = 0;
    while (pos <= list->size()) {
      auto comma = list->find(',', pos);
      if (comma == std::string::npos) comma = list->size();
      const std::string name = util::trim(std::string_view(*list).substr(pos, comma - pos));
      if (name.empty())
        throw UsageError("--record-vars expects names separated by commas, got '" + *list + "'");
      vars.push_back(name);
      pos = comma + 1;
    }
  } else {
    vars = m.states;
  }
  if (p.flag("aux")) {
    for (const auto& a : m.aux) {
      const bool listed = std::find(vars.begin(), vars.end(), a) != vars.end() ||
                          std::find(vars.begin(), vars.end(), "aux." + a) != vars.end();
      if (!listed) vars.push_back("aux." + a);
    }
  }
  return vars;
}

namespace {
// "a:b:c" -> {"a", "b", "c"} (empty pieces kept, so that the number parser names them).
std::vector<std::string> split_on(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  for (;;) {
    const auto at = s.find(sep, pos);
    out.push_back(
        util::trim(std::string_view(s).substr(pos, at == std::string::npos ? std::string::npos : at - pos)));
    if (at == std::string::npos) return out;
    pos = at + 1;
  }
}
}  // namespace

std::optional<std::vector<double>> read_save_at(const ParsedArgs& p) {
  const auto spec = p.get("save_at");
  const auto file = p.get("save_at_file");
  if (spec && file) throw UsageError("pass either --save-at or --save-at-file, not both");
  if (spec) {
    const auto parts = split_on(*spec, ':');
    if (parts.size() != 3)
      throw UsageError("--save-at must be START:STOP:COUNT (e.g. 0:10:101), got '" + *spec + "'");
    const double a = parse_number(parts[0], "--save-at START");
    const double b = parse_number(parts[1], "--save-at STOP");
    const std::int64_t n = parse_integer_at_least(parts[2], "--save-at COUNT", 1);
    if (b < a) throw UsageError("--save-at STOP (" + parts[1] + ") must be >= START (" + parts[0] + ")");
    if (n > 100'000'000) throw UsageError("--save-at COUNT must be <= 100000000, got " + parts[2]);
    std::vector<double> v(static_cast<std::size_t>(n));
    for (std::int64_t k = 0; k < n; ++k)
      v[static_cast<std::size_t>(k)] =
          n == 1 ? a : a + (b - a) * static_cast<double>(k) / static_cast<double>(n - 1);
    if (n > 1) v.back() = b;  // exactly STOP
    return v;
  }
  if (!file) return std::nullopt;
  std::string text;
  try {
    text = util::read_regular_file(*file, std::size_t{1} << 30);
  } catch (const util::FileReadError& e) {
    throw UsageError(std::string("--save-at-file: ") + e.what());
  }
  std::vector<double> v;
  std::size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    line = line.substr(first, line.find_last_not_of(" \t\r") + 1 - first);
    v.push_back(parse_number(line, "--save-at-file " + *file + " line " + std::to_string(line_no)));
  }
  if (v.empty()) throw UsageError("--save-at-file " + *file + " has no times (one time per line)");
  return v;
}

std::optional<std::vector<double>> read_tstops(const ParsedArgs& p) {
  const auto s = p.get("tstops");
  if (!s) return std::nullopt;
  std::vector<double> v;
  for (const auto& item : split_on(*s, ',')) v.push_back(parse_number(item, "--tstops"));
  return v;
}

}  // namespace dynlib::cli
