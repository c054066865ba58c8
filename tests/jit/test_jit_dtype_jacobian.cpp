// jit=true changes speed, never results (docs/internals/kernels.md), for two settings the
// default-config parity test does not cover:
//  * jacobian_mode=1 on a model without [equations.jacobian] (the symbolic Jacobian in both backends);
//  * storage dtypes float32 / int64 (docs/simulation.md "dtype").
#include <catch2/catch.hpp>
#include <cstring>
#include <dynlib/dynlib.hpp>
#include <sstream>
#include <string>
#include <vector>

using namespace dynlib;

namespace {

template <class T>
bool same_bits(const T& a, const T& b) {
  if (a.size() != b.size()) return false;
  return a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(a[0])) == 0;
}

struct Traj {
  std::vector<double> t;
  std::vector<std::vector<double>> y;
  std::vector<double> final_state;
  std::int64_t steps = 0;
};

Traj run(const std::string& uri, const BuildOptions& bo, const RunOptions& ro) {
  auto sim = setup(uri, bo);
  sim.run(ro);
  Traj out;
  const auto& r = sim.results();
  out.t = r.t();
  for (const auto& s : r.state_names()) {
    auto sp = r[s];
    out.y.emplace_back(sp.begin(), sp.end());
  }
  out.final_state = sim.state_vector();
  out.steps = sim.step_count();
  return out;
}

void check_parity(const std::string& uri, BuildOptions bo, const RunOptions& ro) {
  bo.jit = false;
  auto a = run(uri, bo, ro);
  bo.jit = true;
  auto b = run(uri, bo, ro);
  CHECK(same_bits(a.t, b.t));
  REQUIRE(a.y.size() == b.y.size());
  for (std::size_t i = 0; i < a.y.size(); ++i) CHECK(same_bits(a.y[i], b.y[i]));
  CHECK(same_bits(a.final_state, b.final_state));
  CHECK(a.steps == b.steps);
}

}  // namespace

TEST_CASE("jit parity: jacobian_mode=1 with the symbolic Jacobian", "[jit][parity][jacobian]") {
  const std::string hh = "builtin://ode/hodgkin-huxley";
  for (const char* st : {"bdf2", "sdirk2", "bdf2a", "tr-bdf2a", "radau5", "bdf"}) {
    INFO(st);
    check_parity(hh, {.stepper = st}, {.T = 10.0, .dt = 0.01, .stepper = {{"jacobian_mode", 1.0}}});
  }
}

TEST_CASE("jit parity: storage dtypes float32 and int64", "[jit][parity][dtype]") {
  check_parity("builtin://ode/vanderpol", {.stepper = "rk4", .dtype = "float32"}, {.T = 5.0, .dt = 0.01});
  check_parity("builtin://ode/vanderpol", {.stepper = "rk45", .dtype = "float32"}, {.T = 5.0});
  const std::string collatz =
      "inline:\n[model]\ntype = \"map\"\ndtype = \"int64\"\n[states]\nx = 27\n"
      "[equations.rhs]\nx = \"x//2 if x%2 == 0 else 3*x+1\"\n";
  check_parity(collatz, {}, {.N = 120});
  const std::string logistic =
      "inline:\n[model]\ntype = \"map\"\n[states]\nx = 0.1\n[params]\nr = 3.9\n"
      "[equations.rhs]\nx = \"r*x*(1 - x)\"\n";
  check_parity(logistic, {.dtype = "float32"}, {.N = 200});
}

TEST_CASE("jit parity: bdf on a stiff problem, exact and finite-difference Jacobians", "[jit][parity][bdf]") {
  // Van der Pol with mu = 1000: many order and step changes, Newton failures and Jacobian updates.
  for (double mode : {0.0, 1.0}) {
    INFO("jacobian_mode " << mode);
    check_parity("builtin://ode/vanderpol", {.stepper = "bdf"},
                 {.T = 1500.0,
                  .params = {{"mu", 1000.0}},
                  .stepper = {{"jacobian_mode", mode}, {"atol", 1e-8}, {"rtol", 1e-8}}});
  }
}

