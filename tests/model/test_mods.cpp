// Mods: verbs, targets, errors, group exclusivity; presets and tags are kept (docs/internals/differences.md).
#include "model/load_test_util.hpp"
#include "model/mods.hpp"

using namespace dynlib;
using namespace dynlib::test;
using Catch::Matchers::Contains;

namespace {

const std::string kBase =
    "[model]\ntype='ode'\n[constants]\nk = 4\n[states]\nx=1.0\ny=2.0\n[params]\na=1.0\nb=2.0\n"
    "[equations.rhs]\nx='-a*x'\ny='-b*y'\n"
    "[aux]\nE='x*x'\nF='y*y'\n"
    "[functions.f]\nargs=['u']\nexpr='u*2'\n[functions.g]\nexpr='1'\n"
    "[events.e1]\ncond='x>1'\naction='x = 0'\ntags=['keep']\n[events.e2]\ncond='y>1'\naction.y='0'\n"
    "[presets.p.params]\na=3\n";

model::ModSpec mod(const std::string& body, const std::string& name = "") {
  return model::parse_mod_text(body, {"mod.toml", "mod file 'mod.toml'"}, name, "mod.toml");
}

model::ModelSpec apply(const std::vector<std::string>& bodies) {
  auto spec = parse(kBase);
  std::vector<model::ModSpec> mods;
  for (const auto& b : bodies) mods.push_back(mod(b));
  model::apply_mods(spec, mods);
  return spec;
}

std::string mod_error(const std::vector<std::string>& bodies) {
  return catch_error<ModError>([&] { apply(bodies); }).message();
}

}  // namespace

TEST_CASE("mods: remove", "[mods]") {
  auto s =
      apply({"[mod.remove.events]\nnames=['e1']\n[mod.remove.aux]\nnames=['E']\n"
             "[mod.remove.functions]\nnames=['g']\n[mod.remove.params]\nnames=['b']\n"});
  REQUIRE(s.events.size() == 1);
  CHECK(s.events[0].name == "e2");
  REQUIRE(s.aux.size() == 1);
  CHECK(s.aux[0].first == "F");
  REQUIRE(s.functions.size() == 1);
  CHECK(s.params.size() == 1);
  CHECK(mod_error({"[mod.remove.events]\nnames=['zz']\n"}) == "remove.events: event 'zz' does not exist");
  CHECK(mod_error({"[mod.remove.params]\nnames=['zz']\n"}) == "remove.params.zz: param does not exist");
  CHECK(mod_error({"[mod.remove.aux]\nnames=['zz']\n"}) == "remove.aux.zz: aux does not exist");
  CHECK(mod_error({"[mod.remove.functions]\nnames=['zz']\n"}) ==
        "remove.functions.zz: function does not exist");
}

TEST_CASE("mods: replace keeps position", "[mods]") {
  auto s =
      apply({"[mod.replace.events.e1]\ncond='x>5'\ntags=['new']\n[mod.replace.aux]\nE='x+1'\n"
             "[mod.replace.functions.f]\nargs=['v']\nexpr='v*3'\n"});
  CHECK(s.events[0].name == "e1");
  CHECK(s.events[0].cond.text == "x>5");
  CHECK(s.events[0].tags == std::vector<std::string>{"new"});  // tags of replaced events are kept
  CHECK(s.aux[0].second.text == "x+1");
  CHECK(s.functions[0].args == std::vector<std::string>{"v"});
  CHECK(mod_error({"[mod.replace.events.zz]\ncond='1'\n"}) == "replace.events.zz: event does not exist");
  CHECK(mod_error({"[mod.replace.aux]\nzz='1'\n"}) == "replace.aux.zz: aux does not exist");
  CHECK(mod_error({"[mod.replace.aux]\nE=1\n"}) == "replace.aux.E: value must be a string expression");
  CHECK(mod_error({"[mod.replace.functions.zz]\nexpr='1'\n"}) ==
        "replace.functions.zz: function does not exist");
}

TEST_CASE("mods: add appends", "[mods]") {
  auto s =
      apply({"[mod.add.events.e3]\ncond='t>1'\nlog=['t']\n[mod.add.params]\nc=\"k/2\"\nd=5\n"
             "[mod.add.aux]\nG='x'\n[mod.add.functions.h]\nexpr='2'\n"});
  CHECK(s.events.back().name == "e3");
  REQUIRE(s.params.size() == 4);
  CHECK(s.params[2].first == "c");
  CHECK(s.params[2].second.value == 2.0);  // numeric strings evaluated with the model's constants
  CHECK(s.aux.back().first == "G");
  CHECK(s.functions.back().name == "h");
  CHECK(mod_error({"[mod.add.events.e1]\ncond='1'\n"}) == "add.events.e1: event already exists");
  CHECK(mod_error({"[mod.add.params]\na=1\n"}) == "add.params.a: param already exists");
  CHECK(mod_error({"[mod.add.aux]\nE='1'\n"}) == "add.aux.E: aux already exists");
  CHECK(mod_error({"[mod.add.aux]\nZ=1\n"}) == "add.aux.Z: value must be a string expression");
  CHECK(mod_error({"[mod.add.functions.f]\nexpr='1'\n"}) == "add.functions.f: function already exists");
}

