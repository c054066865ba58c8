// TOML -> ModelSpec: every table and key of the model language (accepted shapes and values).
#include <dynlib/warnings.hpp>

#include "model/load_test_util.hpp"

using namespace dynlib;
using namespace dynlib::test;
using Catch::Matchers::Contains;

TEST_CASE("parse: [model] keys, dtype aliases", "[parse]") {
  auto s = parse("[model]\ntype='map'\nname='Logistic'\ndtype='double'\nextra_key=1\n[states]\nx=0.1\n");
  CHECK(s.kind == ir::Kind::map);
  CHECK(s.name == "Logistic");
  CHECK(s.dtype == "float64");
  CHECK(s.source == "test.toml");
  CHECK(parse("[model]\ntype='ode'\ndtype='single'\n[states]\n").dtype == "float32");
  CHECK(parse("[model]\ntype='ode'\ndtype='float'\n[states]\n").dtype == "float64");
  CHECK(parse("[model]\ntype='ode'\n[states]\n").dtype == "float64");
  CHECK(parse("[model]\ntype='map'\ndtype='int64'\n[states]\n").dtype == "int64");
  CHECK(parse("[model]\ntype='ode'\n[states]\n").states.empty());
}

TEST_CASE("parse: states, params, constants keep order, ints and numeric strings", "[parse]") {
  auto s = parse(
      "[model]\ntype='ode'\n[constants]\nk = 2\nk2 = \"k*3\"\n"
      "[states]\nz = 1\ny = 2.5\nx = \"pi/2\"\nb = true\n"
      "[params]\nbeta = \"8.0/3.0\"\nalpha = \"k2 + 1\"\nq = -1e-3\n");
  REQUIRE(s.states.size() == 4);
  CHECK(s.states[0].first == "z");
  CHECK(s.states[0].second.is_int);
  CHECK(s.states[0].second.value == 1.0);
  CHECK(s.states[1].first == "y");
  CHECK_FALSE(s.states[1].second.is_int);
  CHECK(s.states[2].second.value == Approx(1.5707963267948966));
  CHECK(s.states[3].second.value == 1.0);
  REQUIRE(s.params.size() == 3);
  CHECK(s.params[0].first == "beta");
  CHECK(s.params[0].second.value == 8.0 / 3.0);
  CHECK(s.params[1].second.value == 7.0);
  CHECK(s.params[2].second.value == -1e-3);
  REQUIRE(s.constants.size() == 2);
  CHECK(s.constants[1].second.value == 6.0);
  // value locations
  CHECK(s.params[0].second.loc.line == 12);
  CHECK(s.params[0].second.loc.column == 9);  // first character inside the quotes
  CHECK(s.params[0].second.loc.toml_path == "[params].beta");
}

TEST_CASE("parse: equations table form and block form", "[parse]") {
  auto s = parse(
      "[model]\ntype='ode'\n[states]\nx=1.0\ny=0.0\nz=0.0\n"
      "[equations.rhs]\nx = \"-x\"\n"
      "[equations]\nexpr = \"\"\"\n  dy = x - y   # trailing comment\n\n  d( z ) = -z\n\"\"\"\n");
  REQUIRE(s.equations.size() == 3);
  CHECK(s.equations[0].target == "x");
  CHECK_FALSE(s.equations[0].derivative);
  CHECK(s.equations[0].rhs.text == "-x");
  CHECK(s.equations[0].rhs.loc.line == 8);
  CHECK(s.equations[0].rhs.loc.column == 6);
  CHECK(s.equations[0].rhs.loc.toml_path == "[equations.rhs].x");
  CHECK(s.equations[1].target == "y");
  CHECK(s.equations[1].derivative);
  CHECK(s.equations[1].rhs.text == "x - y   # trailing comment");
  CHECK(s.equations[1].rhs.loc.line == 11);
  CHECK(s.equations[1].rhs.loc.column == 8);
  CHECK(s.equations[1].rhs.loc.line_text == "  dy = x - y   # trailing comment");
  CHECK(s.equations[2].target == "z");
  CHECK(s.equations[2].rhs.loc.line == 13);
}

TEST_CASE("parse: block names starting with d that are not derivatives", "[parse]") {
  auto s = parse("[model]\ntype='ode'\n[states]\ndelta=1.0\n[equations]\nexpr = 'delta = -delta'\n");
  REQUIRE(s.equations.size() == 1);
  CHECK(s.equations[0].target == "delta");
  CHECK_FALSE(s.equations[0].derivative);
  CHECK(s.equations[0].rhs.loc.line == 6);
  CHECK(s.equations[0].rhs.loc.column == 17);
}

