// The builtin models give the Python dynlib's numbers: a few steps of each builtin whose equations
// follow its terms in its order, checked bit for bit against the same formula written out here.
// Built twice: with the interpreter (tests/runtime) and with the JIT (tests/jit, DYNLIB_TEST_JIT=1).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <numbers>
#include <string>

#include "dynlib/dynlib.hpp"

#ifndef DYNLIB_TEST_JIT
#define DYNLIB_TEST_JIT 0
#endif

namespace {

constexpr bool kJit = DYNLIB_TEST_JIT != 0;
constexpr double kPi = std::numbers::pi;

dynlib::Sim make_sim(const char* uri, const char* stepper) {
  dynlib::BuildOptions o;
  o.stepper = stepper;
  o.jit = kJit;
  return dynlib::setup(uri, o);
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Python's float `%` (floored: the result takes the sign of the divisor).
double py_mod(double a, double b) {
  double m = std::fmod(a, b);
  if (m != 0.0) {
    if ((b < 0) != (m < 0)) m += b;
  } else {
    m = std::copysign(0.0, b);
  }
  return m;
}

}  // namespace

TEST_CASE("builtin map/lozi: x' = 1.0 - a * abs(x) + b * y and y' = x", "[builtin][equations]") {
  auto sim = make_sim("builtin://map/lozi", "map");
  sim.run({.N = 40, .ic = {{"x", 0.1}, {"y", 0.2}}});
  const auto& r = sim.results();
  REQUIRE(r.size() == 41);
  const double a = 1.7, b = 0.5;
  double x = 0.1, y = 0.2;
  for (std::size_t k = 0; k < r.size(); ++k) {
    INFO("record " << k);
    REQUIRE(same_bits(r["x"][k], x));
    REQUIRE(same_bits(r["y"][k], y));
    const double xn = 1.0 - a * std::abs(x) + b * y;
    y = x;
    x = xn;
  }
}

TEST_CASE("builtin map/standard: p is wrapped to -pi..pi and theta to 0..2*pi", "[builtin][equations]") {
  auto sim = make_sim("builtin://map/standard", "map");
  sim.run({.N = 200, .ic = {{"p", 2.5}, {"theta", 0.1}}});
  const auto& r = sim.results();
  REQUIRE(r.size() == 201);
  const double K = 0.971635;
  double p = 2.5, th = 0.1;
  for (std::size_t k = 0; k < r.size(); ++k) {
    INFO("record " << k);
    REQUIRE(same_bits(r["p"][k], p));
    REQUIRE(same_bits(r["theta"][k], th));
    CHECK(r["p"][k] >= -kPi);
    CHECK(r["p"][k] < kPi);
    const double pn = py_mod((p + K * std::sin(th)) + kPi, 2 * kPi) - kPi;
    const double tn = py_mod(th + p + K * std::sin(th), 2 * kPi);
    p = pn;
    th = tn;
  }
}

TEST_CASE("builtin ode/hodgkin-huxley: the K current is subtracted before the Na current (rk4)",
          "[builtin][equations]") {
  auto sim = make_sim("builtin://ode/hodgkin-huxley", "rk4");
  const double dt = 0.01;
  // From a state where the two orders of the currents round differently (most states round alike);
  // the records part from the other order after about 440 steps.
  sim.run({.T = 5.0,
           .dt = dt,
           .ic = {{"V", -40.0}, {"n", 0.3}, {"m", 0.2}, {"h", 0.3}},
           .params = {{"I", 10.0}}});
  const auto& r = sim.results();
  REQUIRE(r.size() == 501);

  const double C = 1.0, EK = -77.0, ENa = 55.0, EL = -54.0, gK = 36.0, gNa = 120.0, gL = 0.3, I = 10.0;
  auto boltzmann = [](double Vmid, double k, double V) { return 1.0 / (1.0 + std::exp((Vmid - V) / k)); };
  auto gaussian = [](double Vmax, double sigma, double Camp, double Cbase, double V) {
    return Cbase + Camp * std::exp(-((Vmax - V) * (Vmax - V)) / (sigma * sigma));
  };
  auto f = [&](const double* y, double* d) {
    const double V = y[0], n = y[1], m = y[2], h = y[3];
    d[0] = (I - gK * (n * n * (n * n)) * (V - EK) - gNa * (m * m * m) * h * (V - ENa) - gL * (V - EL)) / C;
    d[1] = (boltzmann(-53.0, 15.0, V) - n) / gaussian(-79.0, 50.0, 4.7, 1.1, V);
    d[2] = (boltzmann(-40.0, 9.0, V) - m) / gaussian(-38.0, 30.0, 0.46, 0.04, V);
    d[3] = (boltzmann(-62.0, -7.0, V) - h) / gaussian(-67.0, 20.0, 7.4, 1.2, V);
  };
  double y[4] = {-40.0, 0.3, 0.2, 0.3};
  const char* names[4] = {"V", "n", "m", "h"};
  for (std::size_t k = 0; k < r.size(); ++k) {
    INFO("record " << k);
    for (int i = 0; i < 4; ++i) REQUIRE(same_bits(r[names[i]][k], y[i]));
    double k1[4], k2[4], k3[4], k4[4], ys[4];
    f(y, k1);
    for (int i = 0; i < 4; ++i) ys[i] = y[i] + 0.5 * dt * k1[i];
    f(ys, k2);
    for (int i = 0; i < 4; ++i) ys[i] = y[i] + 0.5 * dt * k2[i];
    f(ys, k3);
    for (int i = 0; i < 4; ++i) ys[i] = y[i] + dt * k3[i];
    f(ys, k4);
    for (int i = 0; i < 4; ++i) y[i] = y[i] + (dt / 6.0) * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
  }
}

// A 1-D map's tangent vector stays +-1, so the Lyapunov sum is sum_k ln|J(x_k)| exactly, with J at
// the pre-step state: the model's own Jacobian is what the observer uses.
TEST_CASE("builtin 1-D maps use their own Jacobian: sine r * pi * cos(pi * x) and logistic r - 2 * r * x",
          "[builtin][equations]") {
  auto sine = dynlib::load_model("builtin://map/sine");
  REQUIRE(sine->jacobian.has_value());
  auto logistic = dynlib::load_model("builtin://map/logistic");
  REQUIRE(logistic->jacobian.has_value());

  struct Case {
    const char* uri;
    double x0;
    double (*map)(double);
    double (*jac)(double);
  };
  const Case cases[] = {
      {"builtin://map/sine", 0.3, [](double x) { return 0.9 * std::sin(kPi * x); },
       [](double x) { return 0.9 * kPi * std::cos(kPi * x); }},
      {"builtin://map/logistic", 0.1, [](double x) { return 4.0 * x * (1 - x); },
       [](double x) { return 4.0 - 2 * 4.0 * x; }},
  };
  for (const auto& c : cases) {
    INFO(c.uri);
    auto sim = make_sim(c.uri, "map");
    sim.run({.N = 30, .ic = {{"x", c.x0}}, .observers = {dynlib::lyapunov_mle()}});
    const auto& r = sim.results();
    double x = c.x0, sum = 0.0;
    for (int k = 0; k < 30; ++k) {
      REQUIRE(same_bits(r["x"][static_cast<std::size_t>(k)], x));
      sum += std::log(std::abs(c.jac(x)));
      x = c.map(x);
    }
    REQUIRE(same_bits(r.observer("lyapunov_mle")["log_growth"], sum));
  }
}
