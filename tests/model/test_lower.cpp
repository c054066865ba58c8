// Lowering: equations, events, lags, pow expansion, constants and dtype, IR printing.
#include <catch2/catch.hpp>
#include <cmath>

#include "model/lower_helper.hpp"

using dynlib::test::expr_model;
using dynlib::test::SpecBuilder;
namespace ir = dynlib::ir;

namespace {
bool is_mul(const ir::Expr& e, const ir::Expr& l, const ir::Expr& r) {
  return e->op == ir::Op::Mul && e->args[0] == l && e->args[1] == r;
}
std::string show(const std::string& text) {
  auto m = expr_model(text).lower();
  return ir::to_string(m.rhs[0], m);
}
}  // namespace

TEST_CASE("lower: x**k by repeated squaring", "[lower]") {
  auto m = expr_model("x**2").lower();
  const auto& r = m.rhs[0];
  REQUIRE(r->op == ir::Op::Mul);
  CHECK(r->args[0]->op == ir::Op::State);
  CHECK(show("x**2") == "x * x");
  CHECK(show("x**3") == "x * x * x");
  CHECK(show("x**4") == "x * x * (x * x)");
  CHECK(show("x**5") == "x * x * (x * x) * x");
  CHECK(show("x**2.0") == "x * x");
  CHECK(show("x**0") == "1.0");
  CHECK(show("x**-2") == "1.0 / (x * x)");
  CHECK(show("x**2.5") == "x ** 2.5");
  CHECK(show("x**65") == "x ** 65.0");
  CHECK(show("x**a") == "x ** a");
  CHECK(show("(x + 1)**2") == "(x + 1.0) * (x + 1.0)");
  CHECK(show("pow(x, 3)") == "x * x * x");
  CHECK(show("math.pow(x, 3)") == "pow(x, 3.0)");
  // x**7 = ((x*x)*(x*x)) * ((x*x)*x): check structure and the bit-exact value.
  auto m7 = expr_model("x**7").lower();
  const auto& e7 = m7.rhs[0];
  REQUIRE(e7->op == ir::Op::Mul);
  const auto& x4 = e7->args[0];
  const auto& x3 = e7->args[1];
  REQUIRE(x4->op == ir::Op::Mul);
  REQUIRE(x3->op == ir::Op::Mul);
  CHECK(is_mul(x4, x4->args[0], x4->args[0]));  // (x*x)*(x*x)
  CHECK(x3->args[0] == x4->args[0]);            // (x*x) * x
  for (double x : {1.1, 0.3, 3.7, -1.9}) {
    double v = x, res = 1.0;  // Numba static_power_impl
    for (int k = 7; k != 0; k >>= 1) {
      if (k & 1) res = res * v;
      v = v * v;
    }
    auto mx = expr_model("x**7");
    mx.s.states[0].second.value = x;
    CHECK(dynlib::test::eval_rhs0(mx.lower()) == res);
  }
  // constants used as exponents are literals too
  auto mk = expr_model("x**k").constant("k", 3).lower();
  CHECK(ir::to_string(mk.rhs[0], mk) == "x * x * x");
}

TEST_CASE("lower: constants become literals cast to the dtype", "[lower]") {
  auto m = expr_model("pi * k").constant("k", 2.5).lower();
  REQUIRE(m.rhs[0]->op == ir::Op::Mul);
  CHECK(m.rhs[0]->args[0]->op == ir::Op::Const);
  CHECK(m.rhs[0]->args[0]->value == M_PI);
  auto m32 = expr_model("pi").dtype("float32").lower();
  CHECK(m32.rhs[0]->value == static_cast<double>(static_cast<float>(M_PI)));
  CHECK(m32.rhs[0]->value == 3.1415927410125732);
  SpecBuilder b;
  b.map().dtype("int64").state("n", 7).constant("k", 2.9).eq("n", "n + pi + k");
  auto mi = b.lower();
  CHECK(dynlib::test::eval_rhs0(mi) == 7 + 3 + 2);
  CHECK(mi.dtype == ir::DType::int64);
  CHECK(mi.constants.at(0).second == 2);
  SpecBuilder bad;
  bad.dtype("int64").state("x", 1).eq("x", "1");
  CHECK_THROWS_AS(bad.lower(), dynlib::SchemaError);
}