TEST_CASE("parse: map inverse and jacobian", "[parse]") {
  auto s = parse(
      "[model]\ntype='map'\n[states]\nx=0.0\ny=0.0\n[params]\na=1.4\nb=0.3\n"
      "[equations.rhs]\nx = \"1 - a*x^2 + y\"\ny = \"b*x\"\n"
      "[equations.inverse.rhs]\nx = \"y\"\n[equations.inverse]\nexpr = \"y = (x - a + y**2) / b\"\n"
      "[equations.jacobian]\nexpr = [[\"-2*a*x\", 1], [\"b\", 0.5]]\n");
  REQUIRE(s.inverse);
  REQUIRE(s.inverse->size() == 2);
  CHECK(s.inverse->at(1).target == "y");
  REQUIRE(s.jacobian);
  CHECK(s.jacobian->at(0).at(0).text == "-2*a*x");
  CHECK(s.jacobian->at(0).at(1).text == "1");
  CHECK(s.jacobian->at(1).at(1).text == "0.5");
  CHECK(s.jacobian->at(1).at(0).loc.toml_path == "[equations.jacobian].expr[1][0]");
}

TEST_CASE("parse: aux and functions", "[parse]") {
  auto s = parse(
      "[model]\ntype='ode'\n[states]\nx=1.0\n[aux]\nE = \"x*x\"\nA = \"E + 1\"\n"
      "[functions.f]\nargs = [\"u\", \"v\"]\nexpr = \"u + v\"\n[functions.g]\nexpr = \"1\"\n"
      "[functions]\nh = {args = [\"phi\"], expr = \"phi*2\"}\n");
  REQUIRE(s.aux.size() == 2);
  CHECK(s.aux[0].first == "E");
  CHECK(s.aux[1].first == "A");
  CHECK(s.aux[0].second.loc.toml_path == "[aux].E");
  REQUIRE(s.functions.size() == 3);
  CHECK(s.functions[0].name == "f");
  CHECK(s.functions[0].args == std::vector<std::string>{"u", "v"});
  CHECK(s.functions[1].args.empty());
  CHECK(s.functions[2].name == "h");
  CHECK(s.functions[2].body.text == "phi*2");
}

TEST_CASE("parse: events with all keys", "[parse]") {
  auto s = parse(
      "[model]\ntype='ode'\n[states]\nv=1.0\nu=0.0\n[params]\nc=0.0\nd=1.0\n"
      "[events.reset]\nphase = \"both\"\ncond = \"v >= 1\"\naction = \"\"\"\nv = c\nu = u + d\n\"\"\"\n"
      "log = [\"t\", \"v\"]\ntags = [\"zebra\", \"alpha\", \"alpha\", \"beta\"]\n"
      "[events.kick]\ncond = \"u > 2\"\naction.u = \"0\"\naction.d = \"d*2\"\n"
      "[events.inl]\ncond = \"u < -2\"\naction = { u = \"1\" }\n"
      "[events.flat]\ncond = \"u < -5\"\n\"action.u\" = \"3\"\n");
  REQUIRE(s.events.size() == 4);
  const auto& r = s.events[0];
  CHECK(r.name == "reset");
  CHECK(r.phase == ir::Phase::both);
  CHECK(r.cond.text == "v >= 1");
  REQUIRE(r.actions.size() == 2);
  CHECK(r.actions[0].target == "v");
  CHECK(r.actions[0].rhs.text == "c");
  CHECK(r.actions[0].rhs.loc.line == 13);
  CHECK(r.actions[0].rhs.loc.column == 5);
  CHECK(r.actions[1].target == "u");
  CHECK(r.actions[1].rhs.text == "u + d");
  REQUIRE(r.log.size() == 2);
  CHECK(r.log[1].text == "v");
  CHECK(r.tags == std::vector<std::string>{"alpha", "beta", "zebra"});
  CHECK(s.events[1].name == "kick");
  CHECK(s.events[1].phase == ir::Phase::end);
  REQUIRE(s.events[1].actions.size() == 2);
  CHECK(s.events[1].actions[0].target == "u");
  CHECK(s.events[1].actions[1].target == "d");
  CHECK(s.events[1].actions[1].rhs.loc.toml_path == "[events.kick].action.d");
  REQUIRE(s.events[2].actions.size() == 1);
  CHECK(s.events[2].actions[0].rhs.text == "1");
  REQUIRE(s.events[3].actions.size() == 1);
  CHECK(s.events[3].actions[0].target == "u");
  CHECK(parse(std::string(kMinimal) + "[events.s]\nphase='start'\ncond='x>0'\n").events[0].phase ==
        ir::Phase::start);
}

TEST_CASE("parse: presets", "[parse]") {
  auto s = parse(
      "[model]\ntype='ode'\n[states]\nx=1.0\n[params]\na=1\nb=2\n"
      "[presets.fast.params]\na = 10\nb = 2.5\n[presets.fast.states]\nx = 0.5\n"
      "[presets.only_state.states]\nx = true\n");
  REQUIRE(s.presets.size() == 2);
  CHECK(s.presets[0].name == "fast");
  REQUIRE(s.presets[0].params.size() == 2);
  CHECK(s.presets[0].params[0].first == "a");
  CHECK(s.presets[0].params[0].second.value == 10.0);
  CHECK(s.presets[0].states[0].second.value == 0.5);
  CHECK(s.presets[1].params.empty());
  CHECK(s.presets[1].states[0].second.value == 1.0);
}

