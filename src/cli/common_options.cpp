#include "cli/common_options.hpp"

#include <algorithm>
#include <dynlib/errors.hpp>
#include <dynlib/ir.hpp>

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

}  // namespace dynlib::cli