TEST_CASE("lower: equations must cover every state exactly once", "[lower]") {
  SpecBuilder b;
  b.state("x", 1).state("y", 2).eq("x", "y");
  CHECK_THROWS_AS(b.lower(), dynlib::NameConflictError);
  try {
    b.lower();
  } catch (const dynlib::NameConflictError& e) {
    CHECK(e.message() == "Missing equation(s) for state(s) ['y']: every state needs exactly one equation");
  }
  SpecBuilder d;
  d.state("x", 1).eq("x", "1").eq("x", "2");
  CHECK_THROWS_WITH(d.lower(), Catch::Contains("Duplicate equation targets: ['x']"));
  SpecBuilder u;
  u.state("x", 1).eq("x", "1").eq("z", "2");
  CHECK_THROWS_WITH(u.lower(),
                    Catch::Contains("Equation targets must be declared in [states], unknown: ['z']"));
  SpecBuilder md;
  md.map().state("x", 1).eq("x", "x / 2", true);
  CHECK_THROWS_WITH(md.lower(), Catch::Contains("Map models do not support derivative notation"));
  CHECK_THROWS_AS(md.lower(), dynlib::NameConflictError);
  CHECK_THROWS_AS(d.lower(), dynlib::NameConflictError);
  CHECK_THROWS_AS(u.lower(), dynlib::NameConflictError);
  // ODE: derivative and plain targets are the same; equations placed at the state index
  SpecBuilder o;
  o.state("x", 1).state("y", 2).eq("y", "x", true).eq("x", "-y");
  auto m = o.lower();
  CHECK(m.rhs[0]->op == ir::Op::Neg);
  CHECK(m.rhs[1]->op == ir::Op::State);
  // zero states is fine
  SpecBuilder z;
  CHECK(z.lower().rhs.empty());
}

TEST_CASE("lower: inverse and jacobian", "[lower]") {
  SpecBuilder b;
  b.map()
      .state("x", 0)
      .state("y", 0)
      .param("a", 1.4)
      .param("b", 0.3)
      .eq("x", "1 - a*x**2 + y")
      .eq("y", "b*x")
      .inv("y", "(x - a + y**2) / b")
      .inv("x", "y");
  b.s.jacobian.emplace();
  b.s.jacobian->push_back({dynlib::test::located("-2*a*x", "[equations.jacobian].expr[0][0]"),
                           dynlib::test::located("1", "[equations.jacobian].expr[0][1]")});
  b.s.jacobian->push_back({dynlib::test::located("b", "j"), dynlib::test::located("0", "j")});
  auto m = b.lower();
  REQUIRE(m.inverse);
  CHECK((*m.inverse)[0]->op == ir::Op::State);  // x = y
  CHECK((*m.inverse)[1]->op == ir::Op::Div);
  REQUIRE(m.jacobian);
  CHECK((*m.jacobian)[1][0]->op == ir::Op::Param);
  b.s.jacobian->pop_back();
  CHECK_THROWS_WITH(b.lower(),
                    Catch::Contains("[equations.jacobian].expr must have 2 rows to match [states]; got 1"));
  SpecBuilder o;
  o.state("x", 0).eq("x", "1").inv("x", "1");
  CHECK_THROWS_AS(o.lower(), dynlib::SchemaError);
}

TEST_CASE("lower: lag slots and event macros", "[lower]") {
  SpecBuilder b;
  b.state("x", 0)
      .state("y", 0)
      .state("z", 0)
      .eq("x", "lag_z(3) + lag_x()")
      .eq("y", "0")
      .eq("z", "0")
      .event("up", "cross_up(y, 0.5)");
  auto m = b.lower();
  REQUIRE(m.lags.size() == 3);
  CHECK(m.lags[0].state == 0);
  CHECK(m.lags[0].depth == 2);
  CHECK(m.lags[0].offset == 0);
  CHECK(m.lags[1].state == 1);
  CHECK(m.lags[1].depth == 2);
  CHECK(m.lags[1].offset == 2);
  CHECK(m.lags[2].state == 2);
  CHECK(m.lags[2].depth == 4);
  CHECK(m.lags[2].offset == 4);
  CHECK(m.lag_ring_size == 8);
  const auto& r = m.rhs[0];
  CHECK(r->args[0]->op == ir::Op::Lag);
  CHECK(r->args[0]->index == 2);
  CHECK(r->args[0]->k == 3);
  CHECK(ir::to_string(m.events[0].cond, m) == "lag_y(1) <= 0.5 and y > 0.5");
  // cross_up semantics with the test evaluator
  dynlib::test::EvalEnv env;
  env.y = {0, 0.6, 0};
  env.lag = [](int slot, int k) { return slot == 1 && k == 1 ? 0.4 : 0.0; };
  CHECK(dynlib::test::eval(m.events[0].cond, env) == 1);
  env.lag = [](int, int) { return 0.55; };
  CHECK(dynlib::test::eval(m.events[0].cond, env) == 0);
  // a function named flag_x is not a lag (tokens, not regex)
  auto f = expr_model("flag_x()").fn("flag_x", {}, "2").lower();
  CHECK(f.lags.empty());
  CHECK(dynlib::test::eval_rhs0(f) == 2);
  // lags in unused functions still register (like the reference)
  auto g = expr_model("1").fn("h", {}, "lag_y(2)").lower();
  REQUIRE(g.lags.size() == 1);
  CHECK(g.lags[0].depth == 3);
}

