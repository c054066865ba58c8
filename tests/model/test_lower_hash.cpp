// Model hash: same behaviour => same hash; anything that can change behaviour => different hash.
#include <catch2/catch.hpp>

#include "model/lower_helper.hpp"

using dynlib::test::SpecBuilder;

namespace {
SpecBuilder base() {
  SpecBuilder b;
  b.state("v", -65)
      .param("c", -65)
      .param("d", 8)
      .aux("E", "v * 2")
      .aux("F", "E + 1")
      .eq("v", "0.04*v**2 + 5*v + 140 - c")
      .event("reset", "v >= 30", {{"v", "c"}, {"d", "d + 1"}}, {"t", "v"});
  return b;
}
std::string h(const SpecBuilder& b) { return b.lower().hash.hex(); }
}  // namespace

TEST_CASE("hash: stable, 32 hex chars", "[lower][hash]") {
  const std::string a = h(base());
  CHECK(a.size() == 32);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(h(base()) == a);
}

TEST_CASE("hash: formatting does not matter", "[lower][hash]") {
  const std::string a = h(base());
  auto b = base();
  b.s.equations[0].rhs.text = "  0.04 * v ** 2+5*v+140-c   # comment";
  CHECK(h(b) == a);
  b.s.equations[0].rhs.text = "0.04*v^2 + 5.0*v + 140.0 - c";
  CHECK(h(b) == a);
  b.s.equations[0].rhs.text = "(0.04*(v**2)) + (5*v) + 140 - (c)";
  CHECK(h(b) == a);
  b.s.equations[0].rhs.text = "0.04*(v*v) + 5*v + 140 - c";  // x**2 is x*x
  CHECK(h(b) == a);
  auto c = base();
  c.s.states[0].second.is_int = true;  // 1 vs 1.0
  CHECK(h(c) == a);
  auto st = base();
  st.s.sim.defaults.stepper = "rk4";  // the ODE default, written out
  CHECK(h(st) == a);
  auto d = base();
  d.s.source = "other/path.toml";
  d.s.equations[0].rhs.loc.line = 99;
  CHECK(h(d) == a);
  // an aux used inline is the same tree as the text written out
  auto e = base();
  e.s.equations[0].rhs.text = "0.04*v**2 + 5*v + 140 - c + 0*E";
  auto f = base();
  f.s.equations[0].rhs.text = "0.04*v**2 + 5*v + 140 - c + 0*(v*2)";
  CHECK(h(e) == h(f));
}

TEST_CASE("hash: behaviour changes change the hash", "[lower][hash]") {
  const std::string a = h(base());
  auto b = base();
  b.s.params[1].second.value = 8.5;
  CHECK(h(b) != a);
  auto c = base();
  std::swap(c.s.events[0].actions[0], c.s.events[0].actions[1]);  // keyed action order
  CHECK(h(c) != a);
  auto d = base();
  std::swap(d.s.aux[0], d.s.aux[1]);  // aux order = recording order
  CHECK(h(d) != a);
  auto e = base();
  e.s.equations[0].rhs.text = "0.04*v**2 + 5*v + (140 - c)";  // association
  CHECK(h(e) != a);
  auto f = base();
  f.s.events[0].log.pop_back();
  CHECK(h(f) != a);
  auto g = base();
  g.s.events[0].phase = dynlib::ir::Phase::start;
  CHECK(h(g) != a);
  auto i = base();
  i.s.sim.defaults.dt = 0.02;
  CHECK(h(i) != a);
  auto st = base();
  st.s.sim.defaults.stepper = "rk45";
  CHECK(h(st) != a);
  auto j = base();
  j.s.sim.defaults.extras.push_back({"safety", 0.9});
  CHECK(h(j) != a);
  auto k = base();
  k.s.events[0].tags = {"spike"};
  CHECK(h(k) != a);
  auto l = base();
  l.stop("v > 0");
  CHECK(h(l) != a);
  auto m = base();
  m.s.states[0].second.value = -64;
  CHECK(h(m) != a);
  auto n = base();
  n.s.dtype = "float32";
  CHECK(h(n) != a);
  auto o = base();
  o.s.equations[0].rhs.text = "0.04*v**2 + 5*v + 140 - c + 0.0 * -0.0";
  auto o2 = base();
  o2.s.equations[0].rhs.text = "0.04*v**2 + 5*v + 140 - c + 0.0 * 0.0";
  CHECK(h(o) != h(o2));  // -0.0 and 0.0 differ bitwise
}
