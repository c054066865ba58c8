// Very large generated models (thousands of lagged states or events) take the JIT's large-module path
// (short IR pipeline, CodeGenOptLevel::None; src/jit/orc_engine.cpp): they compile in seconds and give
// the same bits as the interpreter.
#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "dynlib/dynlib.hpp"

namespace {
bool same(std::span<const double> a, std::span<const double> b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

// Appends every piece (GCC 12 gives -Wrestrict false positives on chained std::string operator+).
template <class... P>
void append(std::string& s, const P&... pieces) {
  (s.append(pieces), ...);
}

// x_i' = a*(lag_x_{i+1}(1) - x_i) (indices mod n): n lag rings and a rhs of n equations.
std::string lagged_states_model(int n) {
  std::string s = "inline:\n[model]\ntype = \"ode\"\nname = \"lagged states\"\n[states]\n";
  for (int i = 0; i < n; ++i)
    append(s, "x", std::to_string(i), " = ", std::to_string(0.1 + 0.5 * i / n), "\n");
  s += "[params]\na = 0.5\n[equations.rhs]\n";
  for (int i = 0; i < n; ++i)
    append(s, "x", std::to_string(i), " = \"a*(lag_x", std::to_string((i + 1) % n), "(1) - x",
           std::to_string(i), ")\"\n");
  s += "[sim]\nt_end = 0.2\ndt = 0.01\n";
  return s;
}

// A harmonic oscillator with n threshold events, each counting the up-crossings of x in a parameter.
std::string many_events_model(int n) {
  std::string s =
      "inline:\n[model]\ntype = \"ode\"\nname = \"many events\"\n[states]\nx = 1.0\ny = 0.0\n[params]\n"
      "hits = 0.0\n[equations.rhs]\nx = \"y\"\ny = \"-x\"\n";
  for (int i = 0; i < n; ++i)
    append(s, "[events.e", std::to_string(i), "]\ncond = \"cross_up(x, ", std::to_string(-0.9 + 1.8 * i / n),
           ")\"\naction = \"hits = hits + 1\"\nlog = [\"t\"]\n");
  s += "[sim]\nt_end = 7.0\ndt = 0.01\n";
  return s;
}

void check_same_as_interpreter(const std::string& uri) {
  dynlib::BuildOptions oi;
  oi.disk_cache = false;
  auto oj = oi;
  oj.jit = true;
  oj.jit_tiered = false;  // setup() returns with the optimising compile done
  auto si = dynlib::setup(uri, oi);
  auto sj = dynlib::setup(uri, oj);
  si.run();
  sj.run();
  const auto& ri = si.results();
  const auto& rj = sj.results();
  REQUIRE(ri.t().size() > 1);
  CHECK(same(ri.t(), rj.t()));
  for (const auto& s : sj.model().model().states) CHECK(same(ri[s], rj[s]));
  CHECK(ri.events().size() == rj.events().size());
  CHECK(same(si.state_vector(), sj.state_vector()));
  CHECK(same(si.param_vector(), sj.param_vector()));
}
}  // namespace

TEST_CASE("JIT of 2000 lagged states matches the interpreter", "[jit][large]") {
  check_same_as_interpreter(lagged_states_model(2000));
}

TEST_CASE("JIT of 1000 events matches the interpreter", "[jit][large]") {
  const std::string uri = many_events_model(1000);
  check_same_as_interpreter(uri);
  auto s = dynlib::setup(uri, {.disk_cache = false});
  s.run();
  CHECK(s.param("hits") > 900.0);  // the events fire
}
