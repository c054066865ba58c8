// bdf on large sparse systems: the symbolic analysis (order, fill, column groups), the sparse LU
// against a dense solve, a 2-D periodic reaction-diffusion problem in sparse form that matches the dense
// solution, the fallback to dense when the factors would fill in, and a zero pivot that fails the
// factorization as the dense path's does.
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
#include "kernels/compiled_model.hpp"
#include "kernels/linalg.hpp"
#include "kernels/sparse_lu.hpp"
#include "kernels/stepper_common.hpp"
#include "model/sparsity.hpp"
#include "steppers_catalogue/stepper_registry.hpp"
#include "test_runner_helpers.hpp"

namespace {

using dynlib::Status;
using dynlib::kernels::RunnerArgs;
using dynlib::kernels::WorkCounter;

// 2-D Brusselator on an N x N grid with periodic edges (u and v of a grid point next to each other).
std::string brusselator_2d_periodic(int N, double alpha = 0.1) {
  std::ostringstream s;
  s.precision(17);
  s << "inline:\n[model]\ntype = \"ode\"\n[params]\nc = " << alpha * N * N << "\n[states]\n";
  auto id = [&](char f, int i, int j) {  // appended piece by piece (GCC 12 warns on "x" + string&&)
    std::string name(1, f);
    name += std::to_string((i + N) % N);
    name += '_';
    name += std::to_string((j + N) % N);
    return name;
  };
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j) {
      const double x = double(i) / N, y = double(j) / N;
      s << id('u', i, j) << " = " << 22.0 * y * std::pow(1.0 - y, 1.5) << "\n";
      s << id('v', i, j) << " = " << 27.0 * x * std::pow(1.0 - x, 1.5) << "\n";
    }
  s << "[equations.rhs]\n";
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < N; ++j)
      for (char f : {'u', 'v'}) {
        const std::string me = id(f, i, j);
        const std::string u = id('u', i, j), v = id('v', i, j);
        s << me << " = \"" << (f == 'u' ? "1 + " : "3.4*") << u << (f == 'u' ? "**2*" : " - ")
          << (f == 'u' ? v : u) << (f == 'u' ? " - 4.4*" : "**2*") << (f == 'u' ? u : v) << " + c*("
          << id(f, i - 1, j) << " + " << id(f, i + 1, j) << " + " << id(f, i, j - 1) << " + "
          << id(f, i, j + 1) << " - 4*" << me << ")\"\n";
      }
  return s.str();
}

// All-to-all coupling through an aux sum: a full Jacobian (n states, no exact Jacobian above 256).
std::string all_to_all(int n) {
  std::ostringstream s;
  s << "inline:\n[model]\ntype = \"ode\"\n[states]\n";
  for (int i = 0; i < n; ++i) s << "x" << i << " = " << 1.0 + 0.01 * i << "\n";
  s << "[aux]\ntotal = \"";
  for (int i = 0; i < n; ++i) s << (i ? " + " : "") << "x" << i;
  s << "\"\n[equations.rhs]\n";
  for (int i = 0; i < n; ++i) s << "x" << i << " = \"-x" << i << " + 0.001*total\"\n";
  return s.str();
}

// A host for one run (bdf unless told) without records that keeps the workspace (work counters).
struct Host {
  std::shared_ptr<dynlib::kernels::CompiledModel> cm;
  const dynlib::kernels::StepperInfo* si = nullptr;
  std::vector<double> y, yprev, params, ws, yprop, scratch, aux, ring, cfg;
  std::vector<std::int64_t> iws, head;
  RunnerArgs a;

