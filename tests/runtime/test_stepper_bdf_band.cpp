// bdf on large banded systems: the band LU against a dense solve, the bandwidths lowering finds, a 1-D
// reaction-diffusion problem solved in band storage that matches the dense solution with far fewer rhs
// evaluations, and corrupt band pivots (as from a snapshot file) that are never used as indices.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <dynlib/dynlib.hpp>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "interp/direct_backend.hpp"
#include "interp/interp.hpp"
#include "kernels/band_lu.hpp"
#include "kernels/compiled_model.hpp"
#include "kernels/stepper_common.hpp"
#include "steppers_catalogue/stepper_registry.hpp"
#include "test_runner_helpers.hpp"

namespace {

using dynlib::Status;
using dynlib::kernels::Bandwidth;
using dynlib::kernels::RunnerArgs;
using dynlib::kernels::WorkCounter;

// 1-D Brusselator with fixed ends (u = 1, v = 3), N grid points, u and v of a point next to each other:
// the Jacobian has ml = mu = 2.
std::string brusselator_1d(int N) {
  std::ostringstream s;
  s.precision(17);
  s << "inline:\n[model]\ntype = \"ode\"\n[params]\nc = " << 0.02 * (N + 1) * (N + 1) << "\n[states]\n";
  for (int i = 0; i < N; ++i)
    s << "u" << i << " = " << 1.0 + std::sin(2.0 * M_PI * (i + 1.0) / (N + 1.0)) << "\nv" << i << " = 3.0\n";
  s << "[equations.rhs]\n";
  auto nb = [&](char v, int i, const char* edge) {
    std::ostringstream o;
    if (i < 0 || i >= N)
      o << edge;
    else
      o << v << i;
    return o.str();
  };
  for (int i = 0; i < N; ++i) {
    s << "u" << i << " = \"1 + u" << i << "**2*v" << i << " - 4*u" << i << " + c*(" << nb('u', i - 1, "1.0")
      << " - 2*u" << i << " + " << nb('u', i + 1, "1.0") << ")\"\n";
    s << "v" << i << " = \"3*u" << i << " - u" << i << "**2*v" << i << " + c*(" << nb('v', i - 1, "3.0")
      << " - 2*v" << i << " + " << nb('v', i + 1, "3.0") << ")\"\n";
  }
  return s.str();
}

// A host for one run without records that keeps the workspace (work counters, pivots).
struct Host {
  std::shared_ptr<dynlib::kernels::CompiledModel> cm;
  const dynlib::kernels::StepperInfo* si = nullptr;
  std::vector<double> y, yprev, params, ws, yprop, scratch, aux, ring, cfg;
  std::vector<std::int64_t> iws, head;
  RunnerArgs a;

