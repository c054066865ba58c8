// TOML mod tables ([mod], [mods.NAME]) -> ModSpec.
#include <algorithm>
#include <memory>

#include "model/parse_internal.hpp"

namespace dynlib::model::detail {

namespace {

const std::vector<std::pair<std::string, std::vector<std::string>>>& supported_targets() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> t = {
      {"remove", {"aux", "events", "functions", "params"}},
      {"replace", {"aux", "events", "functions"}},
      {"add", {"aux", "events", "functions", "params"}},
      {"set", {"aux", "functions", "params", "sim", "states"}},
  };
  return t;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

const toml::table& require_table(const TomlCtx& c, const toml::node& n, const std::string& what) {
  const toml::table* t = n.as_table();
  if (!t) throw ModError(what + " must be a table", c.at(&n, what));
  return *t;
}

std::vector<std::pair<std::string, Located>> string_entries(const TomlCtx& c, const toml::table& t,
                                                            const std::string& what) {
  std::vector<std::pair<std::string, Located>> out;
  for (const auto& [k, v] : ordered(t)) {
    const std::string where = what + "." + k;
    if (!v->is_string()) throw ModError(where + ": value must be a string expression", c.at(v, where));
    out.emplace_back(k, c.located(*v, where));
  }
  return out;
}

ModSpec parse_mod_table_impl(const TomlCtx& c, const toml::table& t, const std::string& name,
                             const std::string& prefix) {
  ModSpec m;
  m.name = name;
  m.loc = c.at(&t, prefix);
  if (const toml::node* g = t.get("group")) {
    if (!g->is_string()) throw ModError(prefix + ".group must be a string", c.at(g, prefix + ".group"));
    m.group = g->as_string()->get();
  }
  if (const toml::node* x = t.get("exclusive")) {
    if (!x->is_boolean())
      throw ModError(prefix + ".exclusive must be a boolean", c.at(x, prefix + ".exclusive"));
    m.exclusive = *x->value<bool>();
  }
  for (const auto& [verb, targets] : supported_targets()) {
    const toml::node* vn = t.get(verb);
    if (!vn) continue;
    const toml::table& vt = require_table(c, *vn, verb);
    for (const auto& [target, node] : ordered(vt)) {
      const std::string what = verb + "." + target;
      if (std::find(targets.begin(), targets.end(), target) == targets.end()) {
        throw ModError(what + ": unsupported target. Supported targets: " + join(targets),
                       c.at(vt.find(target)->first.source(), what));
      }
      if (verb == "remove") {
        std::vector<NamedLoc>* dst = target == "events"   ? &m.remove.events
                                     : target == "params" ? &m.remove.params
                                     : target == "aux"    ? &m.remove.aux
                                                          : &m.remove.functions;
        const toml::array* arr = node->as_array();
        if (!arr) {
          const toml::table& rt = require_table(c, *node, what);
          const toml::node* names = rt.get("names");
          arr = names ? names->as_array() : nullptr;
          if (!arr) throw ModError(what + ".names must be a list of strings", c.at(node, what));
        }
        for (const auto& item : *arr) {
          if (!item.is_string()) throw ModError(what + ".names must be a list of strings", c.at(&item, what));
          dst->push_back({item.as_string()->get(), c.at(&item, what)});
        }
        continue;
      }
      const toml::table& tt = require_table(c, *node, what);
      if (target == "events") {
        auto& dst = verb == "replace" ? m.replace.events : m.add.events;
        for (const auto& [ename, ev] : ordered(tt)) {
          dst.push_back(parse_event(c, ename, *ev, what + "." + ename));
        }
      } else if (target == "functions") {
        auto& dst = verb == "replace" ? m.replace.functions
                    : verb == "add"   ? m.add.functions
                                      : m.set.functions;
        for (const auto& [fname, fn] : ordered(tt)) {
          dst.push_back(parse_function(c, fname, *fn, what + "." + fname));
        }
      } else if (target == "aux") {
        auto entries = string_entries(c, tt, what);
        auto& dst = verb == "replace" ? m.replace.aux : verb == "add" ? m.add.aux : m.set.aux;
        dst.insert(dst.end(), entries.begin(), entries.end());
      } else if (target == "params" || target == "states") {
        auto& dst = verb == "add" ? m.add.params : target == "params" ? m.set.params : m.set.states;
        for (const auto& [k, v] : ordered(tt)) dst.emplace_back(k, parse_mod_value(c, *v, what + "." + k));
      } else if (target == "sim") {
        // Check every key now (so errors surface at load), then keep a copy to apply later.
        SimSpec scratch;
        for (const auto& [k, v] : ordered(tt)) apply_sim_key(c, scratch, k, *v, what);
        check_sim_table(c, tt, scratch, std::nullopt, what);
        auto ctx = std::make_shared<const TomlCtx>(c);
        auto copy = std::make_shared<const toml::table>(tt);
        for (const auto& [k, v] : ordered(*copy)) {
          const toml::node* vp = v;
          const std::string key = k;
          m.set.sim.push_back(
              [ctx, copy, vp, key, what](SimSpec& sim) { apply_sim_key(*ctx, sim, key, *vp, what); });
        }
      }
    }
  }
  return m;
}

}  // namespace

ModSpec parse_mod_table(const TomlCtx& c, const toml::table& t, const std::string& name,
                        const std::string& prefix) {
  try {
    return parse_mod_table_impl(c, t, name, prefix);
  } catch (const SchemaError& e) {  // shape problems inside a mod's own tables are mod errors
    throw ModError(e.message(), e.where());
  }
}

}  // namespace dynlib::model::detail