TEST_CASE("jit parity: bdf in band storage (a 1-D reaction-diffusion problem)", "[jit][parity][bdf][band]") {
  // Brusselator on 30 grid points, u and v of a point next to each other: 60 states, half-bandwidth 2,
  // so bdf factors in band storage; both Jacobian modes (exact, and differences by column groups).
  const int N = 30;
  std::ostringstream m;
  m << "inline:\n[model]\ntype = \"ode\"\n[params]\nc = 19.22\n[states]\n";
  for (int i = 0; i < N; ++i) m << "u" << i << " = " << 1.0 + 0.5 * (i % 7) / 7.0 << "\nv" << i << " = 3.0\n";
  m << "[equations.rhs]\n";
  auto nb = [&](char v, int i, const char* edge) {
    std::ostringstream o;
    if (i < 0 || i >= N)
      o << edge;
    else
      o << v << i;
    return o.str();
  };
  for (int i = 0; i < N; ++i) {
    m << "u" << i << " = \"1 + u" << i << "**2*v" << i << " - 4*u" << i << " + c*(" << nb('u', i - 1, "1.0")
      << " - 2*u" << i << " + " << nb('u', i + 1, "1.0") << ")\"\n";
    m << "v" << i << " = \"3*u" << i << " - u" << i << "**2*v" << i << " + c*(" << nb('v', i - 1, "3.0")
      << " - 2*v" << i << " + " << nb('v', i + 1, "3.0") << ")\"\n";
  }
  for (double mode : {0.0, 1.0}) {
    INFO("jacobian_mode " << mode);
    check_parity(m.str(), {.stepper = "bdf"},
                 {.T = 10.0, .stepper = {{"jacobian_mode", mode}, {"atol", 1e-6}, {"rtol", 1e-6}}});
  }
}

TEST_CASE("jit parity: bdf and radau5 with the sparse LU (a 2-D periodic reaction-diffusion problem)",
          "[jit][parity][bdf][sparse]") {
  // Brusselator on a 12 x 12 periodic grid: 288 states, no band and no symbolic Jacobian, so bdf and
  // radau5 take the sparse path (differences by column groups, sparse LU over constant index tables).
  const int N = 12;
  std::ostringstream m;
  m.precision(17);
  m << "inline:\n[model]\ntype = \"ode\"\n[params]\nc = " << 0.1 * N * N << "\n[states]\n";
  auto id = [&](char f, int i, int j) {  // appended piece by piece (GCC 12 warns on "x" + string&&)
    std::string name(1, f);
    name += std::to_string((i + N) % N);
    name += '_';
    name += std::to_string((j + N) % N);
    return name;
  };
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j)
      m << id('u', i, j) << " = " << 1.0 + 0.3 * ((i * 7 + j) % 5) << "\n" << id('v', i, j) << " = 3.0\n";
  m << "[equations.rhs]\n";
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j)
      for (char f : {'u', 'v'}) {
        const std::string me = id(f, i, j), u = id('u', i, j), v = id('v', i, j);
        m << me << " = \"" << (f == 'u' ? "1 + " : "3.4*") << u << (f == 'u' ? "**2*" : " - ")
          << (f == 'u' ? v : u) << (f == 'u' ? " - 4.4*" : "**2*") << (f == 'u' ? u : v) << " + c*("
          << id(f, i - 1, j) << " + " << id(f, i + 1, j) << " + " << id(f, i, j - 1) << " + "
          << id(f, i, j + 1) << " - 4*" << me << ")\"\n";
      }
  REQUIRE(dynlib::load_model(m.str())->jacobian_sparse);
  for (const char* stepper : {"bdf", "radau5"}) {
    INFO(stepper);
    check_parity(m.str(), {.stepper = stepper}, {.T = 2.0, .stepper = {{"atol", 1e-6}, {"rtol", 1e-6}}});
  }
}
