// Observers: Lyapunov MLE and spectrum on Lorenz, logistic and Henon; combined
// observers; traces; argument errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <dynlib/dynlib.hpp>
#include <numeric>

using namespace dynlib;
using Catch::Matchers::Contains;

namespace {

double sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

}  // namespace

TEST_CASE("Lorenz MLE (rk4) is within 0.03 of 0.9056", "[analysis][lyapunov]") {
  auto sim = setup("builtin://ode/lorenz", {.stepper = "rk4"});
  sim.run({.T = 1000.0, .dt = 0.01, .record = false, .transient = 50.0, .observers = {lyapunov_mle()}});
  const auto& o = sim.results().observer("lyapunov_mle");
  INFO("mle = " << o["mle"]);
  CHECK(std::fabs(o["mle"] - 0.9056) < 0.03);
  CHECK(o["steps"] == 100000.0);
  CHECK(o["denom"] == Approx(1000.0).epsilon(1e-12));
  // the trace: one row per step, the last row is the final estimate
  auto tr = sim.results().trace("mle");
  REQUIRE(tr.size() == 100000);
  CHECK(tr.back() == o["mle"]);
  CHECK(o.trace_t.back() == Approx(1000.0));
  CHECK(o.trace_step.front() == 1);
}

TEST_CASE("Lorenz spectrum sums to -(sigma+1+beta)", "[analysis][lyapunov]") {
  auto sim = setup("builtin://ode/lorenz", {.stepper = "rk4"});
  sim.run({.T = 500.0,
           .dt = 0.01,
           .record = false,
           .transient = 50.0,
           .observers = {lyapunov_spectrum({.k = 3, .trace_stride = 0})}});
  const auto ex = sim.results().observer("lyapunov_spectrum").exponents();
  REQUIRE(ex.size() == 3);
  INFO("spectrum = " << ex[0] << ", " << ex[1] << ", " << ex[2]);
  CHECK(std::fabs(sum(ex) + (10.0 + 1.0 + 8.0 / 3.0)) < 0.05);
  CHECK(std::fabs(ex[0] - 0.9056) < 0.05);
  CHECK(std::fabs(ex[1]) < 0.05);
  CHECK(ex[0] > ex[1]);
  CHECK(ex[1] > ex[2]);
  CHECK(sim.results().observer("lyapunov_spectrum").trace_names.empty());
}

TEST_CASE("Lorenz MLE with every tangent scheme", "[analysis][lyapunov]") {
  for (const char* st : {"euler", "rk2", "ab2", "ab3"}) {
    auto sim = setup("builtin://ode/lorenz", {.stepper = st});
    sim.run({.T = 300.0,
             .dt = st == std::string("euler") ? 0.001 : 0.005,
             .record = false,
             .transient = 20.0,
             .observers = {lyapunov_spectrum({.k = 3, .trace_stride = 0})}});
    const auto ex = sim.results().observer("lyapunov_spectrum").exponents();
    INFO(st << ": " << ex[0] << ", " << ex[1] << ", " << ex[2]);
    CHECK(std::fabs(ex[0] - 0.9056) < 0.1);
    CHECK(std::fabs(sum(ex) + (10.0 + 1.0 + 8.0 / 3.0)) < 0.1);
  }
}

TEST_CASE("logistic r=4: MLE within 0.005 of ln 2", "[analysis][lyapunov]") {
  auto sim = setup("builtin://map/logistic");
  sim.run({.N = 100000,
           .record = false,
           .transient = 1000.0,
           .ic = {{"x", 0.1234}},
           .params = {{"r", 4.0}},
           .observers = {lyapunov_mle({.trace_stride = 1000})}});
  const auto& o = sim.results().observer("lyapunov_mle");
  INFO("mle = " << o["mle"]);
  CHECK(std::fabs(o["mle"] - std::log(2.0)) < 0.005);
  CHECK(o["denom"] == 100000.0);
  CHECK(o.trace("mle").size() == 100);
}

TEST_CASE("Henon (1.4, 0.3) spectrum is (0.419, -1.62)", "[analysis][lyapunov]") {
  auto sim = setup("builtin://map/henon");
  sim.run({.N = 100000,
           .record = false,
           .transient = 1000.0,
           .ic = {{"x", 0.1}, {"y", 0.1}},
           .observers = {lyapunov_spectrum({.k = 2})}});
  const auto ex = sim.results().observer("lyapunov_spectrum").exponents();
  INFO("spectrum = " << ex[0] << ", " << ex[1]);
  CHECK(std::fabs(ex[0] - 0.419) < 0.01);
  CHECK(std::fabs(ex[1] + 1.62) < 0.01);
  // sum = ln|det J| = ln b
  CHECK(ex[0] + ex[1] == Approx(std::log(0.3)).margin(1e-9));
}

