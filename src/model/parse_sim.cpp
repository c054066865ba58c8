// TOML front end: the keys of [sim] (run defaults and stepper settings).
#include <cmath>

#include "model/parse_internal.hpp"

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