TEST_CASE("mods: set", "[mods]") {
  auto s =
      apply({"[mod.set.states]\ny=9\n[mod.set.params]\na='k*2'\n[mod.set.aux]\nE='0'\nH='1'\n"
             "[mod.set.functions.g]\nexpr='3'\n[mod.set.functions.q]\nexpr='4'\n"
             "[mod.set.sim]\ndt=0.5\nstepper='euler'\nstop='x > 3'\nsafety=0.9\n"});
  CHECK(s.states[1].second.value == 9.0);
  CHECK(s.params[0].second.value == 8.0);
  CHECK(s.aux[0].second.text == "0");
  CHECK(s.aux.back().first == "H");
  CHECK(s.functions[1].body.text == "3");
  CHECK(s.functions.back().name == "q");
  CHECK(s.sim.defaults.dt == 0.5);
  CHECK(s.sim.defaults.stepper == "euler");
  REQUIRE(s.sim.stop);
  CHECK(s.sim.stop->text == "x > 3");
  REQUIRE(s.sim.defaults.extras.size() == 1);
  CHECK(mod_error({"[mod.set.states]\nzz=1\n"}) == "set.states.zz: unknown state");
  CHECK(mod_error({"[mod.set.params]\nzz=1\n"}) == "set.params.zz: unknown param");
  CHECK(mod_error({"[mod.set.aux]\nE=1\n"}) == "set.aux.E: value must be a string expression");
  CHECK_THAT(catch_error<ModError>([] { apply({"[mod.set.sim]\ndt='x'\n"}); }).message(),
             Contains("set.sim.dt must be a number"));
  // set.sim is checked like [sim]: unknown keys with a suggestion, ranges, settings by value name.
  CHECK_THAT(catch_error<ModelLoadError>([] { apply({"[mod.set.sim]\ntend=3\n"}); }).message(),
             Contains("Unknown key 'tend' in set.sim (did you mean 't_end'?)"));
  CHECK_THAT(catch_error<ModelLoadError>([] { apply({"[mod.set.sim]\ndt=-1\n"}); }).message(),
             Contains("set.sim.dt must be > 0 and finite (got -1)"));
  CHECK_THAT(
      catch_error<ModelLoadError>([] { apply({"[mod.set.sim]\njacobian_mode='exernal'\n"}); }).message(),
      Contains("set.sim.jacobian_mode must be one of 'internal', 'external', got 'exernal'"));
}

TEST_CASE("mods: unsupported targets", "[mods]") {
  CHECK(mod_error({"[mod.add.states]\nz=1\n"}) ==
        "add.states: unsupported target. Supported targets: aux, events, functions, params");
  CHECK(mod_error({"[mod.remove.states]\nnames=['x']\n"}) ==
        "remove.states: unsupported target. Supported targets: aux, events, functions, params");
  CHECK(mod_error({"[mod.replace.params]\na=1\n"}) ==
        "replace.params: unsupported target. Supported targets: aux, events, functions");
  CHECK(mod_error({"[mod.set.equations]\nx='1'\n"}) ==
        "set.equations: unsupported target. Supported targets: aux, functions, params, sim, states");
}

TEST_CASE("mods: order of verbs and of mods", "[mods]") {
  // remove then add of the same name in one mod works (remove runs first).
  auto s = apply({"[mod.remove.aux]\nnames=['E']\n[mod.add.aux]\nE='7'\n"});
  CHECK(s.aux.back().first == "E");
  CHECK(s.aux.back().second.text == "7");
  // later mods see earlier ones
  auto t = apply({"[mod.set.params]\na=5\n", "[mod.set.params]\na=6\n"});
  CHECK(t.params[0].second.value == 6.0);
}

TEST_CASE("mods: presets and event tags are kept", "[mods]") {
  auto s = apply({"[mod.set.params]\na=5\n"});
  REQUIRE(s.presets.size() == 1);
  CHECK(s.events[0].tags == std::vector<std::string>{"keep"});
  auto t = apply({"[mod.add.events.tagged]\ncond='x>0'\ntags=['b','a']\n"});
  CHECK(t.events.back().tags == std::vector<std::string>{"a", "b"});
}

TEST_CASE("mods: groups and exclusivity", "[mods]") {
  const std::string a = "[mod]\nname='A'\ngroup='drive'\nexclusive=true\n";
  const std::string b = "[mod]\nname='B'\ngroup='drive'\n";
  const std::string c = "[mod]\nname='C'\ngroup='other'\n";
  CHECK(mod_error({b, a}) == "group 'drive' allows only one active mod but received: A, B");
  CHECK_NOTHROW(apply({a, c}));
  CHECK_NOTHROW(apply({b, "[mod]\nname='B2'\ngroup='drive'\n"}));
}

TEST_CASE("mods: mod event normalization and errors are located", "[mods]") {
  auto e = catch_error<ModError>([] { apply({"[mod.add.events.z]\nphase='end'\n"}); });
  CHECK(e.message() == "add.events.z.cond must be a string expression");
  CHECK(e.where().file == "mod.toml");
  CHECK(e.where().line > 0);
  auto r = catch_error<ModError>([] { apply({"[mod.add.events.z]\ncond='1'\nrecord=true\n"}); });
  CHECK_THAT(r.message(), Contains("add.events.z.record is no longer supported"));
  auto m = catch_error<ModError>([] { apply({"[mod.remove.events]\nnames=['nope']\n"}); });
  CHECK(m.where().line == 2);
}