TEST_CASE("combined observers share one run and one trace", "[analysis][lyapunov]") {
  auto sim = setup("builtin://map/henon");
  const RunOptions base{.N = 20000, .record = false, .ic = {{"x", 0.1}, {"y", 0.1}}};
  RunOptions both = base;
  both.observers = {lyapunov_mle({.trace_stride = 10}), lyapunov_spectrum({.k = 2, .trace_stride = 10})};
  sim.run(both);
  const auto R = sim.results();
  REQUIRE(R.observers().size() == 2);
  const double mle_c = R.observer("lyapunov_mle")["mle"];
  const auto spec_c = R.observer("lyapunov_spectrum").exponents();
  CHECK(R.trace("lyapunov_mle.mle").size() == 2000);
  CHECK(R.trace("lyap1").size() == 2000);

  RunOptions one = base;
  one.observers = {lyapunov_mle({.trace_stride = 10})};
  sim.reset();
  sim.run(one);
  CHECK(sim.results().observer("lyapunov_mle")["mle"] == mle_c);  // bit-identical alone or combined
  one.observers = {lyapunov_spectrum({.k = 2, .trace_stride = 10})};
  sim.reset();
  sim.run(one);
  CHECK(sim.results().observer("lyapunov_spectrum").exponents() == spec_c);
  // the MLE equals the leading exponent (same tangent vector e0, same arithmetic)
  CHECK(mle_c == spec_c[0]);
}

TEST_CASE("renorm_every > 1 gives the same exponents", "[analysis][lyapunov]") {
  auto sim = setup("builtin://ode/lorenz", {.stepper = "rk4"});
  sim.run({.T = 100.0, .dt = 0.01, .record = false, .transient = 10.0, .observers = {lyapunov_mle()}});
  const double m1 = sim.results().observer("lyapunov_mle")["mle"];
  sim.reset();
  sim.run({.T = 100.0,
           .dt = 0.01,
           .record = false,
           .transient = 10.0,
           .observers = {lyapunov_mle({.renorm_every = 10})}});
  const double m10 = sim.results().observer("lyapunov_mle")["mle"];
  CHECK(m10 == Approx(m1).margin(1e-6));
}

TEST_CASE("observers: argument errors", "[analysis][errors]") {
  auto ode = setup("builtin://ode/lorenz", {.stepper = "rk45"});
  CHECK_THROWS_WITH(ode.run({.T = 1.0, .observers = {lyapunov_mle()}}), Contains("adaptive"));
  auto imp = setup("builtin://ode/lorenz", {.stepper = "bdf2"});
  CHECK_THROWS_AS(imp.run({.T = 1.0, .dt = 0.01, .observers = {lyapunov_mle()}}), ArgumentError);
  auto rk4 = setup("builtin://ode/lorenz", {.stepper = "rk4"});
  CHECK_THROWS_WITH(rk4.run({.T = 1.0, .dt = 0.01, .observers = {lyapunov_spectrum({.k = 4})}}),
                    Contains("k must be in 1..3"));
  CHECK_THROWS_AS(rk4.run({.T = 1.0, .dt = 0.01, .observers = {lyapunov_mle({.k = 2})}}), ArgumentError);
  CHECK_THROWS_WITH(rk4.run({.T = 1.0, .dt = 0.01, .observers = {lyapunov_mle(), lyapunov_mle()}}),
                    Contains("duplicate"));
  CHECK_THROWS_WITH(
      rk4.run({.T = 1.0,
               .dt = 0.01,
               .observers = {lyapunov_mle({.trace_stride = 2}), lyapunov_spectrum({.trace_stride = 3})}}),
      Contains("trace_stride"));
  CHECK_THROWS_AS(rk4.run({.T = 1.0, .dt = 0.01, .observers = {lyapunov_mle({.renorm_every = 0})}}),
                  ArgumentError);
  rk4.run({.T = 1.0, .dt = 0.01});
  CHECK_THROWS_AS(rk4.run({.T = 2.0, .resume = true, .observers = {lyapunov_mle()}}), ArgumentError);
  CHECK_THROWS_AS(rk4.results().observer("lyapunov_mle"), ArgumentError);
}

TEST_CASE("analysis signature is canonical text", "[analysis]") {
  auto fm = build("builtin://ode/lorenz", {.stepper = "rk4"});
  CHECK(analysis_signature({lyapunov_mle()}, *fm) == "lyapunov_mle(k=1,renorm_every=1)|trace_stride=1");
  CHECK(analysis_signature({lyapunov_spectrum()}, *fm) ==
        "lyapunov_spectrum(k=3,renorm_every=1)|trace_stride=1");
  CHECK(analysis_signature({lyapunov_mle()}, *fm) != analysis_signature({lyapunov_spectrum({.k = 1})}, *fm));
  CHECK(analysis_signature({}, *fm).empty());
}

TEST_CASE("a model without [equations.jacobian] uses the symbolic Jacobian", "[analysis][lyapunov]") {
  // Lorenz without [equations.jacobian]: the derived Jacobian (ModelIR::exact_jacobian) gives the same
  // exponents.
  const char* txt = R"M(inline:
[model]
type = "ode"
[states]
x = 1.0
y = 1.0
z = 1.0
[params]
sigma = 10
rho = 28
beta = "8.0/3.0"
[equations.rhs]
x = "sigma * (y - x)"
y = "x * (rho - z) - y"
z = "x * y - beta * z"
)M";
  auto a = setup(txt, {.stepper = "rk4"});
  auto b = setup("builtin://ode/lorenz", {.stepper = "rk4"});
  const RunOptions o{
      .T = 50.0, .dt = 0.01, .record = false, .transient = 5.0, .observers = {lyapunov_spectrum()}};
  a.run(o);
  b.run(o);
  const auto ea = a.results().observer("lyapunov_spectrum").exponents();
  const auto eb = b.results().observer("lyapunov_spectrum").exponents();
  for (int j = 0; j < 3; ++j) CHECK(ea[j] == Approx(eb[j]).margin(1e-9));
}
