// TOML front end: the keys of [sim] (run defaults and stepper settings).
#include <algorithm>
#include <cmath>

#include "model/parse_internal.hpp"
#include "steppers_catalogue/stepper_settings.hpp"

namespace dynlib::model::detail {

void apply_sim_key(const TomlCtx& c, SimSpec& sim, const std::string& key, const toml::node& v,
                   const std::string& ctx) {
  auto& d = sim.defaults;
  const std::string where = ctx + "." + key;
  auto as_float = [&]() -> double {
    if (auto i = v.as_integer()) return static_cast<double>(i->get());
    if (auto f = v.as_floating_point()) return f->get();
    if (auto b = v.as_boolean()) return b->get() ? 1.0 : 0.0;
    if (v.is_string()) {
      const std::string s = v.as_string()->get();
      if (auto x = py_parse_float(s)) return *x;
      schema_error(where + " must be a number, got str '" + s + "'", c.at(&v, where));
    }
    schema_error(where + " must be a number, got " + py_type(v), c.at(&v, where));
  };
  auto erase_extra = [&](const std::string& k) {
    std::erase_if(d.extras, [&](const auto& p) { return p.first == k; });
    std::erase_if(d.string_extras, [&](const auto& p) { return p.first == k; });
  };

  if (key == "t0") {
    d.t0 = as_float();
  } else if (key == "t_end") {
    d.t_end = as_float();
  } else if (key == "dt") {
    d.dt = as_float();
  } else if (key == "atol") {
    d.atol = as_float();
  } else if (key == "rtol") {
    d.rtol = as_float();
  } else if (key == "stepper") {
    if (!v.is_string()) schema_error(where + " must be a string (a stepper name)", c.at(&v, where));
    d.stepper = v.as_string()->get();
  } else if (key == "record") {
    if (auto b = v.as_boolean()) {
      d.record = b->get();
    } else {  // the reference's bool() would turn "no" into true: refuse anything but a boolean
      schema_error(where + " must be a boolean, got " + py_type(v), c.at(&v, where));
    }
  } else if (key == "max_steps") {
    if (auto i = v.as_integer()) {
      d.max_steps = i->get();
    } else if (auto f = v.as_floating_point(); f && std::isfinite(f->get())) {
      d.max_steps = static_cast<std::int64_t>(std::trunc(f->get()));
    } else if (auto b = v.as_boolean()) {
      d.max_steps = b->get() ? 1 : 0;
    } else if (v.is_string()) {
      const std::string s = v.as_string()->get();
      auto x = py_parse_int(s);
      if (!x) schema_error(where + " must be an integer, got str '" + s + "'", c.at(&v, where));
      d.max_steps = *x;
    } else {
      schema_error(where + " must be an integer, got " + py_type(v), c.at(&v, where));
    }
  } else if (key == "stop") {
    const std::string stop_tbl = ctx == "[sim]" ? "[sim.stop]" : ctx + ".stop";
    if (v.is_string()) {
      Located l = c.located(v, where);
      if (util::trim(l.text).empty()) schema_error(where + " must be a non-empty string expression", l.loc);
      sim.stop = std::move(l);
    } else if (const toml::table* st = v.as_table()) {
      const toml::node* cond = st->get("cond");
      if (!cond || !cond->is_string() || util::trim(cond->as_string()->get()).empty()) {
        schema_error(stop_tbl + ".cond must be a non-empty string",
                     cond ? c.at(cond, stop_tbl + ".cond") : c.at(&v, stop_tbl));
      }
      if (const toml::node* ph = st->get("phase")) {
        if (!ph->is_string() || ph->as_string()->get() != "post") {
          schema_error(stop_tbl + ".phase must be 'post'", c.at(ph, stop_tbl + ".phase"));
        }
      }
      sim.stop = c.located(*cond, stop_tbl + ".cond");
    } else {
      schema_error(where + " must be a table ([sim.stop]) or a string expression", c.at(&v, where));
    }
  } else {
    // Stepper settings: kept for the stepper's configuration.
    erase_extra(key);
    if (auto i = v.as_integer()) {
      d.extras.emplace_back(key, static_cast<double>(i->get()));
    } else if (auto f = v.as_floating_point()) {
      d.extras.emplace_back(key, f->get());
    } else if (auto b = v.as_boolean()) {
      d.extras.emplace_back(key, b->get() ? 1.0 : 0.0);
    } else if (v.is_string()) {
      d.string_extras.emplace_back(key, v.as_string()->get());
    } else {
      schema_error(where + " must be a number or a string (a stepper setting), got " + py_type(v),
                   c.at(&v, where));
    }
  }
}

}  // namespace dynlib::model::detail