TEST_CASE("parse: [sim] known keys, coercion, extras, stop", "[parse]") {
  auto s =
      parse(std::string(kMinimal) +
            "[sim]\nt0 = 1\nt_end = \"20.5\"\ndt = 0.1\nstepper = \"rk45\"\nrecord = false\natol = 1e-10\n"
            "rtol = 1e-6\nmax_steps = 1e3\nsafety = 0.8\njacobian_mode = \"external\"\nmin_step = 0\n"
            "stop = \"x > 0.8\"\n");
  const auto& d = s.sim.defaults;
  CHECK(d.t0 == 1.0);
  CHECK(d.t_end == 20.5);
  CHECK(d.dt == 0.1);
  CHECK(d.stepper == "rk45");
  CHECK_FALSE(d.record);
  CHECK(d.atol == 1e-10);
  CHECK(d.rtol == 1e-6);
  CHECK(d.max_steps == 1000);
  REQUIRE(d.extras.size() == 2);
  CHECK(d.extras[0] == std::pair<std::string, double>{"safety", 0.8});
  CHECK(d.extras[1] == std::pair<std::string, double>{"min_step", 0.0});
  REQUIRE(d.string_extras.size() == 1);
  CHECK(d.string_extras[0].second == "external");
  REQUIRE(s.sim.stop);
  CHECK(s.sim.stop->text == "x > 0.8");
  CHECK(s.sim.stop->loc.toml_path == "[sim].stop");

  auto t = parse(std::string(kMinimal) + "[sim.stop]\ncond = \"x < 0\"\nphase = \"post\"\n");
  REQUIRE(t.sim.stop);
  CHECK(t.sim.stop->loc.toml_path == "[sim.stop].cond");
  auto u = parse(kMinimal);
  CHECK(u.sim.defaults.stepper.empty());
  CHECK(u.sim.defaults.dt == 0.01);
  CHECK(u.sim.defaults.max_steps == 1000000);
  CHECK_FALSE(u.sim.stop);
}

TEST_CASE("parse: other top-level tables are ignored", "[parse]") {
  auto s =
      parse(std::string(kMinimal) + "[meta]\nauthor='me'\n[mods.fast]\nset.params.a = 1\n[mod]\nname='x'\n");
  CHECK(s.states.size() == 1);
}

TEST_CASE("parse: every embedded builtin model parses", "[parse][builtin]") {
  for (const auto& name : builtin_model_names()) {
    INFO(name);
    CHECK_NOTHROW(model::load_model_spec("builtin://" + name));
  }
}

TEST_CASE("parse: unknown keys where the language ignores them are warned about", "[parse][warnings]") {
  std::vector<std::string> seen;
  set_warning_handler([&](std::string_view m) { seen.emplace_back(m); });
  auto s = parse(std::string("[model]\ntype='ode'\ndescription='x'\n[states]\nx=1.0\n") +
                 "[events.e]\ncond='x>1'\nphse='start'\n[functions.f]\nexpr='1'\nbody='2'\n"
                 "[presets.p]\nparams={}\nstates={x=1}\nnote='n'\n");
  set_warning_handler(nullptr);
  CHECK(s.events[0].phase == ir::Phase::end);
  REQUIRE(seen.size() == 4);
  CHECK(seen[0] == "test.toml:3:1: unknown key 'description' in [model] is ignored");
  CHECK_THAT(seen[1], Contains("unknown key 'body' in [functions.f]"));  // functions are read before events
  CHECK(seen[2] == "test.toml:8:1: unknown key 'phse' in [events.e] is ignored (did you mean 'phase'?)");
  CHECK_THAT(seen[3], Contains("unknown key 'note' in [presets.p]"));
  // builtin models are warning-free
  seen.clear();
  set_warning_handler([&](std::string_view m) { seen.emplace_back(m); });
  for (const auto& name : builtin_model_names()) model::load_model_spec("builtin://" + name);
  set_warning_handler(nullptr);
  CHECK(seen.empty());
}

TEST_CASE("parse: expression locations for every string flavour", "[parse][locations]") {
  auto s = parse(std::string(kMinimal) +
                 "[aux]\n"
                 "A = 'x + 1'\n"
                 "B = '''x + 2'''\n"
                 "C = \"\"\"x + 3\"\"\"\n"
                 "D = \"\"\"\n    x + 4\n\"\"\"\n"
                 "[equations]\nexpr = '''\n\n   dx = -x\n'''\n");
  REQUIRE(s.aux.size() == 4);
  CHECK(s.aux[0].second.loc.line == 6);
  CHECK(s.aux[0].second.loc.column == 6);
  CHECK(s.aux[1].second.loc.column == 8);
  CHECK(s.aux[2].second.loc.column == 8);
  CHECK(s.aux[3].second.loc.line == 10);  // first line of the block content
  CHECK(s.aux[3].second.loc.column == 1);
  REQUIRE(s.equations.size() == 1);
  CHECK(s.equations[0].rhs.loc.line == 15);
  CHECK(s.equations[0].rhs.loc.column == 9);
  CHECK(s.equations[0].rhs.loc.line_text == "   dx = -x");
}