  Host(const std::shared_ptr<const dynlib::ir::ModelIR>& m, double T,
       const std::vector<std::pair<std::string, double>>& settings) {
    si = &dynlib::kernels::get_stepper("bdf");
    cm = dynlib::interp::make_interpreted(m, *si);
    const auto& L = cm->layout();
    y = m->state_ic;
    yprev = y;
    params = m->param_vals;
    ws.assign(std::max<std::int64_t>(1, L.ws_size), 0.0);
    iws.assign(std::max<std::int64_t>(1, L.iws_size), 0);
    yprop.assign(y.size(), 0.0);
    scratch.assign(std::max<std::int64_t>(1, L.scratch_size), 0.0);
    aux.assign(std::max<std::int64_t>(1, L.n_aux), 0.0);
    ring.assign(1, 0.0);
    head.assign(1, 0);
    cfg = cm->default_config();
    for (const auto& [k, v] : settings) cfg.at(static_cast<std::size_t>(si->config_index(k))) = v;
    a.t_end = T;
    a.step_end = 100000000;
    a.record_interval = 0;
    a.n_state = static_cast<std::int64_t>(y.size());
    a.y_curr = y.data();
    a.y_prev = yprev.data();
    a.params = params.data();
    a.lag_ring = ring.data();
    a.lag_head = head.data();
    a.aux_values = aux.data();
    a.ws = ws.data();
    a.iws = iws.data();
    a.stepper_config = cfg.data();
    a.n_config = static_cast<std::int64_t>(cfg.size());
    a.y_prop = yprop.data();
    a.scratch = scratch.data();
    a.dt = cm->initial_step(0.0, T, y.data(), params.data(), cfg.data(), a.n_config, T);
  }
  Status run() {
    cm->run(a);
    return static_cast<Status>(a.status);
  }
  std::int64_t counter(WorkCounter w) const {
    return iws.at(static_cast<std::size_t>(si->work_counters_at + static_cast<int>(w)));
  }
};

// The same model without bandwidths: bdf takes the dense path.
std::shared_ptr<const dynlib::ir::ModelIR> as_dense(const std::shared_ptr<const dynlib::ir::ModelIR>& m) {
  auto d = std::make_shared<dynlib::ir::ModelIR>(*m);
  d->jacobian_ml = d->jacobian_mu = -1;
  return d;
}

double max_rel_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double e = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) e = std::max(e, std::abs(a[i] - b[i]) / std::abs(b[i]));
  return e;
}

}  // namespace

TEST_CASE("band LU: solves like a dense elimination, pivoting inside the band", "[linalg][band]") {
  using dynlib::interp::DirectBackend;
  const int n = 40;
  const Bandwidth bw{3, 2};
  const int w = dynlib::kernels::band_width_lu(bw);
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  // A banded matrix with small diagonal entries, so that rows are exchanged.
  std::vector<std::vector<double>> A(n, std::vector<double>(n, 0.0));
  for (int i = 0; i < n; ++i)
    for (int j = std::max(0, i - bw.ml); j <= std::min(n - 1, i + bw.mu); ++j)
      A[i][j] = i == j ? 0.01 * u(rng) : u(rng);
  std::vector<double> band(static_cast<std::size_t>(dynlib::kernels::band_lu_size(n, bw)), 0.0), x(n), r(n);
  for (int i = 0; i < n; ++i)
    for (int j = std::max(0, i - bw.ml); j <= std::min(n - 1, i + bw.mu); ++j)
      band[static_cast<std::size_t>(i * w + (j - i + bw.ml))] = A[i][j];
  for (int i = 0; i < n; ++i) x[i] = u(rng);
  for (int i = 0; i < n; ++i) {
    r[i] = 0.0;
    for (int j = 0; j < n; ++j) r[i] += A[i][j] * x[j];
  }
  std::vector<std::int64_t> piv(n, 0);
  DirectBackend b;
  REQUIRE(dynlib::kernels::lu_band_factor(b, n, bw, band.data(), piv.data()).get() == 1);
  bool exchanged = false;
  for (int k = 0; k < n; ++k) exchanged = exchanged || piv[k] != k;
  CHECK(exchanged);
  CHECK(dynlib::kernels::lu_band_pivots_valid(b, n, bw, piv.data()).get() == 1);
  auto sol = r;
  dynlib::kernels::lu_band_solve(b, n, bw, band.data(), piv.data(), sol.data());
  for (int i = 0; i < n; ++i) CHECK(sol[i] == Approx(x[i]).epsilon(1e-10));
  // A pivot beyond the band (or the matrix) is rejected.
  piv[5] = 5 + bw.ml + 1;
  CHECK(dynlib::kernels::lu_band_pivots_valid(b, n, bw, piv.data()).get() == 0);
  piv[5] = 4;
  CHECK(dynlib::kernels::lu_band_pivots_valid(b, n, bw, piv.data()).get() == 0);
  // A singular band matrix is reported.
  std::vector<double> zero(band.size(), 0.0);
  CHECK(dynlib::kernels::lu_band_factor(b, n, bw, zero.data(), piv.data()).get() == 0);
}

