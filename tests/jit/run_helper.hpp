// A minimal host for CompiledModel::run() (the re-entry protocol of runner_abi.hpp), used to run the
// interpreter and the JIT with exactly the same inputs and compare every output bit for bit.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/compiled_model.hpp"
#include "kernels/dense_output.hpp"

namespace dynlib::test {

struct RunOut {
  std::int32_t status = 0;
  std::int64_t n_rec = 0, n_evt = 0, steps = 0;
  double t = 0, dt = 0, err_est = 0, t_fail = 0;
  std::int32_t nan_where = 0;
  std::int64_t nan_index = -1;
  std::vector<double> T, Y, AUX, EVT_LOG, EVT_T, y_final, y_prev, params, aux_values, ws;
  std::vector<std::int64_t> STEP, EVT_CODE, EVT_INDEX, EVT_STEP, iws, lag_head, event_counts;
  std::vector<double> lag_ring;
  std::vector<double> an_ws, an_out, an_trace;
  std::int64_t trace_count = 0;
  int reentries = 0;
};

struct RunSpec {
  std::int64_t n_steps = 400;  // fixed/map: horizon = t0 + n_steps*dt; adaptive: t_end = t0 + n_steps*dt
  std::int64_t max_steps = 20000;
  std::int64_t record_interval = 1;
  std::int64_t cap_rec = 7;  // small on purpose: exercises GROW_REC re-entry
  std::int64_t cap_evt = 1;
  double t_span_scale = 1.0;
  std::vector<double> save_at, tstops;  // ODE: output at chosen times, adaptive steps landing on tstops
  std::vector<double> ic, params;       // empty: the model's
};

// With `ar`, runs the ANALYSIS runner variant (observers) instead of the BASE runner.
inline RunOut run_model(const kernels::CompiledModel& cm, const RunSpec& spec = {},
                        const kernels::AnalysisRunner* ar = nullptr) {
  const auto& m = cm.model();
  const auto& s = cm.stepper();
  const auto& L = cm.layout();
  const auto n = static_cast<std::size_t>(L.n_state);
  const std::vector<double>& ic = spec.ic.empty() ? m.state_ic : spec.ic;
  std::vector<double> y(ic), yprev(ic), p(spec.params.empty() ? m.param_vals : spec.params),
      aux(std::max<std::int64_t>(L.n_aux, 1)), ring(std::max<std::int64_t>(L.lag_ring_size, 1)),
      ws(std::max<std::int64_t>(L.ws_size, 1)), yprop(std::max<std::size_t>(n, 1)),
      scratch(std::max<std::int64_t>(L.scratch_size, 1));
  std::vector<std::int64_t> head(std::max<std::int64_t>(L.n_lags, 1)),
      iws(std::max<std::int64_t>(L.iws_size, 1)), event_counts(std::max<std::int64_t>(L.n_events, 1));
  cm.seed_lags(y.data(), ring.data(), head.data());
  auto cfg = cm.default_config();
  const double dt = m.sim.dt > 0 ? m.sim.dt : 0.01;
  const double t0 = m.sim.t0;
  std::vector<std::int64_t> srec(n), arec(static_cast<std::size_t>(L.n_aux));
  for (std::size_t k = 0; k < n; ++k) srec[k] = static_cast<std::int64_t>(k);
  for (std::size_t k = 0; k < arec.size(); ++k) arec[k] = static_cast<std::int64_t>(k);

  std::int64_t cap_rec = spec.cap_rec, cap_evt = std::max(spec.cap_evt, L.min_cap_evt);
  std::vector<double> T(cap_rec), Y(n * cap_rec), AUX(arec.size() * cap_rec), EL(cap_evt * L.log_width),
      ET(cap_evt);
  std::vector<std::int64_t> STEP(cap_rec), EC(cap_evt), EI(cap_evt), ES(cap_evt);

  kernels::RunnerArgs a;
  const bool is_map = m.kind == ir::Kind::map;
  a.t_end = t0 + static_cast<double>(spec.n_steps) * dt * spec.t_span_scale;
  a.step_end = is_map ? spec.n_steps : spec.max_steps;
  a.record_interval = spec.record_interval;
  a.n_state = L.n_state;
  a.t_base = t0;
  a.step_base = 0;
  a.dt_nominal = dt;
  a.y_curr = y.data();
  a.y_prev = yprev.data();
  a.params = p.data();
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
  a.state_rec_idx = srec.data();
  a.n_rec_states = static_cast<std::int64_t>(n);
  a.aux_rec_idx = arec.data();
  a.n_rec_aux = static_cast<std::int64_t>(arec.size());
  std::vector<double> dense_ws(
      static_cast<std::size_t>(std::max<std::int64_t>(1, kernels::dense_ws_size(s, L.n_state))));
  a.dense_ws = dense_ws.data();
  a.save_at = spec.save_at.data();
  a.n_save_at = static_cast<std::int64_t>(spec.save_at.size());
  a.tstops = spec.tstops.data();
  a.n_tstops = static_cast<std::int64_t>(spec.tstops.size());
  if (!spec.save_at.empty()) a.record_interval = 0;
  a.t = t0;
  a.dt = dt;
  if (s.adaptive)
    a.dt = cm.initial_step(t0, a.t_end, y.data(), p.data(), cfg.data(), a.n_config, dt, ring.data(),
                           head.data());
  std::vector<double> an_ws, an_out, an_trace;
  if (ar != nullptr) {
    const auto& AL = ar->layout();
    an_ws.assign(static_cast<std::size_t>(std::max<std::int64_t>(AL.ws_size, 1)), 0.0);
    an_out.assign(static_cast<std::size_t>(std::max<std::int64_t>(AL.out_size, 1)), 0.0);
    const std::int64_t cap = kernels::trace_capacity(spec.n_steps, AL.spec.trace_stride);
    an_trace.assign(static_cast<std::size_t>(std::max<std::int64_t>(cap * AL.trace_width, 1)), 0.0);
    a.analysis_ws = an_ws.data();
    a.analysis_out = an_out.data();
    a.analysis_trace = an_trace.data();
    a.trace_cap = cap;
    a.trace_stride = AL.spec.trace_stride;
    a.trace_count = 0;
  }
  RunOut out;
  auto bind = [&] {
    a.T = T.data();
    a.Y = Y.data();
    a.AUX = AUX.data();
    a.STEP = STEP.data();
    a.cap_rec = cap_rec;
    a.EVT_CODE = EC.data();
    a.EVT_INDEX = EI.data();
    a.EVT_LOG_DATA = EL.data();
    a.EVT_T = ET.data();
    a.EVT_STEP = ES.data();
    a.cap_evt = cap_evt;
  };
  bind();
  for (int guard = 0; guard < 10000; ++guard) {
    if (ar != nullptr)
      ar->run(a);
    else
      cm.run(a);
    const auto st = static_cast<Status>(a.status);
    if (st == Status::GROW_REC) {
      std::int64_t nc = std::max(a.need_rec, cap_rec * 2);
      std::vector<double> T2(nc), Y2(n * nc), AUX2(arec.size() * nc);
      std::vector<std::int64_t> S2(nc);
      std::copy(T.begin(), T.end(), T2.begin());
      std::copy(STEP.begin(), STEP.end(), S2.begin());
      for (std::size_t k = 0; k < n; ++k)
        std::copy(Y.begin() + k * cap_rec, Y.begin() + (k + 1) * cap_rec, Y2.begin() + k * nc);
      for (std::size_t k = 0; k < arec.size(); ++k)
        std::copy(AUX.begin() + k * cap_rec, AUX.begin() + (k + 1) * cap_rec, AUX2.begin() + k * nc);
      T.swap(T2), Y.swap(Y2), AUX.swap(AUX2), STEP.swap(S2);
      cap_rec = nc;
      bind();
      ++out.reentries;
      continue;
    }
    if (st == Status::GROW_EVT) {
      std::int64_t nc = std::max(a.need_evt, cap_evt * 2);
      EC.resize(nc), EI.resize(nc), EL.resize(nc * L.log_width), ET.resize(nc), ES.resize(nc);
      cap_evt = nc;
      bind();
      ++out.reentries;
      continue;
    }
    break;
  }
  out.status = a.status;
  out.n_rec = a.i;
  out.n_evt = a.m;
  out.steps = a.step;
  out.t = a.t;
  out.dt = a.dt;
  out.err_est = a.err_est;
  out.t_fail = a.t_fail;
  out.nan_where = a.nan_where;
  out.nan_index = a.nan_index;
  out.T.assign(T.begin(), T.begin() + a.i);
  out.STEP.assign(STEP.begin(), STEP.begin() + a.i);
  for (std::size_t k = 0; k < n; ++k)
    out.Y.insert(out.Y.end(), Y.begin() + k * cap_rec, Y.begin() + k * cap_rec + a.i);
  for (std::size_t k = 0; k < arec.size(); ++k)
    out.AUX.insert(out.AUX.end(), AUX.begin() + k * cap_rec, AUX.begin() + k * cap_rec + a.i);
  out.EVT_CODE.assign(EC.begin(), EC.begin() + a.m);
  out.EVT_INDEX.assign(EI.begin(), EI.begin() + a.m);
  out.EVT_LOG.assign(EL.begin(), EL.begin() + a.m * L.log_width);
  out.EVT_T.assign(ET.begin(), ET.begin() + a.m);
  out.EVT_STEP.assign(ES.begin(), ES.begin() + a.m);
  out.y_final = y;
  out.y_prev = yprev;
  out.params = p;
  out.aux_values = aux;
  out.ws = ws;
  out.iws = iws;
  out.event_counts = event_counts;
  out.lag_ring = ring;
  out.lag_head = head;
  out.an_ws = an_ws;
  out.an_out = an_out;
  out.an_trace = an_trace;
  out.trace_count = a.trace_count;
  return out;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

}  // namespace dynlib::test
