// The hot loop allocates nothing (it writes only into caller-owned buffers), and a throughput figure
// for the interpreter.
#include <catch2/catch.hpp>

#pragma GCC diagnostic ignored "-Wmismatched-new-delete"  // malloc-backed replacement operator new

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>

#include "runtime/test_runner_helpers.hpp"

namespace {
std::atomic<long> g_allocs{0};
std::atomic<bool> g_count{false};
}  // namespace

void* operator new(std::size_t n) {
  if (g_count.load(std::memory_order_relaxed)) g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace tb;

namespace {
std::shared_ptr<dynlib::ir::ModelIR> lorenz() {
  auto x = S(0), y = S(1), z = S(2);
  auto m = ode({"x", "y", "z"}, {1.0, 1.0, 1.0},
               {mul(P(0), sub(y, x)), sub(mul(x, sub(P(1), z)), y), sub(mul(x, y), mul(P(2), z))});
  m->params = {"sigma", "rho", "beta"};
  m->param_vals = {10.0, 28.0, 8.0 / 3.0};
  auto ev = dynlib::ir::Event{};
  ev.name = "above";
  ev.phase = dynlib::ir::Phase::end;
  ev.cond = bin(Op::Gt, S(2), C(45.0));
  ev.log = {dynlib::ir::LogItem{dynlib::ir::LogItem::Kind::Time, 0, "t"}};
  m->events.push_back(ev);
  return m;
}
}  // namespace

TEST_CASE("runner hot loop allocates nothing, for every stepper", "[runner][alloc]") {
  auto m = lorenz();
  for (const char* name : {"euler", "rk2", "rk4", "rk45", "ab2", "ab3", "sdirk2", "bdf2", "bdf2a", "tr-bdf2a",
                           "rodas5p", "rodas4", "bdf"}) {
    const auto& si = dynlib::kernels::get_stepper(name);
    auto cm = dynlib::interp::make_interpreted(m, si);
    const auto& L = cm->layout();
    std::vector<double> y(m->state_ic), yp(3), yprop(3), params(m->param_vals), ws(L.ws_size + 1),
        cfg = cm->default_config();
    std::vector<std::int64_t> iws(L.iws_size + 1), idx{0, 1, 2};
    const std::int64_t cap = 20000;
    std::vector<double> T(cap), Y(3 * cap), EL(cap), aux(1), ring(1), scratch(1);
    std::vector<std::int64_t> ST(cap), EC(cap), EI(cap), ES(cap), head(1), event_counts(L.n_events + 1);
    std::vector<double> ET(cap);
    dynlib::kernels::RunnerArgs a;
    a.t_end = 2.0;
    a.step_end = 1000000;
    a.record_interval = 1;
    a.n_state = 3;
    a.dt_nominal = 0.001;
    a.y_curr = y.data();
    a.y_prev = yp.data();
    a.params = params.data();
    a.lag_ring = ring.data();
    a.lag_head = head.data();
    a.aux_values = aux.data();
    a.event_counts = event_counts.data();
    a.ws = ws.data();
    a.iws = iws.data();
    a.stepper_config = cfg.data();
    a.n_config = static_cast<std::int64_t>(cfg.size());
    a.y_prop = yprop.data();
    a.scratch = scratch.data();
    a.T = T.data();
    a.Y = Y.data();
    a.STEP = ST.data();
    a.cap_rec = cap;
    a.state_rec_idx = idx.data();
    a.n_rec_states = 3;
    a.EVT_CODE = EC.data();
    a.EVT_INDEX = EI.data();
    a.EVT_LOG_DATA = EL.data();
    a.cap_evt = cap;
    a.EVT_T = ET.data();
    a.EVT_STEP = ES.data();
    a.t = 0.0;
    a.dt = 0.001;
    g_allocs = 0;
    g_count = true;
    cm->run(a);
    g_count = false;
    INFO(name << " status " << a.status << " steps " << a.step);
    CHECK(a.status == static_cast<int>(dynlib::Status::DONE));
    CHECK(g_allocs.load() == 0);
  }
}

TEST_CASE("interpreter throughput (Lorenz, rk4, no recording)", "[runner][perf]") {
  auto m = lorenz();
  const double T1 = 100.0, dt = 1e-4;  // 1e6 steps
  auto t0 = std::chrono::steady_clock::now();
  auto r = run(m, "rk4", {.t_end = T1, .dt = dt, .record_interval = 0, .cap_evt = 1 << 16});
  auto t1 = std::chrono::steady_clock::now();
  const double s = std::chrono::duration<double>(t1 - t0).count();
  REQUIRE(r.status == dynlib::Status::DONE);
  CHECK(r.steps == 1000000);
  WARN("interp rk4 Lorenz: " << r.steps << " steps in " << s << " s = " << (r.steps / s / 1e6)
                             << " Msteps/s (" << (4 * r.steps / s / 1e6) << " M rhs evals/s), events "
                             << r.evt_code.size());
}