TEST_CASE("bandwidths: lowering finds them from the states each equation uses", "[model][band]") {
  auto m = dynlib::load_model(brusselator_1d(10));
  CHECK(m->jacobian_ml == 2);
  CHECK(m->jacobian_mu == 2);
  auto lorenz = dynlib::load_model("builtin://ode/lorenz");
  CHECK(lorenz->jacobian_ml == 2);
  CHECK(lorenz->jacobian_mu == 1);
  // Hand-built IR has none: dense.
  auto hand = tb::ode({"x"}, {1.0}, {tb::neg(tb::S(0))});
  CHECK(hand->jacobian_ml == -1);
}

TEST_CASE("bdf: a banded 1-D reaction-diffusion problem in band storage matches the dense solution",
          "[stepper][bdf][band]") {
  auto m = dynlib::load_model(brusselator_1d(100));  // 200 states, ml = mu = 2: band storage
  REQUIRE(m->jacobian_ml == 2);
  for (double mode : {0.0, 1.0}) {
    INFO("jacobian_mode " << mode);
    const std::vector<std::pair<std::string, double>> set{
        {"atol", 1e-6}, {"rtol", 1e-6}, {"jacobian_mode", mode}};
    Host band(m, 10.0, set), dense(as_dense(m), 10.0, set);
    REQUIRE(band.run() == Status::DONE);
    REQUIRE(dense.run() == Status::DONE);
    CHECK(max_rel_diff(band.y, dense.y) < 1e-10);
    CHECK(band.counter(WorkCounter::jac) == dense.counter(WorkCounter::jac));
    if (mode == 0.0) {
      // differences: 5 + 1 rhs evaluations per Jacobian instead of 200 + 1
      const auto jac = band.counter(WorkCounter::jac);
      CHECK(dense.counter(WorkCounter::rhs) - band.counter(WorkCounter::rhs) == jac * (201 - 6));
    }
  }
}

TEST_CASE("bdf: corrupt band pivots refactor, never index out of bounds", "[stepper][bdf][band]") {
  auto m = dynlib::load_model(brusselator_1d(30));  // 60 states, band storage
  const std::vector<std::pair<std::string, double>> set{{"atol", 1e-8}, {"rtol", 1e-8}};
  Host ref(m, 4.0, set);
  ref.a.t_end = 2.0;
  REQUIRE(ref.run() == Status::DONE);
  ref.a.t_end = 4.0;
  REQUIRE(ref.run() == Status::DONE);
  Host h(m, 4.0, set);
  h.a.t_end = 2.0;
  REQUIRE(h.run() == Status::DONE);
  const auto lu_before = h.counter(WorkCounter::lu);
  h.iws[6] = 1;        // LU valid
  h.iws[8] = 1000000;  // beyond the matrix
  h.iws[9] = -5;       // negative
  h.iws[8 + 20] = 25;  // inside the matrix, outside the band
  h.a.t_end = 4.0;
  REQUIRE(h.run() == Status::DONE);
  CHECK(h.counter(WorkCounter::lu) > lu_before);
  CHECK(max_rel_diff(h.y, ref.y) < 1e-5);

  // Row ends of U (after the band factors) that are not numbers or lie outside the band are clamped.
  Host g(m, 4.0, set);
  g.a.t_end = 2.0;
  REQUIRE(g.run() == Status::DONE);
  const std::size_t n = 60, row_ends = 8 * n + n * n + n * static_cast<std::size_t>(2 * 2 + 2 + 1);
  g.ws[row_ends + 0] = NAN;
  g.ws[row_ends + 10] = 1e300;
  g.ws[row_ends + 20] = -5.0;
  g.ws[row_ends + n - 1] = 1e9;
  g.a.t_end = 4.0;
  REQUIRE(g.run() == Status::DONE);
  CHECK(max_rel_diff(g.y, ref.y) < 1e-5);
}
