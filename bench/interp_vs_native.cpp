// Interpreter (jit=false) ns/step beside a hand-written C++ RK4 of the same model, in one run:
// Lorenz (3 states) and Lorenz-96 (40 states, F=8). Same arithmetic order as the kernels, so the
// final states agree bit for bit (checked). Usage: interp_vs_native [steps]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <dynlib/dynlib.hpp>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

template <class F>
void rk4_native(F&& f, std::vector<double>& y, double dt, long steps) {
  const std::size_t n = y.size();
  std::vector<double> k1(n), k2(n), k3(n), k4(n), ys(n);
  double t = 0.0;
  for (long s = 0; s < steps; ++s) {
    f(t, y.data(), k1.data());
    for (std::size_t i = 0; i < n; ++i) ys[i] = y[i] + 0.5 * dt * k1[i];
    f(t + 0.5 * dt, ys.data(), k2.data());
    for (std::size_t i = 0; i < n; ++i) ys[i] = y[i] + 0.5 * dt * k2[i];
    f(t + 0.5 * dt, ys.data(), k3.data());
    for (std::size_t i = 0; i < n; ++i) ys[i] = y[i] + dt * k3[i];
    f(t + dt, ys.data(), k4.data());
    for (std::size_t i = 0; i < n; ++i)
      y[i] = y[i] + (dt / 6.0) * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
    t = static_cast<double>(s + 1) * dt;
  }
}

std::string lorenz96_toml(int n, double F) {
  std::string s = "inline:\n[model]\ntype = \"ode\"\n[states]\n";
  for (int i = 0; i < n; ++i) s += "x" + std::to_string(i) + " = " + (i == 0 ? "8.01" : "8.0") + "\n";
  s += "[params]\nF = " + std::to_string(F) + "\n[equations.rhs]\n";
  for (int i = 0; i < n; ++i) {
    auto x = [&](int k) { return "x" + std::to_string(((k % n) + n) % n); };
    s += x(i) + " = \"(" + x(i + 1) + " - " + x(i - 2) + ")*" + x(i - 1) + " - " + x(i) + " + F\"\n";
  }
  return s;
}

double bench_interp(const std::string& uri, long steps, double dt, std::vector<double>& final_state) {
  auto sim = dynlib::setup(uri, {.stepper = "rk4"});
  sim.run({.T = 10 * dt, .dt = dt, .record = false});  // warm-up
  sim.reset();
  const auto t0 = Clock::now();
  sim.run({.T = static_cast<double>(steps) * dt, .dt = dt, .record = false, .max_steps = steps + 10});
  const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
  final_state = sim.state_vector();
  return ns / static_cast<double>(sim.step_count());
}

template <class F>
double bench_native(F&& f, std::vector<double> y, long steps, double dt, std::vector<double>& final_state) {
  const auto t0 = Clock::now();
  rk4_native(f, y, dt, steps);
  const double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
  final_state = y;
  return ns / static_cast<double>(steps);
}

void report(const char* name, double interp, double native, bool same) {
  std::printf("%-22s interp %9.1f ns/step   native %8.1f ns/step   ratio %6.1fx   final state %s\n", name,
              interp, native, interp / native, same ? "bit-identical" : "DIFFERS");
}

}  // namespace

int main(int argc, char** argv) {
  const long steps = argc > 1 ? std::atol(argv[1]) : 200000;
  const double dt = 0.001;
  {
    auto f = [](double, const double* y, double* d) {
      const double sigma = 10.0, rho = 28.0, beta = 8.0 / 3.0;
      d[0] = sigma * (y[1] - y[0]);
      d[1] = y[0] * (rho - y[2]) - y[1];
      d[2] = y[0] * y[1] - beta * y[2];
    };
    std::vector<double> a, b;
    const double ti = bench_interp("builtin://ode/lorenz", steps, dt, a);
    auto sim = dynlib::setup("builtin://ode/lorenz", {.stepper = "rk4"});
    const double tn = bench_native(f, sim.state_vector(), steps, dt, b);
    report("Lorenz rk4 (3)", ti, tn, a == b);
  }
  {
    const int n = 40;
    auto f = [n](double, const double* y, double* d) {
      const double F = 8.0;
      for (int i = 0; i < n; ++i)
        d[i] = (y[(i + 1) % n] - y[(i - 2 + n) % n]) * y[(i - 1 + n) % n] - y[i] + F;
    };
    const std::string uri = lorenz96_toml(n, 8.0);
    std::vector<double> a, b;
    const double ti = bench_interp(uri, steps / 10, dt, a);
    auto sim = dynlib::setup(uri, {.stepper = "rk4"});
    const double tn = bench_native(f, sim.state_vector(), steps / 10, dt, b);
    report("Lorenz-96 rk4 (40, F=8)", ti, tn, a == b);
  }
  return 0;
}
