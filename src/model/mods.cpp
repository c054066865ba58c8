// Mods applied to a ModelSpec. Presets and event tags are kept (docs/internals/differences.md).
#include "model/mods.hpp"

#include <algorithm>
#include <map>

namespace dynlib::model {

namespace detail {
// parse_numbers.cpp
double eval_number_string(const std::string& text,
                          const std::vector<std::pair<std::string, double>>& constants,
                          const SourceLocation& where);
}  // namespace detail

namespace {

template <class V, class F>
auto find_by(V& v, F&& name_of, const std::string& name) {
  return std::find_if(v.begin(), v.end(), [&](const auto& x) { return name_of(x) == name; });
}

const auto pair_name = [](const auto& p) -> const std::string& { return p.first; };
const auto member_name = [](const auto& x) -> const std::string& { return x.name; };

NumberValue value_of(const ModelSpec& spec, const ModValue& v) {
  if (!v.expr) return v.number;
  std::vector<std::pair<std::string, double>> consts;
  for (const auto& [k, nv] : spec.constants) consts.emplace_back(k, nv.value);
  NumberValue out;
  out.loc = v.expr->loc;
  out.value = detail::eval_number_string(v.expr->text, consts, v.expr->loc);
  return out;
}

void apply_one(ModelSpec& spec, const ModSpec& m) {
  // remove
  for (const auto& r : m.remove.events) {
    auto it = find_by(spec.events, member_name, r.name);
    if (it == spec.events.end())
      throw ModError("remove.events: event '" + r.name + "' does not exist", r.loc);
    spec.events.erase(it);
  }
  for (const auto& r : m.remove.params) {
    auto it = find_by(spec.params, pair_name, r.name);
    if (it == spec.params.end()) throw ModError("remove.params." + r.name + ": param does not exist", r.loc);
    spec.params.erase(it);
  }
  for (const auto& r : m.remove.aux) {
    auto it = find_by(spec.aux, pair_name, r.name);
    if (it == spec.aux.end()) throw ModError("remove.aux." + r.name + ": aux does not exist", r.loc);
    spec.aux.erase(it);
  }
  for (const auto& r : m.remove.functions) {
    auto it = find_by(spec.functions, member_name, r.name);
    if (it == spec.functions.end()) {
      throw ModError("remove.functions." + r.name + ": function does not exist", r.loc);
    }
    spec.functions.erase(it);
  }
  // replace (keeps position)
  for (const auto& e : m.replace.events) {
    auto it = find_by(spec.events, member_name, e.name);
    if (it == spec.events.end()) throw ModError("replace.events." + e.name + ": event does not exist", e.loc);
    *it = e;
  }
  for (const auto& [k, v] : m.replace.aux) {
    auto it = find_by(spec.aux, pair_name, k);
    if (it == spec.aux.end()) throw ModError("replace.aux." + k + ": aux does not exist", v.loc);
    it->second = v;
  }
  for (const auto& f : m.replace.functions) {
    auto it = find_by(spec.functions, member_name, f.name);
    if (it == spec.functions.end()) {
      throw ModError("replace.functions." + f.name + ": function does not exist", f.body.loc);
    }
    *it = f;
  }
  // add (appends)
  for (const auto& e : m.add.events) {
    if (find_by(spec.events, member_name, e.name) != spec.events.end()) {
      throw ModError("add.events." + e.name + ": event already exists", e.loc);
    }
    spec.events.push_back(e);
  }
  for (const auto& [k, v] : m.add.params) {
    if (find_by(spec.params, pair_name, k) != spec.params.end()) {
      throw ModError("add.params." + k + ": param already exists", v.number.loc);
    }
    spec.params.emplace_back(k, value_of(spec, v));
  }
  for (const auto& [k, v] : m.add.aux) {
    if (find_by(spec.aux, pair_name, k) != spec.aux.end()) {
      throw ModError("add.aux." + k + ": aux already exists", v.loc);
    }
    spec.aux.emplace_back(k, v);
  }
  for (const auto& f : m.add.functions) {
    if (find_by(spec.functions, member_name, f.name) != spec.functions.end()) {
      throw ModError("add.functions." + f.name + ": function already exists", f.body.loc);
    }
    spec.functions.push_back(f);
  }
  // set
  for (const auto& [k, v] : m.set.states) {
    auto it = find_by(spec.states, pair_name, k);
    if (it == spec.states.end()) throw ModError("set.states." + k + ": unknown state", v.number.loc);
    it->second = value_of(spec, v);
  }
  for (const auto& [k, v] : m.set.params) {
    auto it = find_by(spec.params, pair_name, k);
    if (it == spec.params.end()) throw ModError("set.params." + k + ": unknown param", v.number.loc);
    it->second = value_of(spec, v);
  }
  for (const auto& [k, v] : m.set.aux) {
    auto it = find_by(spec.aux, pair_name, k);
    if (it == spec.aux.end()) {
      spec.aux.emplace_back(k, v);
    } else {
      it->second = v;
    }
  }
  for (const auto& f : m.set.functions) {
    auto it = find_by(spec.functions, member_name, f.name);
    if (it == spec.functions.end()) {
      spec.functions.push_back(f);
    } else {
      *it = f;
    }
  }
  for (const auto& patch : m.set.sim) patch(spec.sim);
}

}  // namespace

void apply_mods(ModelSpec& spec, const std::vector<ModSpec>& mods) {
  std::map<std::string, std::vector<const ModSpec*>> groups;
  for (const auto& m : mods) {
    if (!m.group.empty()) groups[m.group].push_back(&m);
  }
  for (const auto& [g, members] : groups) {
    const bool exclusive =
        std::any_of(members.begin(), members.end(), [](const ModSpec* m) { return m->exclusive; });
    if (exclusive && members.size() > 1) {
      std::vector<std::string> names;
      for (const ModSpec* m : members) names.push_back(m->name);
      std::sort(names.begin(), names.end());
      std::string list;
      for (std::size_t i = 0; i < names.size(); ++i) list += (i ? ", " : "") + names[i];
      throw ModError("group '" + g + "' allows only one active mod but received: " + list, members[1]->loc);
    }
  }
  for (const auto& m : mods) apply_one(spec, m);
}

}  // namespace dynlib::model
