// radau5 (Radau IIA, order 5): stiff reference problems against published reference values, order of
// convergence, the collocation polynomial as dense output, work counters, failure at min_step and
// workspaces from elsewhere (corrupt pivots).
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include "dynlib/dynlib.hpp"
#include "dynlib/model.hpp"
#include "interp/direct_backend.hpp"
#include "interp/interp.hpp"
#include "jit/run_helper.hpp"
#include "kernels/stepper_radau5.hpp"
#include "problems/stiff_problems.hpp"
#include "steppers_catalogue/stepper_registry.hpp"

using dynlib::test::run_model;
using dynlib::test::RunOut;
using dynlib::test::RunSpec;

namespace {

// [sim] with the run's tolerances: the stepper takes them as its defaults.
std::string num(double v) {
  std::ostringstream o;
  o << std::setprecision(17) << v;
  return o.str();
}
std::string sim_block(double t_end, double dt, double tol, const std::string& extra = "") {
  return "[sim]\nt_end = " + num(t_end) + "\ndt = " + num(dt) + "\natol = " + num(tol) +
         "\nrtol = " + num(tol) + "\n" + extra;
}

namespace stiff = dynlib::test_problems;
const char* const kOrego = stiff::kOrego.uri;

// y' = y cos t, x' = v, v' = -x: y = exp(sin t), x = cos t, v = -sin t.
const char* kSmooth = R"M(inline:
[model]
type = "ode"
[states]
y = 1.0
x = 1.0
v = 0.0
[equations.rhs]
y = "y*cos(t)"
x = "v"
v = "-x"
)M";

std::shared_ptr<const dynlib::ir::ModelIR> load(const char* model, const std::string& sim) {
  return dynlib::load_model(std::string(model) + sim);
}

RunOut run(const std::shared_ptr<const dynlib::ir::ModelIR>& m, std::int64_t n_steps, bool record = false) {
  auto cm = dynlib::interp::make_interpreted(m, dynlib::kernels::get_stepper("radau5"));
  RunSpec spec;
  spec.n_steps = n_steps;
  spec.max_steps = 200000;
  spec.record_interval = record ? 1 : 0;
  spec.cap_rec = 64;
  return run_model(*cm, spec);
}

constexpr int kCounters = dynlib::kernels::StepRadau5::kCounters;

}  // namespace

TEST_CASE("radau5 is registered with its settings, dense output and work counters", "[stepper][radau5]") {
  const auto& s = dynlib::kernels::get_stepper("radau");
  CHECK(s.name == "radau5");
  CHECK(s.adaptive);
  CHECK(s.implicit);
  CHECK(s.stiff);
  CHECK(s.dense_output);
  CHECK(s.order == 5);
  CHECK(s.work_counters_at == kCounters);
  CHECK(s.ws_size(3) == dynlib::kernels::StepRadau5::ws_size(3));
  CHECK(s.iws_size(3) == dynlib::kernels::StepRadau5::iws_size(3));
  for (const char* f :
       {"atol", "rtol", "newton_max_iter", "newton_stop_tol", "jacobian_mode", "jac_reuse_theta"})
    CHECK(s.config_index(f) >= 0);
  CHECK(s.config[s.config_index("jacobian_mode")].default_value == 1.0);  // exact Jacobian when there is one
  CHECK(s.config[s.config_index("newton_max_iter")].default_value == 7.0);
}

TEST_CASE("radau5 meets stiff reference solutions at rtol = atol = 1e-8", "[stepper][radau5]") {
  // (ROBER, HIRES, VDP1000, OREGO: tests/problems/stiff_problems.hpp)
  const std::vector<stiff::StiffProblem> cases = {stiff::kRober, stiff::kHires, stiff::kVdp1000,
                                                  stiff::kOrego};
  const double tol = 1e-8;
  for (const auto& c : cases) {
    INFO(c.name);
    auto m = load(c.uri, sim_block(c.t_end, c.t_end, tol));
    auto r = run(m, 1);
    REQUIRE(r.status == static_cast<int>(dynlib::Status::DONE));
    CHECK(r.t == c.t_end);
    const auto* w = r.iws.data() + kCounters;
    INFO("steps " << r.steps << " rhs " << w[0] << " jac " << w[1] << " lu " << w[2]);
    for (std::size_t i = 0; i < c.ref.size(); ++i) {
      INFO("component " << i << " got " << r.y_final[i] << " ref " << c.ref[i]);
      // The reference values of ROBER carry 10 digits only.
      const double ref_digits = c.name == std::string("ROBER") ? 1e-10 * std::fabs(c.ref[i]) : 0.0;
      CHECK(std::fabs(r.y_final[i] - c.ref[i]) <= 100.0 * (tol + tol * std::fabs(c.ref[i])) + ref_digits);
    }
    CHECK(w[0] > r.steps);
    CHECK(w[1] >= 1);
    CHECK(w[2] >= 2);
    CHECK(w[1] <= r.steps);
    // The Jacobian is reused across steps (ROBER's fast transient needs a new one at every step).
    if (c.name != std::string("ROBER")) CHECK(w[1] < r.steps);
  }
}