  Host(const std::shared_ptr<const dynlib::ir::ModelIR>& m, double T,
       const std::vector<std::pair<std::string, double>>& settings, const char* stepper = "bdf") {
    si = &dynlib::kernels::get_stepper(stepper);
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

// The same model without the sparse structure: bdf and radau5 take the dense path.
std::shared_ptr<const dynlib::ir::ModelIR> as_dense(const std::shared_ptr<const dynlib::ir::ModelIR>& m) {
  auto d = std::make_shared<dynlib::ir::ModelIR>(*m);
  d->jacobian_sparse = nullptr;
  return d;
}

// A random sparse pattern: the diagonal and about k more entries per row.
std::vector<std::vector<std::int64_t>> random_pattern(std::int64_t n, int k, std::mt19937& rng) {
  std::uniform_int_distribution<std::int64_t> col(0, n - 1);
  std::vector<std::vector<std::int64_t>> rows(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    auto& r = rows[static_cast<std::size_t>(i)];
    r.push_back(i);
    for (int q = 0; q < k; ++q) r.push_back(col(rng));
    std::sort(r.begin(), r.end());
    r.erase(std::unique(r.begin(), r.end()), r.end());
  }
  return rows;
}

}  // namespace

TEST_CASE("sparse analysis: every entry of J has a slot, groups share no row, L+U is closed under fill",
          "[model][sparse]") {
  std::mt19937 rng(3);
  const std::int64_t n = 80;
  const auto rows = random_pattern(n, 3, rng);
  auto sp = dynlib::model::analyse_sparse(n, rows, n * n);
  REQUIRE(sp);
  const auto& s = *sp;
  // perm is a permutation
  std::vector<std::int64_t> pos(n, -1);
  for (std::int64_t k = 0; k < n; ++k) pos[s.perm[k]] = k;
  CHECK(std::count(pos.begin(), pos.end(), -1) == 0);
  // J's entries by columns, each mapped to the factor slot of (pos[i], pos[j])
  std::int64_t nnz = 0;
  for (const auto& r : rows) nnz += static_cast<std::int64_t>(r.size());
  REQUIRE(s.nnz_jacobian() == nnz);
  for (std::int64_t j = 0; j < n; ++j)
    for (std::int64_t e = s.jcol_start[j]; e < s.jcol_start[j + 1]; ++e) {
      const auto i = s.jrow[e];
      const auto p = s.jslot[e];
      REQUIRE(p >= s.row_start[pos[i]]);
      REQUIRE(p < s.row_start[pos[i] + 1]);
      CHECK(s.col[p] == pos[j]);
    }
  // fill closure: L(k, j) and U(j, c) imply an entry (k, c)
  auto has = [&](std::int64_t r, std::int64_t c) {
    return std::binary_search(s.col.begin() + s.row_start[r], s.col.begin() + s.row_start[r + 1], c);
  };
  for (std::int64_t k = 0; k < n; ++k) {
    REQUIRE(s.col[s.diag[k]] == k);
    for (std::int64_t p = s.row_start[k]; p < s.diag[k]; ++p) {
      const auto j = s.col[p];
      for (std::int64_t q = s.diag[j] + 1; q < s.row_start[j + 1]; ++q) CHECK(has(k, s.col[q]));
    }
  }
  // column groups: every column once, no two columns of a group in one row
  std::vector<int> seen(n, 0);
  for (std::int64_t g = 0; g < s.n_groups(); ++g) {
    std::vector<int> row_used(n, 0);
    for (std::int64_t q = s.group_start[g]; q < s.group_start[g + 1]; ++q) {
      const auto j = s.group_cols[q];
      ++seen[j];
      for (std::int64_t e = s.jcol_start[j]; e < s.jcol_start[j + 1]; ++e) CHECK(++row_used[s.jrow[e]] == 1);
    }
  }
  CHECK(std::count(seen.begin(), seen.end(), 1) == n);
  CHECK(s.n_groups() < n / 4);
  // A budget below the fill gives up.
  CHECK_FALSE(dynlib::model::analyse_sparse(n, rows, s.nnz_factors() - 1));
}

TEST_CASE("sparse LU: solves like a dense LU on random sparse matrices", "[linalg][sparse]") {
  using dynlib::interp::DirectBackend;
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (int trial = 0; trial < 5; ++trial) {
    const std::int64_t n = 60 + 15 * trial;
    const auto rows = random_pattern(n, 2 + trial % 3, rng);
    auto sp = dynlib::model::analyse_sparse(n, rows, n * n);
    REQUIRE(sp);
    const auto& s = *sp;
    // J with the pattern; the factored matrix is M = I - cc J with cc = 0.7.
    const double cc = 0.7;
    std::vector<double> J(static_cast<std::size_t>(s.nnz_jacobian()));
    std::vector<double> M(static_cast<std::size_t>(n * n), 0.0);
    for (std::int64_t i = 0; i < n; ++i) M[i * n + i] = 1.0;
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t e = s.jcol_start[j]; e < s.jcol_start[j + 1]; ++e) {
        J[e] = u(rng);
        M[s.jrow[e] * n + j] -= cc * J[e];
      }
    std::vector<double> x(n), r(n, 0.0);
    for (auto& v : x) v = u(rng);
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < n; ++j) r[i] += M[i * n + j] * x[j];
    DirectBackend b;
    const dynlib::kernels::SparseArrays<DirectBackend> arr(b, s);
    std::vector<double> LU(static_cast<std::size_t>(s.nnz_factors())), w(n), z(n);
    dynlib::kernels::sparse_iteration_matrix(b, s, arr, cc, J.data(), LU.data());
    REQUIRE(dynlib::kernels::lu_sparse_factor(b, s, arr, LU.data(), w.data()).get() == 1);
    auto sol = r;
    dynlib::kernels::lu_sparse_solve(b, s, arr, LU.data(), sol.data(), z.data());
    // the dense LU with partial pivoting on the same matrix
    std::vector<std::int64_t> piv(n);
    auto Md = M;
    REQUIRE(dynlib::kernels::lu_factor(b, static_cast<int>(n), Md.data(), piv.data()).get() == 1);
    auto sold = r;
    dynlib::kernels::lu_solve(b, static_cast<int>(n), Md.data(), piv.data(), sold.data());
    for (std::int64_t i = 0; i < n; ++i) {
      CHECK(sol[i] == Approx(x[i]).epsilon(1e-9).margin(1e-12));
      CHECK(sol[i] == Approx(sold[i]).epsilon(1e-9).margin(1e-12));
    }
  }
}