namespace dynlib::model::detail {
namespace {

// [sim] keys that are run defaults (everything else must be a stepper setting).
const std::vector<std::string> kSimKeys = {
    "t0", "t_end", "dt", "stepper", "record", "record_interval", "atol", "rtol", "max_steps", "stop"};

double number_of(const toml::node& v) {
  if (auto i = v.as_integer()) return static_cast<double>(i->get());
  if (auto f = v.as_floating_point()) return f->get();
  if (auto b = v.as_boolean()) return b->get() ? 1.0 : 0.0;
  if (v.is_string()) return py_parse_float(v.as_string()->get()).value_or(std::nan(""));
  return std::nan("");
}

}  // namespace

void check_sim_table(const TomlCtx& c, const toml::table& t, const SimSpec& sim, std::optional<ir::Kind> kind,
                     const std::string& ctx) {
  const auto& d = sim.defaults;
  auto where = [&](const std::string& key) { return ctx + "." + key; };
  auto at_value = [&](const std::string& key) { return c.at(t.get(key), where(key)); };
  auto bad = [&](const std::string& key, const std::string& rule, double v) {
    schema_error(where(key) + " " + rule + " (got " + util::shortest_double(v) + ")", at_value(key));
  };

  // Unknown keys first: a typo (`tend = 10`) would otherwise be taken for a stepper setting.
  std::vector<std::string> known = kSimKeys;
  const auto& settings = kernels::all_setting_names();
  known.insert(known.end(), settings.begin(), settings.end());
  for (const auto& [key, node] : ordered(t)) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    schema_error("Unknown key '" + key + "' in " + ctx + util::did_you_mean(key, known) +
                     ". Valid keys: " + util::join(kSimKeys, ", ") +
                     ", and the settings of the stepper (see `dynlib steppers show NAME`)",
                 c.at(t.find(key)->first.source(), where(key)));
  }

  // The stepper: known, and for this kind of model.
  const kernels::StepperInfo* info = nullptr;
  if (!d.stepper.empty()) {
    info = kernels::find_stepper(d.stepper);
    if (!info) {
      std::vector<std::string> names;
      for (const auto& s : kernels::all_steppers()) names.push_back(s.name);
      schema_error("Unknown stepper '" + d.stepper + "' in " + where("stepper") +
                       util::did_you_mean(d.stepper, names) + ". Valid steppers: " + util::join(names, ", "),
                   at_value("stepper"));
    }
    if (kind && info->kind != *kind) {
      schema_error(where("stepper") + " '" + d.stepper + "' is a stepper for " + info->kind_name() +
                       " models; this model is a" + (*kind == ir::Kind::ode ? "n ode" : " map") + " model",
                   at_value("stepper"));
    }
  } else if (kind) {
    info = kernels::find_stepper(*kind == ir::Kind::ode ? "rk4" : "map");
  }

  // Run defaults.
  if (t.get("t0") && !std::isfinite(d.t0)) bad("t0", "must be finite", d.t0);
  if (t.get("t_end") && !std::isfinite(d.t_end)) bad("t_end", "must be finite", d.t_end);
  if (t.get("dt") && !(d.dt > 0.0 && std::isfinite(d.dt))) bad("dt", "must be > 0 and finite", d.dt);
  if (t.get("atol") && !(d.atol >= 0.0 && std::isfinite(d.atol)))
    bad("atol", "must be >= 0 and finite", d.atol);
  if (t.get("rtol") && !(d.rtol >= 0.0 && std::isfinite(d.rtol)))
    bad("rtol", "must be >= 0 and finite", d.rtol);
  if (d.atol == 0.0 && d.rtol == 0.0) {
    schema_error(ctx + ": atol and rtol cannot both be 0 (the error test needs a tolerance)",
                 t.get("rtol") ? at_value("rtol") : at_value("atol"));
  }
  if (t.get("max_steps") && d.max_steps < 1)
    bad("max_steps", "must be >= 1", static_cast<double>(d.max_steps));
  if (const toml::node* ri = t.get("record_interval")) {
    const double v = number_of(*ri);
    if (!(v >= 1.0 && v == std::trunc(v) && std::isfinite(v)))
      bad("record_interval", "must be an integer >= 1", v);
  }

  // Stepper settings: the definition of the model's stepper when it has the setting, else of the stepper that
  // has it (the stepper may be chosen when the model is built).
  for (const auto& [key, node] : ordered(t)) {
    if (std::find(kSimKeys.begin(), kSimKeys.end(), key) != kSimKeys.end()) continue;
    const kernels::ConfigField* f = kernels::find_setting(key, info);
    if (!f) continue;
    if (node->is_string()) {
      const std::string name = node->as_string()->get();
      if (f->enum_values.empty()) {
        schema_error(where(key) + " must be a number, got str '" + name + "'", at_value(key));
      }
      if (!kernels::setting_code(*f, name)) {
        std::vector<std::string> names;
        for (const auto& ev : f->enum_values) names.push_back(ev.first);
        schema_error(where(key) + " must be one of " + kernels::setting_value_names(*f) + ", got '" + name +
                         "'" + util::did_you_mean(name, names),
                     at_value(key));
      }
      continue;
    }
    const double v = number_of(*node);
    const std::string err = kernels::setting_value_error(*f, v);
    if (!err.empty()) schema_error(where(key) + " " + err, at_value(key));
  }
}

}  // namespace dynlib::model::detail
