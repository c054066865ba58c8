// Lowering of the builtin models and of TOML text through dynlib::load_model (end to end).
#include <catch2/catch.hpp>
#include <dynlib/model.hpp>
#include <set>

#include "model/eval_helper.hpp"

namespace ir = dynlib::ir;

namespace {
std::string show_rhs(const ir::ModelIR& m, std::size_t i) { return ir::to_string(m.rhs.at(i), m); }
}  // namespace

TEST_CASE("lower builtins: every builtin lowers, hashes are distinct and stable", "[lower][builtin]") {
  std::set<std::string> hashes;
  for (const auto& name : dynlib::builtin_model_names()) {
    INFO(name);
    auto m = dynlib::load_model("builtin://" + name);
    REQUIRE(m);
    CHECK(m->rhs.size() == m->n_states());
    for (const auto& e : m->rhs) CHECK(e != nullptr);
    CHECK(m->aux_exprs.size() == m->n_aux());
    auto again = dynlib::load_model("builtin://" + name);
    CHECK(again->hash == m->hash);
    hashes.insert(m->hash.hex());
    for (const auto& e : m->rhs) CHECK_FALSE(ir::to_string(e, *m).empty());
  }
  CHECK(hashes.size() == dynlib::builtin_model_names().size());
}

TEST_CASE("lower builtins: lorenz, standard, izhikevich, henon2", "[lower][builtin]") {
  auto lz = dynlib::load_model("builtin://ode/lorenz");
  REQUIRE(lz->n_params() == 3);
  CHECK(lz->param_vals[2] == 2.6666666666666665);
  auto st = dynlib::load_model("builtin://map/standard");
  CHECK(show_rhs(*st, 1) == "(theta + p + K * sin(theta)) % (2.0 * 3.141592653589793)");
  dynlib::test::EvalEnv env;
  env.y = {3.0, 5.0};
  env.p = st->param_vals;
  CHECK(dynlib::test::eval(st->rhs[1], env) >= 0.0);
  auto iz = dynlib::load_model("builtin://ode/izhikevich");
  CHECK(show_rhs(*iz, 0) == "0.04 * v * v + 5.0 * v + 140.0 - u + I");
  REQUIRE(iz->events.size() == 1);
  CHECK(iz->events[0].actions.size() == 2);
  CHECK(iz->presets.size() == 6);
  auto h2 = dynlib::load_model("builtin://map/henon2");
  REQUIRE(h2->inverse);
  CHECK(ir::to_string((*h2->inverse)[1], *h2) == "(x - a + y * y) / b");
}

TEST_CASE("lower builtins: hash ignores formatting in TOML text, sees behaviour", "[lower][hash]") {
  const char* a = R"TOML(inline:
[model]
type = "ode"
[states]
x = 1.0
[params]
a = 2
[equations.rhs]
x = "-a*x**2 + 1"
[events.hit]
cond = "x > 3"
action.x = "0"
action.a = "a + 1"
)TOML";
  const char* b = R"TOML(inline:
# same model, different formatting
[model]
type = "ode"
[states]
x = 1
[params]
a = 2.0
[equations]
expr = """
dx = -a * x^2 + 1.0   # comment
"""
[events.hit]
cond = "(x > 3)"
action = { x = "0.0", a = "a+1" }
)TOML";
  const char* c = R"TOML(inline:
[model]
type = "ode"
[states]
x = 1.0
[params]
a = 2
[equations.rhs]
x = "-a*x**2 + 1"
[events.hit]
cond = "x > 3"
action.a = "a + 1"
action.x = "0"
)TOML";
  auto ma = dynlib::load_model(a);
  auto mb = dynlib::load_model(b);
  auto mc = dynlib::load_model(c);
  CHECK(ma->hash == mb->hash);
  CHECK(ma->hash != mc->hash);
}