TEST_CASE("lower: event macro expansions", "[lower]") {
  auto show_cond = [](const std::string& c) {
    SpecBuilder b;
    b.state("s", 0).eq("s", "0").event("e", c);
    auto m = b.lower();
    return ir::to_string(m.events[0].cond, m);
  };
  CHECK(show_cond("cross_down(s, 1)") == "lag_s(1) >= 1.0 and s < 1.0");
  CHECK(show_cond("cross_either(s, 1)") == "lag_s(1) <= 1.0 and s > 1.0 or lag_s(1) >= 1.0 and s < 1.0");
  CHECK(show_cond("changed(s)") == "s != lag_s(1)");
  CHECK(show_cond("increasing(s)") == "s > lag_s(1)");
  CHECK(show_cond("decreasing(s)") == "s < lag_s(1)");
  CHECK(show_cond("enters_interval(s, 0, 1)") ==
        "(lag_s(1) < 0.0 or lag_s(1) > 1.0) and (0.0 <= s and s <= 1.0)");
  CHECK(show_cond("leaves_interval(s, 0, 1)") ==
        "0.0 <= lag_s(1) and lag_s(1) <= 1.0 and (s < 0.0 or s > 1.0)");
  CHECK(show_cond("sign(s)") == "int(s > 0.0) - int(s < 0.0)");
  CHECK(show_cond("clip(s, 0, 1)") == "min(max(s, 0.0), 1.0)");
  CHECK(show_cond("approx(s, 1, 0.1)") == "abs(s - 1.0) <= 0.1");
  CHECK(show_cond("s if s > 0 else -s") == "s if s > 0.0 else -s");
  CHECK(show_cond("not s") == "not s");
  CHECK(show_cond("(s < 1) < 2") == "(s < 1.0) < 2.0");
  CHECK(show_cond("0 < s < 1") == "0.0 < s and s < 1.0");
  CHECK(show_cond("not (s and 1)") == "not (s and 1.0)");
  CHECK(show_cond("sum(1 if i > 2 else 0 for i in range(5) if i != 3)") ==
        "sum(1.0 if i0 > 2.0 else 0.0 for i0 in range(0.0, 5.0, 1.0) if i0 != 3.0)");
  CHECK(show_cond("-(s ** 2.5)") == "-s ** 2.5");
  CHECK(show_cond("(-s) ** 2.5") == "(-s) ** 2.5");
}

TEST_CASE("lower: events, actions, log, stop, presets", "[lower]") {
  SpecBuilder b;
  b.state("v", -65)
      .param("c", -65)
      .param("d", 8)
      .aux("E", "v * 2")
      .eq("v", "0.04*v")
      .event("reset", "v >= 30", {{"v", "c"}, {"d", "d + 1"}}, {"t", "v", "param:d", "aux:E", "state:v", "E"},
             ir::Phase::both)
      .stop("v > 100");
  dynlib::model::PresetSpec p;
  p.name = "fast";
  p.params.push_back({"d", dynlib::model::NumberValue{2, true, {}}});
  b.s.presets.push_back(p);
  auto m = b.lower();
  REQUIRE(m.events.size() == 1);
  const auto& ev = m.events[0];
  CHECK(ev.phase == ir::Phase::both);
  REQUIRE(ev.actions.size() == 2);
  CHECK(ev.actions[0].target == ir::Action::Target::State);
  CHECK(ev.actions[1].target == ir::Action::Target::Param);
  CHECK(ev.actions[1].index == 1);
  REQUIRE(ev.log.size() == 6);
  CHECK(ev.log[0].kind == ir::LogItem::Kind::Time);
  CHECK(ev.log[1].kind == ir::LogItem::Kind::State);
  CHECK(ev.log[2].kind == ir::LogItem::Kind::Param);
  CHECK(ev.log[2].index == 1);
  CHECK(ev.log[3].kind == ir::LogItem::Kind::Aux);
  CHECK(ev.log[5].kind == ir::LogItem::Kind::Aux);
  CHECK(ev.log[3].name == "aux:E");
  REQUIRE(m.stop);
  CHECK(ir::to_string(m.stop, m) == "v > 100.0");
  REQUIRE(m.presets.size() == 1);
  CHECK(m.presets[0].params.at(0) == std::make_pair(1, 2.0));

  auto bad_target = b;
  bad_target.s.events[0].actions[0].target = "E";
  CHECK_THROWS_AS(bad_target.lower(), dynlib::EventError);
  CHECK_THROWS_WITH(bad_target.lower(),
                    Catch::Contains("[events.reset] may mutate only states/params; illegal: ['E']"));
  auto bad_target2 = b;
  bad_target2.s.events[0].actions[0].target = "v +";  // "v += 1" in block form
  CHECK_THROWS_AS(bad_target2.lower(), dynlib::EventError);
  for (const char* bad : {"zz", "foo:v", "param:v", "state:c", "aux:v", "x*2"}) {
    auto bl = b;
    bl.s.events[0].log.push_back(dynlib::test::located(bad, "[events.reset].log"));
    INFO(bad);
    CHECK_THROWS_AS(bl.lower(), dynlib::EventError);
  }
  auto bp = b;
  bp.s.presets[0].params[0].first = "zz";
  CHECK_THROWS_WITH(bp.lower(),
                    Catch::Contains("[presets.fast].params contains unknown parameter(s): ['zz']. "
                                    "Valid params: ['c', 'd']"));
  auto bs = b;
  bs.s.presets[0].states.push_back({"q", dynlib::model::NumberValue{}});
  CHECK_THROWS_AS(bs.lower(), dynlib::SchemaError);
}
