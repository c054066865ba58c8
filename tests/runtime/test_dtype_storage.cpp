// Storage dtype semantics (docs/simulation.md "dtype"): arithmetic in double, stored values rounded.
#include <catch2/catch.hpp>
#include <cmath>
#include <dynlib/dynlib.hpp>
#include <string>
#include <vector>

using namespace dynlib;

namespace {
const char* kLogistic = R"M(inline:
[model]
type = "map"
[states]
x = 0.1
[params]
r = 3.9
[equations.rhs]
x = "r*x*(1 - x)"
)M";
const char* kCollatz = R"M(inline:
[model]
type = "map"
dtype = "int64"
[states]
x = 27
[equations.rhs]
x = "x//2 if x%2 == 0 else 3*x+1"
)M";
const char* kOde = R"M(inline:
[model]
type = "ode"
[states]
x = 1.0
y = 0.0
[equations.rhs]
x = "y"
y = "-x"
)M";
std::vector<double> series(Sim& sim, const char* v) {
  auto s = sim.results()[v];
  return {s.begin(), s.end()};
}
}  // namespace

TEST_CASE("float32 map: stored values are floats and depart from float64", "[dtype]") {
  auto s32 = setup(kLogistic, {.dtype = "float32"});
  auto s64 = setup(kLogistic, {});
  s32.run({.N = 60});
  s64.run({.N = 60});
  auto a = series(s32, "x"), b = series(s64, "x");
  REQUIRE(a.size() == b.size());
  for (double v : a) CHECK(static_cast<double>(static_cast<float>(v)) == v);
  CHECK(a[1] != b[1]);
  CHECK(std::fabs(a[1] - b[1]) < 1e-7);
  CHECK(std::fabs(a.back() - b.back()) > 1e-3);  // chaos amplifies the rounding
}

TEST_CASE("int64 map: Collatz from 27", "[dtype]") {
  auto sim = setup(kCollatz, {});
  sim.run({.N = 8});
  auto x = series(sim, "x");
  std::vector<double> want{27, 82, 41, 124, 62, 31, 94, 47, 142};
  CHECK(x == want);
}

TEST_CASE("float32 ODE is close to float64 but not identical; int64 ODE is rejected", "[dtype]") {
  auto s32 = setup(kOde, {.stepper = "rk4", .dtype = "float32"});
  auto s64 = setup(kOde, {.stepper = "rk4"});
  s32.run({.T = 1.0, .dt = 0.01});
  s64.run({.T = 1.0, .dt = 0.01});
  auto a = s32.state_vector(), b = s64.state_vector();
  CHECK(std::fabs(a[0] - b[0]) < 1e-5);
  CHECK(std::fabs(a[1] - b[1]) < 1e-5);
  CHECK((a[0] != b[0] || a[1] != b[1]));
  CHECK(static_cast<double>(static_cast<float>(a[0])) == a[0]);
  CHECK_THROWS_AS(build(kOde, {.dtype = "int64"}), ArgumentError);
}