TEST_CASE("sparse LU: a zero or tiny pivot fails the factorization, as a singular matrix fails the dense LU",
          "[linalg][sparse]") {
  using dynlib::interp::DirectBackend;
  std::mt19937 rng(5);
  const std::int64_t n = 50;
  const auto rows = random_pattern(n, 2, rng);
  auto sp = dynlib::model::analyse_sparse(n, rows, n * n);
  REQUIRE(sp);
  const auto& s = *sp;
  DirectBackend b;
  const dynlib::kernels::SparseArrays<DirectBackend> arr(b, s);
  // cc = 1 and J = 1 on the diagonal: M = I - J has a zero diagonal (the first pivot is zero); with
  // J = 1 - 1e-15 there the first pivot is 1e-15 against entries of 1 in its row (tiny).
  for (double diag : {1.0, 1.0 - 1e-15}) {
    INFO("J diagonal 1 - " << 1.0 - diag);
    std::vector<double> J(static_cast<std::size_t>(s.nnz_jacobian()), 0.0);
    for (std::int64_t j = 0; j < n; ++j)
      for (std::int64_t e = s.jcol_start[j]; e < s.jcol_start[j + 1]; ++e)
        if (s.jrow[e] == j)
          J[e] = diag;
        else
          J[e] = -1.0;
    std::vector<double> LU(static_cast<std::size_t>(s.nnz_factors())), w(n);
    dynlib::kernels::sparse_iteration_matrix(b, s, arr, 1.0, J.data(), LU.data());
    CHECK(dynlib::kernels::lu_sparse_factor(b, s, arr, LU.data(), w.data()).get() == 0);
  }
  // the dense LU reports the exactly singular matrix (a zero diagonal, nothing else) too
  std::vector<double> M(static_cast<std::size_t>(n * n), 0.0);
  std::vector<std::int64_t> piv(n);
  CHECK(dynlib::kernels::lu_factor(b, static_cast<int>(n), M.data(), piv.data()).get() == 0);
}

TEST_CASE("sparse rule: a periodic 2-D grid is sparse, a narrow band stays band, full coupling stays dense",
          "[model][sparse]") {
  auto m = dynlib::load_model(brusselator_2d_periodic(12));  // 288 states: no symbolic Jacobian
  REQUIRE(m->jacobian_sparse);
  CHECK(m->jacobian_sparse->n == 288);
  CHECK(m->jacobian_sparse->nnz_jacobian() == 288 * 6);
  CHECK(m->jacobian_sparse->n_groups() <= 12);
  // small: dense (and the symbolic Jacobian)
  CHECK_FALSE(dynlib::load_model(brusselator_2d_periodic(5))->jacobian_sparse);
  // every state coupled to every other: L+U would be full, the dense path is taken
  auto full = dynlib::load_model(all_to_all(300));
  CHECK_FALSE(full->exact_jacobian());
  CHECK_FALSE(full->jacobian_sparse);
}

TEST_CASE("bdf: a 2-D periodic reaction-diffusion problem in sparse form matches the dense solution",
          "[stepper][bdf][sparse]") {
  auto m = dynlib::load_model(brusselator_2d_periodic(12));
  REQUIRE(m->jacobian_sparse);
  const auto groups = m->jacobian_sparse->n_groups();
  const std::vector<std::pair<std::string, double>> set{{"atol", 1e-6}, {"rtol", 1e-6}};
  Host sparse(m, 1.5, set), dense(as_dense(m), 1.5, set);
  REQUIRE(sparse.run() == Status::DONE);
  REQUIRE(dense.run() == Status::DONE);
  double e = 0.0;
  for (std::size_t i = 0; i < sparse.y.size(); ++i)
    e = std::max(e, std::abs(sparse.y[i] - dense.y[i]) / (1e-6 + std::abs(dense.y[i])));
  CHECK(e < 1e-5);
  // differences: groups + 1 rhs evaluations per Jacobian instead of n + 1
  const auto jac = sparse.counter(WorkCounter::jac);
  CHECK(jac >= 1);
  CHECK(sparse.counter(WorkCounter::rhs) - (groups + 1) * jac ==
        dense.counter(WorkCounter::rhs) - 289 * dense.counter(WorkCounter::jac));
}

