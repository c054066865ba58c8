// Preset files: named sets of parameter and state values kept outside the model, in TOML
//   [__presets__]
//   schema = "dynlib-presets-v1"
//   [presets.NAME.params]   name = number ...
//   [presets.NAME.states]   name = number ...
// Sim::load_preset reads them into the session's preset bank (the file is untrusted: a regular file of
// bounded size, every value checked); Sim::save_preset adds or replaces one preset in a file and rewrites
// it atomically, keeping the file's other presets.
#include <fnmatch.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <dynlib/errors.hpp>
#include <dynlib/sim.hpp>
#include <sstream>
#include <string>

#include "core/sim_impl.hpp"
#include "util/output_file.hpp"
#include "util/regular_file.hpp"

namespace dynlib {
namespace {

constexpr const char* kSchema = "dynlib-presets-v1";
constexpr std::size_t kMaxPresetFileBytes = std::size_t{16} << 20;

std::string where(const std::filesystem::path& path, const toml::node& n) {
  const auto& b = n.source().begin;
  return "'" + path.string() + "'" + (b.line ? ":" + std::to_string(b.line) : std::string());
}

// Parses a presets file and checks its schema marker. `missing_ok`: a file that does not exist is empty.
toml::table read_presets_file(const std::filesystem::path& path, bool missing_ok) {
  std::error_code ec;
  if (missing_ok && !std::filesystem::exists(std::filesystem::symlink_status(path, ec))) {
    toml::table t;
    t.insert("__presets__", toml::table{{"schema", kSchema}});
    return t;
  }
  std::string text;
  try {
    text = util::read_regular_file(path, kMaxPresetFileBytes);
  } catch (const util::FileReadError& e) {
    throw ArgumentError("Cannot read preset file '" + path.string() + "': " + e.reason());
  }
  toml::table doc;
  try {
    doc = toml::parse(text, path.string());
  } catch (const toml::parse_error& e) {
    throw ArgumentError("Preset file '" + path.string() + "':" + std::to_string(e.source().begin.line) +
                        ": invalid TOML: " + std::string(e.description()));
  }
  const auto* marker = doc["__presets__"]["schema"].as_string();
  if (!marker || marker->get() != kSchema)
    throw ArgumentError("'" + path.string() +
                        "' is not a dynlib presets file: it needs [__presets__] schema = \"" + kSchema +
                        "\"" + (marker ? " (it has schema = \"" + marker->get() + "\")" : std::string()));
  if (const auto* p = doc.get("presets"); p && !p->is_table())
    throw ArgumentError(where(path, *p) + ": [presets] must be a table of named presets");
  return doc;
}

// One [presets.NAME] table checked against the model: number values, known names, at least one entry.
ir::Preset parse_preset(const std::filesystem::path& path, const std::string& name, const toml::node& node,
                        const ir::ModelIR& m) {
  const std::string key = "[presets." + name + "]";
  const auto* t = node.as_table();
  if (!t) throw ArgumentError(where(path, node) + ": " + key + " must be a table");
  ir::Preset p;
  p.name = name;
  const auto part = [&](const char* sub, const std::vector<std::string>& valid, const char* what,
                        std::vector<std::pair<std::int32_t, double>>& out) {
    const toml::node* n = t->get(sub);
    if (!n) return;
    const auto* tab = n->as_table();
    if (!tab) throw ArgumentError(where(path, *n) + ": " + key + "." + sub + " must be a table");
    for (const auto& [k, v] : *tab) {
      const std::string field = key + "." + sub + "." + std::string(k.str());
      double value = 0.0;
      if (const auto* f = v.as_floating_point())
        value = f->get();
      else if (const auto* i = v.as_integer())
        value = static_cast<double>(i->get());
      else
        throw ArgumentError(where(path, v) + ": " + field + " must be a number");
      const int idx = index_of(valid, k.str());
      if (idx < 0)
        throw ArgumentError(where(path, v) + ": " + field + ": unknown " + what + " '" +
                            std::string(k.str()) + "'" + util::did_you_mean(k.str(), valid) + ". Valid " +
                            what + "s: " + join_names(valid));
      out.emplace_back(idx, value);
    }
  };
  part("params", m.params, "param", p.params);
  part("states", m.states, "state", p.states);
  if (p.params.empty() && p.states.empty())
    throw ArgumentError(where(path, node) + ": " + key + " must set at least one param or state");
  return p;
}

toml::table preset_table(const ir::Preset& p, const ir::ModelIR& m) {
  toml::table params, states, out;
  for (const auto& [i, v] : p.params) params.insert_or_assign(m.params[static_cast<std::size_t>(i)], v);
  for (const auto& [i, v] : p.states) states.insert_or_assign(m.states[static_cast<std::size_t>(i)], v);
  if (!params.empty()) out.insert("params", std::move(params));
  if (!states.empty()) out.insert("states", std::move(states));
  return out;
}

}  // namespace

std::size_t Sim::load_preset(std::string_view pattern, const std::filesystem::path& path,
                             PresetConflict on_conflict) {
  const auto& m = impl_->m();
  const toml::table doc = read_presets_file(path, false);
  std::vector<ir::Preset> found;
  std::vector<std::string> in_file;
  if (const auto* presets = doc["presets"].as_table())
    for (const auto& [k, v] : *presets) {
      const std::string name(k.str());
      in_file.push_back(name);
      if (::fnmatch(std::string(pattern).c_str(), name.c_str(), 0) == 0)
        found.push_back(parse_preset(path, name, v, m));
    }
  if (found.empty())
    throw ArgumentError(
        "No preset matching '" + std::string(pattern) + "' in '" + path.string() +
        "'. Presets there: " + (in_file.empty() ? std::string("(none)") : join_names(in_file)));
  const auto bank = list_presets();
  const auto known = [&](const std::string& n) {
    return std::find(bank.begin(), bank.end(), n) != bank.end();
  };
  if (on_conflict == PresetConflict::error)  // check all first: an error loads nothing
    for (const auto& p : found)
      if (known(p.name))
        throw ArgumentError("Preset '" + p.name + "' from '" + path.string() +
                            "' already exists (on_conflict: 'keep' skips it, 'replace' replaces it)");
  std::size_t count = 0;
  for (auto& p : found) {
    if (known(p.name) && on_conflict == PresetConflict::keep) continue;
    std::erase_if(impl_->extra_presets, [&](const ir::Preset& q) { return q.name == p.name; });
    impl_->extra_presets.push_back(std::move(p));
    ++count;
  }
  return count;
}

void Sim::save_preset(std::string_view name, const std::filesystem::path& path, bool overwrite) const {
  const auto& m = impl_->m();
  const ir::Preset* p = nullptr;
  for (const auto& q : impl_->extra_presets)
    if (q.name == name) p = &q;
  if (!p)
    for (const auto& q : m.presets)
      if (q.name == name) p = &q;
  if (!p) {
    const auto names = list_presets();
    throw ArgumentError("Unknown preset '" + std::string(name) + "'" + util::did_you_mean(name, names) +
                        ". Available presets: " + join_names(names));
  }
  toml::table doc = read_presets_file(path, true);
  if (!doc.contains("presets")) doc.insert("presets", toml::table{});
  auto& presets = *doc["presets"].as_table();
  if (presets.contains(name) && !overwrite)
    throw ArgumentError("Preset '" + std::string(name) + "' is already in '" + path.string() +
                        "' (pass overwrite=true to replace it)");
  presets.insert_or_assign(name, preset_table(*p, m));
  std::ostringstream text;
  text << doc << '\n';
  try {
    util::OutputFile f(path);
    f.write(text.str());
    f.commit();
  } catch (const util::FileWriteError& e) {
    throw ArgumentError("Cannot write '" + path.string() + "': " + e.reason());
  }
}

}  // namespace dynlib