TEST_CASE("radau5 finite-difference Jacobian (jacobian_mode internal) agrees and costs n rhs per Jacobian",
          "[stepper][radau5]") {
  auto ex = run(load(kOrego, sim_block(30.0, 30.0, 1e-7)), 1);
  auto fd = run(load(kOrego, sim_block(30.0, 30.0, 1e-7, "jacobian_mode = \"internal\"\n")), 1);
  REQUIRE(ex.status == static_cast<int>(dynlib::Status::DONE));
  REQUIRE(fd.status == static_cast<int>(dynlib::Status::DONE));
  for (std::size_t i = 0; i < 3; ++i) CHECK(fd.y_final[i] == Approx(ex.y_final[i]).epsilon(1e-5));
  const auto* we = ex.iws.data() + kCounters;
  const auto* wf = fd.iws.data() + kCounters;
  INFO("exact: rhs " << we[0] << " jac " << we[1] << "; fd: rhs " << wf[0] << " jac " << wf[1]);
  CHECK(wf[0] > we[0]);
  CHECK(wf[1] >= 1);
}

TEST_CASE("radau5 converges with order 5 on a smooth problem (step fixed by dt_max)", "[stepper][radau5]") {
  // atol = rtol = 1: every step is accepted, so h = dt_max throughout; a tight Newton tolerance keeps the
  // iteration error below the truncation error.
  auto err_at = [](double h) {
    auto m = load(kSmooth, sim_block(2.0, h, 1.0, "dt_max = " + num(h) + "\nnewton_stop_tol = 1e-13\n"));
    auto r = run(m, static_cast<std::int64_t>(std::llround(2.0 / h)));
    REQUIRE(r.status == static_cast<int>(dynlib::Status::DONE));
    const double T = 2.0;
    return std::max({std::fabs(r.y_final[0] - std::exp(std::sin(T))), std::fabs(r.y_final[1] - std::cos(T)),
                     std::fabs(r.y_final[2] + std::sin(T))});
  };
  const double e1 = err_at(0.5), e2 = err_at(0.25), e3 = err_at(0.125);
  const double p1 = std::log2(e1 / e2), p2 = std::log2(e2 / e3);
  INFO("errors " << e1 << " " << e2 << " " << e3 << " orders " << p1 << " " << p2);
  CHECK(p2 > 4.5);
  CHECK(p2 < 5.7);
}

TEST_CASE("radau5 error decreases with the tolerance", "[stepper][radau5]") {
  double prev = 1.0;
  std::int64_t prev_steps = 0;
  for (double tol : {1e-4, 1e-7, 1e-10}) {
    auto r = run(load(kSmooth, sim_block(3.0, 3.0, tol)), 1);
    REQUIRE(r.status == static_cast<int>(dynlib::Status::DONE));
    const double e = std::fabs(r.y_final[0] - std::exp(std::sin(3.0)));
    INFO("tol " << tol << " err " << e << " steps " << r.steps);
    CHECK(e < 100 * tol);
    CHECK(e < prev);
    CHECK(r.steps > prev_steps);
    prev = e;
    prev_steps = r.steps;
  }
}

TEST_CASE("radau5 dense output: the collocation polynomial of the last step", "[stepper][radau5][dense]") {
  using dynlib::interp::DirectBackend;
  using dynlib::kernels::StepCtx;
  using dynlib::kernels::StepRadau5;
  // Last step [T - h, T] with h = dt_max; the interpolant's error at the midpoint shrinks like h^4.
  auto mid_err = [](double h, double* end_gap, double* start_gap, double* h_last) {
    const double T = 1.0;
    auto m = load(kSmooth, sim_block(T, h, 1.0, "dt_max = " + num(h) + "\nnewton_stop_tol = 1e-12\n"));
    auto r = run(m, static_cast<std::int64_t>(std::llround(T / h)), true);
    REQUIRE(r.status == static_cast<int>(dynlib::Status::DONE));
    REQUIRE(r.n_rec >= 2);
    const double t0 = r.T[r.n_rec - 2], t1 = r.T[r.n_rec - 1];
    *h_last = t1 - t0;
    DirectBackend b;
    b.m = &*m;  // the layout asks the model which linear solver it takes (dense here)
    StepCtx<DirectBackend> c;
    c.n = 3;
    c.ws = r.ws.data();
    c.iws = r.iws.data();
    StepRadau5 st;
    st.dense_prepare(b, c, t0, t1 - t0, r.y_prev.data(), r.y_final.data());
    double out[3];
    st.dense_eval(b, c, 1.0, out);
    *end_gap = 0;
    for (int i = 0; i < 3; ++i) *end_gap = std::max(*end_gap, std::fabs(out[i] - r.y_final[i]));
    st.dense_eval(b, c, 0.0, out);
    *start_gap = 0;
    for (int i = 0; i < 3; ++i) *start_gap = std::max(*start_gap, std::fabs(out[i] - r.y_prev[i]));
    const double tm = t0 + 0.5 * (t1 - t0);
    st.dense_eval(b, c, 0.5, out);
    return std::max({std::fabs(out[0] - std::exp(std::sin(tm))), std::fabs(out[1] - std::cos(tm)),
                     std::fabs(out[2] + std::sin(tm))});
  };
  double g1 = 0, s1 = 0, g2 = 0, s2 = 0, h1 = 0, h2 = 0;
  const double e1 = mid_err(0.2, &g1, &s1, &h1), e2 = mid_err(0.1, &g2, &s2, &h2);
  const double order = std::log(e1 / e2) / std::log(h1 / h2);
  INFO("last steps " << h1 << " " << h2 << " midpoint errors " << e1 << " " << e2 << " order " << order);
  CHECK(h1 > 1.5 * h2);
  CHECK(g1 == 0.0);  // theta = 1: exactly the accepted state
  CHECK(g2 == 0.0);
  CHECK(s1 < 1e-12);  // theta = 0: the step's start (up to rounding and the Newton tolerance)
  CHECK(s2 < 1e-12);
  CHECK(order > 3.5);
  CHECK(e2 < 1e-6);
}

