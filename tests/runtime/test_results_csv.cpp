// Results: accessors, recorded aux, record_vars, events log, CSV output (17 significant digits).
#include <catch2/catch.hpp>
#include <cstdio>
#include <dynlib/dynlib.hpp>
#include <filesystem>
#include <fstream>
#include <string>

using namespace dynlib;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
namespace fs = std::filesystem;

namespace {
const char* kAux = R"(inline:
[model]
type = "ode"
[states]
x = 1.0
y = 0.0
[params]
a = 1.0
[aux]
E = "0.5*x*x + 0.5*y*y"
[equations.rhs]
x = "y"
y = "-a*x"
)";

std::vector<std::string> lines(const fs::path& p) {
  std::ifstream f(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(f, l);) out.push_back(l);
  return out;
}
}  // namespace

TEST_CASE("results: states, aux by record_vars, unknown names", "[results]") {
  auto sim = setup(kAux, {.stepper = "rk4"});
  CHECK_THROWS_AS(sim.results(), ArgumentError);
  sim.run({.T = 1.0, .dt = 0.1, .record_vars = std::vector<std::string>{"x", "E"}});
  const auto& r = sim.results();
  CHECK(r.state_names() == std::vector<std::string>{"x"});
  CHECK(r.aux_names() == std::vector<std::string>{"E"});
  CHECK(r["E"].size() == r.size());
  CHECK(r["aux.E"][0] == 0.5);
  CHECK(r["E"][5] == Approx(0.5).epsilon(1e-6));
  CHECK_FALSE(r.has("y"));
  try {
    (void)r["xx"];
    FAIL("no throw");
  } catch (const ArgumentError& e) {
    CHECK_THAT(std::string(e.what()), Contains("did you mean 'x'"));
    CHECK_THAT(std::string(e.what()), Contains("Available aux: ['E']"));
  }
  CHECK_THROWS_AS(sim.run({.T = 1.0, .record_vars = std::vector<std::string>{"q"}}), ArgumentError);
  CHECK(r.ok());
  CHECK(r.status() == Status::DONE);
}

TEST_CASE("results: write_csv header and 17 significant digits", "[results][csv]") {
  auto sim = setup(kAux, {.stepper = "rk4"});
  sim.run({.T = 1.0, .dt = 0.1, .record_vars = std::vector<std::string>{"x", "y", "E"}});
  const fs::path p = fs::temp_directory_path() / ("dynlib_h5_results_" + std::to_string(::getpid()) + ".csv");
  sim.results().write_csv(p);
  auto ls = lines(p);
  REQUIRE(ls.size() == 12);
  CHECK(ls[0] == "t,step,x,y,E");
  CHECK(ls[1] == "0,0,1,0,0.5");
  // every value round-trips exactly
  double t, x, y, e;
  long long s;
  REQUIRE(std::sscanf(ls[4].c_str(), "%lf,%lld,%lf,%lf,%lf", &t, &s, &x, &y, &e) == 5);
  CHECK(s == 3);
  CHECK(t == sim.results().t()[3]);
  CHECK(x == sim.results()["x"][3]);
  CHECK(e == sim.results()["E"][3]);
  fs::remove(p);
}

TEST_CASE("results: events log and events CSV", "[results][events]") {
  auto sim = setup("builtin://ode/izhikevich", {.stepper = "rk4"});
  sim.run({.T = 100.0, .dt = 0.01});
  const auto& ev = sim.results().events();
  REQUIRE(ev.size() == 3);
  CHECK(ev.count("reset") == 3);
  CHECK(ev.names() == std::vector<std::string>{"reset"});
  CHECK(ev[0].name == "reset");
  CHECK(ev[0].step == 313);
  CHECK(ev[0].t == 3.13);
  CHECK(ev[0]["t"] == 3.13);
  CHECK(sim.results()["v"][313] == -65.0);  // the post-action state is recorded at that step
  CHECK_THROWS_AS(ev[0]["v"], ArgumentError);
  const fs::path p = fs::temp_directory_path() / ("dynlib_h5_events_" + std::to_string(::getpid()) + ".csv");
  sim.results().write_events_csv(p);
  auto ls = lines(p);
  REQUIRE(ls.size() == 4);
  CHECK(ls[0] == "event,t,step");
  CHECK(ls[1] == "reset,3.1299999999999999,313");
  fs::remove(p);
}
