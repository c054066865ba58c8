// Test helpers: build ModelSpec objects by hand and lower single expressions.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "model/eval_helper.hpp"
#include "model/lower.hpp"
#include "model/spec.hpp"

namespace dynlib::test {

inline model::Located located(std::string text, std::string path, int line = 0, int col = 0) {
  model::Located l;
  l.text = std::move(text);
  l.loc.file = "test.toml";
  l.loc.toml_path = std::move(path);
  l.loc.line = line;
  l.loc.column = col;
  return l;
}

struct SpecBuilder {
  model::ModelSpec s;
  SpecBuilder() { s.source = "test.toml"; }
  SpecBuilder& map() {
    s.kind = ir::Kind::map;
    return *this;
  }
  SpecBuilder& dtype(std::string d) {
    s.dtype = std::move(d);
    return *this;
  }
  SpecBuilder& state(std::string n, double v) {
    model::NumberValue nv;
    nv.value = v;
    nv.loc.toml_path = "[states]." + n;
    s.states.emplace_back(std::move(n), nv);
    return *this;
  }
  SpecBuilder& param(std::string n, double v) {
    model::NumberValue nv;
    nv.value = v;
    nv.loc.toml_path = "[params]." + n;
    s.params.emplace_back(std::move(n), nv);
    return *this;
  }
  SpecBuilder& constant(std::string n, double v) {
    model::NumberValue nv;
    nv.value = v;
    s.constants.emplace_back(std::move(n), nv);
    return *this;
  }
  SpecBuilder& eq(std::string target, std::string text, bool derivative = false, int line = 0, int col = 0) {
    model::EquationLine el;
    el.target = target;
    el.derivative = derivative;
    el.rhs = located(std::move(text), "[equations.rhs]." + target, line, col);
    s.equations.push_back(std::move(el));
    return *this;
  }
  SpecBuilder& inv(std::string target, std::string text) {
    if (!s.inverse) s.inverse.emplace();
    model::EquationLine el;
    el.target = target;
    el.rhs = located(std::move(text), "[equations.inverse.rhs]." + target);
    s.inverse->push_back(std::move(el));
    return *this;
  }
  SpecBuilder& aux(std::string n, std::string text) {
    s.aux.emplace_back(n, located(std::move(text), "[aux]." + n));
    return *this;
  }
  SpecBuilder& fn(std::string n, std::vector<std::string> args, std::string body) {
    model::FunctionSpec f;
    f.name = n;
    f.args = std::move(args);
    f.body = located(std::move(body), "[functions." + n + "].expr");
    s.functions.push_back(std::move(f));
    return *this;
  }
  SpecBuilder& event(std::string n, std::string cond,
                     std::vector<std::pair<std::string, std::string>> actions = {},
                     std::vector<std::string> log = {}, ir::Phase phase = ir::Phase::end) {
    model::EventSpec e;
    e.name = n;
    e.phase = phase;
    e.cond = located(std::move(cond), "[events." + n + "].cond");
    for (auto& [t, x] : actions) {
      model::EquationLine el;
      el.target = t;
      el.rhs = located(x, "[events." + n + "].action." + t);
      e.actions.push_back(std::move(el));
    }
    for (auto& l : log) e.log.push_back(located(l, "[events." + n + "].log"));
    e.loc.toml_path = "[events." + n + "]";
    s.events.push_back(std::move(e));
    return *this;
  }
  SpecBuilder& stop(std::string text) {
    s.sim.stop = located(std::move(text), "[sim].stop");
    return *this;
  }
  ir::ModelIR lower() const { return model::lower_model(s); }
};

// A model with states x=3, y=-2, params a=0.5, b=4, and one equation x = <text> (y = 0).
inline SpecBuilder expr_model(const std::string& text) {
  SpecBuilder b;
  b.state("x", 3.0).state("y", -2.0).param("a", 0.5).param("b", 4.0).eq("x", text).eq("y", "0");
  return b;
}

inline double eval_rhs0(const ir::ModelIR& m, double t = 0.0) {
  EvalEnv env;
  env.t = t;
  env.y = m.state_ic;
  env.p = m.param_vals;
  return eval(m.rhs.at(0), env);
}

// Lower `x = <text>` in expr_model and evaluate it at the initial values.
inline double ev(const std::string& text) { return eval_rhs0(expr_model(text).lower()); }

}  // namespace dynlib::test