TEST_CASE("radau5 fails with STEPFAIL, never a crash, when the solution blows up", "[stepper][radau5]") {
  // y' = y^2, y(0) = 1: y = 1/(1 - t) blows up at t = 1.
  auto m = dynlib::load_model(std::string(R"M(inline:
[model]
type = "ode"
[states]
y = 1.0
[equations.rhs]
y = "y*y"
)M") + sim_block(2.0, 2.0, 1e-6));
  auto r = run(m, 1);
  CHECK(r.status == static_cast<int>(dynlib::Status::STEPFAIL));
  CHECK(r.t > 0.99);  // near the blow-up (an implicit method may step just past it)
  CHECK(r.t < 1.01);
}

TEST_CASE("radau5 never indexes with out-of-range pivots from a snapshot file",
          "[stepper][radau5][snapshot]") {
  namespace fs = std::filesystem;
  auto sim = dynlib::setup("builtin://ode/vanderpol", {.stepper = "radau5"});
  sim.run({.T = 1.0, .record = false});
  const auto good =
      fs::temp_directory_path() / ("dynlib_radau5_" + std::to_string(::getpid()) + "_good.snap");
  const auto bad = fs::temp_directory_path() / ("dynlib_radau5_" + std::to_string(::getpid()) + "_bad.snap");
  sim.save_snapshot(good);
  std::string text, line, dt_token;
  {
    std::ifstream in(good);
    while (std::getline(in, line))
      if (line.rfind("dt ", 0) == 0) dt_token = line.substr(3);
  }
  REQUIRE(!dt_token.empty());
  std::ifstream in(good);
  int replaced = 0;
  while (std::getline(in, line)) {
    if (line.rfind("ws ", 0) == 0) {
      // ws <count> ...: the LUs claim to be for the next step's h (the snapshot's dt), so they are reused.
      std::istringstream ts(line);
      std::vector<std::string> tok;
      for (std::string x; ts >> x;) tok.push_back(x);
      const std::size_t lu_h =
          2 + 4 * 2 * 2 + dynlib::kernels::StepRadau5::kVectors * 2 + dynlib::kernels::StepRadau5::kLuH;
      REQUIRE(tok.size() == lu_h + 1);
      tok[lu_h] = dt_token;
      line.clear();
      for (const auto& x : tok) line += (line.empty() ? "" : " ") + x;
      ++replaced;
    }
    if (line.rfind("iws ", 0) == 0) {
      // iws <count> steps rhs jac lu need_jac lu_valid ip1[2] ip2[2]: claim valid LUs with wild pivots.
      std::istringstream ts(line);
      std::vector<std::string> tok;
      for (std::string x; ts >> x;) tok.push_back(x);
      REQUIRE(tok.size() == 12);
      tok[2 + 4] = "0";
      tok[2 + 5] = "1";
      for (int k = 6; k < 10; ++k) tok[2 + k] = "1000000000";
      line.clear();
      for (const auto& x : tok) line += (line.empty() ? "" : " ") + x;
      ++replaced;
    }
    text += line + "\n";
  }
  REQUIRE(replaced == 2);
  std::ofstream(bad, std::ios::trunc) << text;
  auto a = dynlib::setup("builtin://ode/vanderpol", {.stepper = "radau5"});
  a.load_snapshot(good);
  a.run({.T = 3.0, .record = false, .resume = true});
  auto b = dynlib::setup("builtin://ode/vanderpol", {.stepper = "radau5"});
  b.load_snapshot(bad);
  b.run({.T = 3.0, .record = false, .resume = true});
  const auto ya = a.state_vector(), yb = b.state_vector();
  REQUIRE(ya.size() == yb.size());
  for (std::size_t i = 0; i < ya.size(); ++i) CHECK(yb[i] == Approx(ya[i]).epsilon(1e-4).margin(1e-6));
  fs::remove(good);
  fs::remove(bad);
}
