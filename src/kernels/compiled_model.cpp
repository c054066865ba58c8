#include "kernels/compiled_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/root_events.hpp"
#include "kernels/stepper_bdf.hpp"
#include "kernels/stepper_radau5.hpp"

namespace dynlib::kernels {

Layout compute_layout(const ir::ModelIR& m, const StepperInfo& s) {
  Layout L;
  L.n_state = static_cast<std::int64_t>(m.n_states());
  L.n_params = static_cast<std::int64_t>(m.n_params());
  L.n_aux = static_cast<std::int64_t>(m.n_aux());
  L.lag_ring_size = m.lag_ring_size;
  L.n_lags = static_cast<std::int64_t>(m.lags.size());
  L.n_events = static_cast<std::int64_t>(m.events.size());
  // bdf and radau5 on a sparse system: the matrices take the size of their patterns, not n^2 each
  L.ws_size = s.id == StepperId::bdf      ? StepBDF::ws_size_for(m)
              : s.id == StepperId::radau5 ? StepRadau5::ws_size_for(m)
              : s.ws_size                 ? s.ws_size(L.n_state)
                                          : 0;
  L.iws_size = s.iws_size ? s.iws_size(L.n_state) : 0;
  L.scratch_size = 1 + root_scratch_size(m);
  std::int64_t w = 1, per = 0;
  for (const auto& e : m.events) {
    w = std::max<std::int64_t>(w, static_cast<std::int64_t>(e.log.size()));
    if (e.log.empty()) continue;
    if (e.phase == ir::Phase::both)
      per += 2;
    else
      per += 1;
  }
  L.log_width = w;
  L.max_events_per_step = per;
  L.min_cap_evt = std::max<std::int64_t>(1, per);
  return L;
}

void CompiledModel::seed_lags(const double* y0, double* lag_ring, std::int64_t* lag_head) const {
  const auto& m = model();
  for (std::size_t k = 0; k < m.lags.size(); ++k) {
    const auto& L = m.lags[k];
    for (std::int32_t j = 0; j < L.depth; ++j) lag_ring[L.offset + j] = y0[L.state];
    lag_head[k] = L.depth - 1;
  }
}

double CompiledModel::initial_step(double t0, double t_end, const double* y0, const double* params,
                                   const double* config, std::int64_t n_config, double max_dt,
                                   const double* lag_ring, const std::int64_t* lag_head) const {
  const auto& s = stepper();
  const int ia = s.config_index("atol"), ir_ = s.config_index("rtol"), idm = s.config_index("dt_max");
  const double span = std::fabs(t_end - t0);
  if (ia < 0 || ir_ < 0 || ia >= n_config || ir_ >= n_config) return span > 0 ? span * 1e-3 : 1e-6;
  const double atol = config[ia], rtol = config[ir_];
  if (idm >= 0 && idm < n_config && std::isfinite(config[idm])) max_dt = config[idm];
  if (!(max_dt > 0)) max_dt = std::numeric_limits<double>::infinity();
  const std::size_t n = model().n_states();
  const double min_dt = 1e-16, safety = 0.01;
  auto wrms = [&](const double* v, const double* y) {
    double acc = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double q = v[i] / (atol + rtol * std::fabs(y[i]));
      acc += q * q;
    }
    return n ? std::sqrt(acc / static_cast<double>(n)) : 0.0;
  };
  std::vector<double> f0(n), f1(n), y1(n), d(n);
  rhs(t0, y0, f0.data(), params, lag_ring, lag_head);
  const double d0 = wrms(y0, y0), d1 = wrms(f0.data(), y0);
  double h0 = (d0 < 1e-5 || d1 < 1e-5) ? std::min(1e-6, span) : 0.01 * d0 / d1;
  for (std::size_t i = 0; i < n; ++i) y1[i] = y0[i] + h0 * f0[i];
  rhs(t0 + h0, y1.data(), f1.data(), params, lag_ring, lag_head);
  for (std::size_t i = 0; i < n; ++i) d[i] = f1[i] - f0[i];
  const double d2 = wrms(d.data(), y0) / std::max(h0, min_dt);
  double h = safety * std::pow(1.0 / std::max({d1, d2, 1e-15}), 1.0 / (s.order + 1));
  h = std::min(h, max_dt);
  h = std::min(h, span);
  h = std::max(h, min_dt);
  return h;
}

}  // namespace dynlib::kernels