TEST_CASE("bdf: the full-coupling model runs on the dense path", "[stepper][bdf][sparse]") {
  auto m = dynlib::load_model(all_to_all(300));
  Host h(m, 1.0, {{"atol", 1e-8}, {"rtol", 1e-8}});
  REQUIRE(h.run() == Status::DONE);
  // x_i' = -x_i + 0.001 * sum: every Jacobian by n + 1 rhs evaluations
  CHECK(h.counter(WorkCounter::rhs) >= 301 * h.counter(WorkCounter::jac));
  CHECK(std::isfinite(h.y[0]));
}

TEST_CASE("radau5: a 2-D periodic reaction-diffusion problem in sparse form matches the dense solution",
          "[stepper][radau5][sparse]") {
  auto m = dynlib::load_model(brusselator_2d_periodic(12));
  REQUIRE(m->jacobian_sparse);
  const auto groups = m->jacobian_sparse->n_groups();
  const std::vector<std::pair<std::string, double>> set{{"atol", 1e-6}, {"rtol", 1e-6}};
  Host sparse(m, 1.5, set, "radau5"), dense(as_dense(m), 1.5, set, "radau5");
  REQUIRE(sparse.run() == Status::DONE);
  REQUIRE(dense.run() == Status::DONE);
  double e = 0.0;
  for (std::size_t i = 0; i < sparse.y.size(); ++i)
    e = std::max(e, std::abs(sparse.y[i] - dense.y[i]) / (1e-6 + std::abs(dense.y[i])));
  CHECK(e < 1e-5);
  // its sparse workspace is much smaller than the four dense matrices
  CHECK(sparse.ws.size() * 5 < dense.ws.size());
  // differences: one rhs evaluation per column group instead of one per state
  const auto jac = sparse.counter(WorkCounter::jac);
  CHECK(jac >= 1);
  CHECK(sparse.counter(WorkCounter::rhs) - groups * jac ==
        dense.counter(WorkCounter::rhs) - 288 * dense.counter(WorkCounter::jac));
}

TEST_CASE("sparse LU: the complex form solves like the real 2n x 2n system", "[linalg][sparse]") {
  using dynlib::interp::DirectBackend;
  std::mt19937 rng(13);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  const std::int64_t n = 70;
  const auto rows = random_pattern(n, 3, rng);
  auto sp = dynlib::model::analyse_sparse(n, rows, n * n);
  REQUIRE(sp);
  const auto& s = *sp;
  DirectBackend b;
  const dynlib::kernels::SparseArrays<DirectBackend> arr(b, s);
  // E = (ar + i ai) I - J with J real
  const double ar = 3.0, ai = 1.5;
  std::vector<double> J(static_cast<std::size_t>(s.nnz_jacobian()));
  std::vector<double> Md(static_cast<std::size_t>(n * n), 0.0);
  for (std::int64_t j = 0; j < n; ++j)
    for (std::int64_t e = s.jcol_start[j]; e < s.jcol_start[j + 1]; ++e) {
      J[e] = u(rng);
      Md[s.jrow[e] * n + j] -= J[e];
    }
  std::vector<double> xr(n), xi(n), rr(n, 0.0), ri(n, 0.0);
  for (std::int64_t i = 0; i < n; ++i) xr[i] = u(rng), xi[i] = u(rng);
  for (std::int64_t i = 0; i < n; ++i) {
    rr[i] = ar * xr[i] - ai * xi[i];
    ri[i] = ar * xi[i] + ai * xr[i];
    for (std::int64_t j = 0; j < n; ++j) {
      rr[i] += Md[i * n + j] * xr[j];
      ri[i] += Md[i * n + j] * xi[j];
    }
  }
  const auto nf = static_cast<std::size_t>(s.nnz_factors());
  std::vector<double> Er(nf), Ei(nf, 0.0), wr(n), wi(n), zr(n), zi(n);
  dynlib::kernels::sparse_shifted_matrix(b, s, arr, ar, J.data(), Er.data());
  for (std::int64_t k = 0; k < n; ++k) Ei[s.diag[k]] = ai;
  REQUIRE(dynlib::kernels::lu_sparse_factor_complex(b, s, arr, Er.data(), Ei.data(), wr.data(), wi.data())
              .get() == 1);
  dynlib::kernels::lu_sparse_solve_complex(b, s, arr, Er.data(), Ei.data(), rr.data(), ri.data(), zr.data(),
                                           zi.data());
  for (std::int64_t i = 0; i < n; ++i) {
    CHECK(rr[i] == Approx(xr[i]).epsilon(1e-9).margin(1e-12));
    CHECK(ri[i] == Approx(xi[i]).epsilon(1e-9).margin(1e-12));
  }
}
