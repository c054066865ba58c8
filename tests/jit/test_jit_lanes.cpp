// The SIMD lane runner (kernels/runner_lanes.hpp): every lane gives the bits of a scalar run of the
// same point (records, final state, status, step count, NaN report), for maps and fixed-step ODE
// steppers; lanes that stop early are frozen while the others go on; a partial pack is padded.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/jit_loader.hpp"
#include "dynlib/batch.hpp"
#include "dynlib/full_model.hpp"
#include "dynlib/model.hpp"
#include "interp/interp.hpp"
#include "jit/run_helper.hpp"
#include "kernels/lane_abi.hpp"
#include "steppers_catalogue/stepper_registry.hpp"

using dynlib::kernels::kLanes;
using dynlib::test::run_model;
using dynlib::test::RunOut;
using dynlib::test::RunSpec;
using dynlib::test::same_bits;

namespace {

struct Point {
  std::vector<double> ic, params;
};

bool same_double(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// The points in packs of kLanes through the lane runner (the last pack padded with copies of its first
// point), as the RunOut of each point. Record buffers sized for the whole run, as the batch host does.
std::vector<RunOut> run_in_lanes(const dynlib::kernels::CompiledModel& cm,
                                 const dynlib::kernels::LaneRunner& lr, const std::vector<Point>& pts,
                                 const RunSpec& spec) {
  const auto& m = cm.model();
  const auto& L = cm.layout();
  const auto n = static_cast<std::size_t>(L.n_state);
  const auto np = static_cast<std::size_t>(L.n_params);
  const bool is_map = m.kind == dynlib::ir::Kind::map;
  const double dt = m.sim.dt > 0 ? m.sim.dt : 0.01;
  const double t0 = m.sim.t0;
  const std::int64_t cap = spec.n_steps * 2 + 2;
  auto cfg = cm.default_config();
  std::vector<std::int64_t> srec(n);
  for (std::size_t k = 0; k < n; ++k) srec[k] = static_cast<std::int64_t>(k);
  std::vector<RunOut> outs;
  for (std::size_t first = 0; first < pts.size(); first += kLanes) {
    const std::size_t real = std::min<std::size_t>(kLanes, pts.size() - first);
    auto pt = [&](std::size_t j) -> const Point& { return pts[first + (j < real ? j : 0)]; };
    std::vector<double> y(std::max<std::size_t>(n, 1) * kLanes), p(std::max<std::size_t>(np, 1) * kLanes),
        ws(static_cast<std::size_t>(std::max<std::int64_t>(L.ws_size, 1)) * kLanes),
        yprop(std::max<std::size_t>(n, 1) * kLanes);
    for (std::size_t j = 0; j < kLanes; ++j) {
      const auto& ic = pt(j).ic.empty() ? m.state_ic : pt(j).ic;
      const auto& pv = pt(j).params.empty() ? m.param_vals : pt(j).params;
      for (std::size_t k = 0; k < n; ++k) y[k * kLanes + j] = ic[k];
      for (std::size_t k = 0; k < np; ++k) p[k * kLanes + j] = pv[k];
    }
    std::vector<double> yprev(y), T(static_cast<std::size_t>(cap)),
        Y(n * static_cast<std::size_t>(cap) * kLanes);
    std::vector<std::int64_t> STEP(static_cast<std::size_t>(cap));
    dynlib::kernels::LaneRunnerArgs a;
    a.t_end = t0 + static_cast<double>(spec.n_steps) * dt * spec.t_span_scale;
    a.step_end = is_map ? spec.n_steps : spec.max_steps;
    a.record_interval = spec.record_interval;
    a.t_base = t0;
    a.dt_nominal = dt;
    a.y_curr = y.data();
    a.y_prev = yprev.data();
    a.params = p.data();
    a.ws = ws.data();
    a.y_prop = yprop.data();
    a.stepper_config = cfg.data();
    a.n_config = static_cast<std::int64_t>(cfg.size());
    a.T = T.data();
    a.STEP = STEP.data();
    a.Y = Y.data();
    a.cap_rec = cap;
    a.state_rec_idx = srec.data();
    a.n_rec_states = static_cast<std::int64_t>(n);
    lr.run(a);
    for (std::size_t j = 0; j < real; ++j) {
      RunOut o;
      o.status = static_cast<std::int32_t>(a.status[j]);
      o.steps = a.step[j];
      o.t = a.t[j];
      o.n_rec = a.n_rec[j];
      o.nan_where = static_cast<std::int32_t>(a.nan_where[j]);
      o.nan_index = a.nan_index[j];
      o.t_fail = a.t_fail[j];
      o.T.assign(T.begin(), T.begin() + o.n_rec);
      o.STEP.assign(STEP.begin(), STEP.begin() + o.n_rec);
      for (std::size_t k = 0; k < n; ++k)
        for (std::int64_t i = 0; i < o.n_rec; ++i)
          o.Y.push_back(Y[(k * static_cast<std::size_t>(cap) + static_cast<std::size_t>(i)) * kLanes + j]);
      for (std::size_t k = 0; k < n; ++k) {
        o.y_final.push_back(y[k * kLanes + j]);
        o.y_prev.push_back(yprev[k * kLanes + j]);
      }
      outs.push_back(std::move(o));
    }
  }
  return outs;
}

void check_lane(const RunOut& scalar, const RunOut& lane) {
  CHECK(scalar.status == lane.status);
  CHECK(scalar.steps == lane.steps);
  CHECK(same_double(scalar.t, lane.t));
  CHECK(scalar.n_rec == lane.n_rec);
  CHECK(same_bits(scalar.T, lane.T));
  CHECK(same_bits(scalar.STEP, lane.STEP));
  CHECK(same_bits(scalar.Y, lane.Y));
  CHECK(same_bits(scalar.y_final, lane.y_final));
  CHECK(same_bits(scalar.y_prev, lane.y_prev));
  if (scalar.status == static_cast<int>(dynlib::Status::NAN_DETECTED)) {
    CHECK(scalar.nan_where == lane.nan_where);
    CHECK(scalar.nan_index == lane.nan_index);
    CHECK(same_double(scalar.t_fail, lane.t_fail));
  }
}

// Every point run in lanes against its scalar run with the JIT and with the interpreter; returns the lane
// results.
std::vector<RunOut> check_points(const char* uri, const char* stepper, const std::vector<Point>& pts,
                                 RunSpec spec) {
  INFO(uri << " " << stepper);
  auto model = dynlib::load_model(uri);
  const auto& s = dynlib::kernels::get_stepper(stepper);
  auto jt = dynlib::core::jit_compile(model, s, model->dtype);
  jt->wait_optimized();
  auto in = dynlib::interp::make_interpreted(model, s);
  CHECK(in->lane_runner() == nullptr);  // the interpreter stays scalar (the reference)
  auto lr = jt->lane_runner();
  REQUIRE(lr);
  CHECK(jt->lane_runner() == lr);  // compiled once
  auto lanes = run_in_lanes(*jt, *lr, pts, spec);
  REQUIRE(lanes.size() == pts.size());
  for (std::size_t q = 0; q < pts.size(); ++q) {
    INFO("point " << q);
    RunSpec one = spec;
    one.ic = pts[q].ic;
    one.params = pts[q].params;
    auto sj = run_model(*jt, one);
    auto si = run_model(*in, one);
    check_lane(sj, lanes[q]);
    check_lane(si, lanes[q]);
  }
  return lanes;
}

std::vector<int> statuses(const std::vector<RunOut>& outs) {
  std::vector<int> v;
  for (const auto& o : outs) v.push_back(o.status);
  return v;
}
constexpr int kDone = static_cast<int>(dynlib::Status::DONE);
constexpr int kNan = static_cast<int>(dynlib::Status::NAN_DETECTED);
constexpr int kEarly = static_cast<int>(dynlib::Status::EARLY_EXIT);

RunSpec spec_for(std::int64_t n_steps, std::int64_t record_interval = 1, double t_span_scale = 1.0) {
  RunSpec r;
  r.n_steps = n_steps;
  r.record_interval = record_interval;
  r.t_span_scale = t_span_scale;
  return r;
}

}  // namespace

TEST_CASE("lanes: builtin maps, 4 parameter sets == 4 scalar runs bit for bit", "[jit][lanes]") {
  check_points("builtin://map/logistic", "map",
               {{{0.2}, {3.5}}, {{0.3}, {3.7}}, {{0.4}, {3.9}}, {{0.1}, {4.0}}}, spec_for(500));
  check_points("builtin://map/henon", "map",
               {{{}, {1.4, 0.3}}, {{}, {1.2, 0.3}}, {{0.1, 0.0}, {1.0, 0.2}}, {{}, {1.3, 0.25}}},
               spec_for(400, 3));
  check_points("builtin://map/standard", "map",
               {{{0.1, 0.2}, {0.5}}, {{}, {0.971635}}, {{1.0, 2.0}, {2.0}}, {{-0.5, 3.0}, {5.0}}},
               spec_for(300));
}

TEST_CASE("lanes: fixed-step ODEs (Lorenz, Duffing with cos) x euler, rk2, rk4", "[jit][lanes]") {
  const std::vector<Point> lorenz = {{{}, {10.0, 28.0, 8.0 / 3.0}},
                                     {{1.0, 1.0, 1.0}, {10.0, 24.0, 8.0 / 3.0}},
                                     {{}, {12.0, 99.96, 3.0}},
                                     {{-3.0, 2.0, 20.0}, {16.0, 45.92, 4.0}}};
  const std::vector<Point> duffing = {{{}, {0.2, -1.0, 1.0, 0.3, 1.2}},
                                      {{}, {0.1, -1.0, 1.0, 0.5, 1.4}},
                                      {{1.0, 0.0}, {0.3, 1.0, 0.5, 0.2, 0.8}},
                                      {{}, {0.25, -1.0, 1.0, 0.35, 1.2}}};
  for (const char* st : {"euler", "rk2", "rk4"}) {
    // t_span_scale: the horizon is not a multiple of dt, so the last step is a partial one.
    check_points("builtin://ode/lorenz", st, lorenz, spec_for(700, 7, 1.00037));
    check_points("builtin://ode/lorenz", st, lorenz, spec_for(3000, 0, 1.00037));  // the inner loop only
    check_points("builtin://ode/duffing", st, duffing, spec_for(500, 1));
  }
}

TEST_CASE("lanes: a lane hitting NaN/Inf mid-run is frozen, the others go on", "[jit][lanes][nan]") {
  // logistic r > 4 escapes to -inf; the other lanes stay in [0, 1].
  auto lg = check_points("builtin://map/logistic", "map",
                         {{{0.2}, {3.5}}, {{0.3}, {4.5}}, {{0.4}, {3.9}}, {{0.3}, {6.0}}}, spec_for(500));
  CHECK(statuses(lg) == std::vector<int>{kDone, kNan, kDone, kNan});
  CHECK(lg[1].steps != lg[3].steps);
  CHECK(lg[0].steps == 500);
  // The same without records and with sparse ones: the failing steps fall inside the inner loop.
  for (std::int64_t ri : {0, 50}) {
    auto lr =
        check_points("builtin://map/logistic", "map",
                     {{{0.2}, {3.5}}, {{0.3}, {4.5}}, {{0.4}, {3.9}}, {{0.3}, {6.0}}}, spec_for(3000, ri));
    CHECK(statuses(lr) == std::vector<int>{kDone, kNan, kDone, kNan});
  }
  // x' = p*x^2 blows up at t = 1/(p*x0): lanes 0 and 2 fail at different steps, 1 and 3 run to the end.
  const char* blowup =
      "inline:\n[model]\ntype = \"ode\"\nname = \"blowup\"\n[states]\nx = 1.0\n[params]\np = 1.0\n"
      "[sim]\ndt = 0.01\n[equations.rhs]\nx = \"p*x*x\"\n";
  for (const char* st : {"euler", "rk2", "rk4"}) {
    auto bu =
        check_points(blowup, st, {{{}, {1.0}}, {{}, {-1.0}}, {{}, {0.5}}, {{0.5}, {0.1}}}, spec_for(400, 2));
    CHECK(statuses(bu) == std::vector<int>{kNan, kDone, kNan, kDone});
    CHECK(bu[0].steps < bu[2].steps);
    auto sparse = check_points(blowup, st, {{{}, {1.0}}, {{}, {-1.0}}, {{}, {0.5}}, {{0.5}, {0.1}}},
                               spec_for(400, 0, 1.00037));
    CHECK(statuses(sparse) == std::vector<int>{kNan, kDone, kNan, kDone});
  }
  // A non-finite initial state or parameter: that lane stops before its first step.
  auto hn =
      check_points("builtin://map/henon", "map",
                   {{{}, {1.4, 0.3}}, {{}, {1.4, NAN}}, {{NAN, 0.0}, {1.2, 0.3}}, {{}, {}}}, spec_for(100));
  CHECK(statuses(hn) == std::vector<int>{kDone, kNan, kNan, kDone});
  CHECK(hn[1].steps == 0);
}

TEST_CASE("lanes: partial last packs (5 and 7 points)", "[jit][lanes]") {
  std::vector<Point> pts;
  for (int q = 0; q < 7; ++q) pts.push_back({{0.1 + 0.05 * q}, {3.4 + 0.08 * q}});
  check_points("builtin://map/logistic", "map", std::vector<Point>(pts.begin(), pts.begin() + 5),
               spec_for(200));
  check_points("builtin://map/logistic", "map", pts, spec_for(200, 4));
  std::vector<Point> lz;
  for (int q = 0; q < 5; ++q) lz.push_back({{}, {10.0, 20.0 + 3.0 * q, 8.0 / 3.0}});
  check_points("builtin://ode/lorenz", "rk4", lz, spec_for(300, 5));
}

TEST_CASE("lanes: a stop condition ends its lane only", "[jit][lanes]") {
  const char* model =
      "inline:\n[model]\ntype = \"map\"\nname = \"counter\"\n[states]\nx = 0.0\n[params]\nc = 1.0\n"
      "[sim]\nstop = \"x > 10\"\n[equations.rhs]\nx = \"x + c\"\n";
  auto c = check_points(model, "map", {{{}, {1.0}}, {{}, {0.5}}, {{}, {0.01}}, {{}, {3.0}}}, spec_for(100));
  CHECK(statuses(c) == std::vector<int>{kEarly, kEarly, kDone, kEarly});
  CHECK(c[0].steps == 11);
}

TEST_CASE("lanes: models and steppers that run scalar have no lane runner", "[jit][lanes]") {
  auto lorenz = dynlib::load_model("builtin://ode/lorenz");
  auto jt = dynlib::core::jit_compile(lorenz, dynlib::kernels::get_stepper("rk45"), lorenz->dtype);
  CHECK(jt->lane_runner() == nullptr);
  std::string why;
  CHECK_FALSE(dynlib::kernels::lanes_supported(*lorenz, dynlib::kernels::get_stepper("ab2"), &why));
  CHECK(why == "the stepper is not one of map, euler, rk2, rk4");
  CHECK(dynlib::kernels::lanes_supported(*lorenz, dynlib::kernels::get_stepper("rk4")));
  // The lane runner is its own unit with its own cache key (runner variant LANES4).
  auto rk4 = dynlib::core::jit_compile(lorenz, dynlib::kernels::get_stepper("rk4"), lorenz->dtype);
  REQUIRE(rk4->lane_runner());
  const auto recs = rk4->cache_records();
  REQUIRE(recs.size() == 2);
  CHECK(recs[0].variant == "BASE");
  CHECK(recs[1].variant == "LANES4");
  CHECK(recs[1].digest != recs[0].digest);
}

namespace {

// The batch with lanes (automatic and forced) against the batch without, every field bit for bit.
void check_batch(const char* uri, const char* stepper, const std::vector<dynlib::BatchItem>& items,
                 dynlib::BatchOptions o) {
  INFO(uri << " " << stepper);
  dynlib::BuildOptions bo;
  bo.jit = true;
  bo.stepper = stepper;
  auto fm = dynlib::build(uri, bo);
  fm->wait_optimized();
  o.threads = 2;
  o.lanes = 1;
  const auto ref = dynlib::run_batch(fm, items, o);
  for (unsigned lanes : {0u, 4u}) {
    o.lanes = lanes;
    const auto got = dynlib::run_batch(fm, items, o);
    REQUIRE(got.runs.size() == ref.runs.size());
    CHECK(got.record_names == ref.record_names);
    for (std::size_t q = 0; q < ref.runs.size(); ++q) {
      INFO("lanes " << lanes << ", point " << q);
      const auto &a = ref.runs[q], &b = got.runs[q];
      CHECK(a.status == b.status);
      CHECK(a.error == b.error);
      CHECK(same_double(a.t_final, b.t_final));
      CHECK(a.steps == b.steps);
      CHECK(same_bits(a.final_state, b.final_state));
      CHECK(same_bits(a.params, b.params));
      CHECK(same_bits(a.t, b.t));
      REQUIRE(a.series.size() == b.series.size());
      for (std::size_t k = 0; k < a.series.size(); ++k) CHECK(same_bits(a.series[k], b.series[k]));
      CHECK(a.event_counts == b.event_counts);
    }
  }
}

}  // namespace

TEST_CASE("lanes: run_batch gives the same BatchRuns with and without lanes", "[jit][lanes][batch]") {
  std::vector<dynlib::BatchItem> logistic;
  for (double r : {2.9, 3.5, 4.5, 3.83, 3.99, 6.0, 3.2})  // two escape to -inf (NaN guard), 7 points
    logistic.push_back({{{"x", 0.3}}, {{"r", r}}});
  dynlib::BatchOptions o;
  o.N = 300;
  o.record = true;
  o.record_interval = 3;
  check_batch("builtin://map/logistic", "map", logistic, o);
  o.record = false;
  o.record_last = 5;
  check_batch("builtin://map/logistic", "map", logistic, o);

  std::vector<dynlib::BatchItem> lorenz;
  for (double rho : {10.0, 28.0, 99.96, 160.0, 24.5}) lorenz.push_back({{}, {{"rho", rho}}});
  dynlib::BatchOptions ol;
  ol.T = 3.0037;  // a partial last step
  ol.dt = 0.01;
  ol.record = true;
  ol.record_vars = std::vector<std::string>{"z", "x"};
  check_batch("builtin://ode/lorenz", "rk4", lorenz, ol);
  ol.record = false;
  ol.record_vars.reset();
  check_batch("builtin://ode/duffing", "rk2", {{{}, {{"gamma", 0.3}}}, {{}, {{"gamma", 0.5}}}}, ol);
}
