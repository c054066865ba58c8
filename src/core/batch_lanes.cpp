// Batch points in SIMD lanes (docs/internals/simd-lanes.md): up to kLanes points of a batch run together
// through the lane runner (CompiledModel::lane_runner), each lane with the bits of its scalar run.
//
// So that a point's BatchRun is exactly what Sim gives it (planning, seeding, records, final state,
// statuses, error messages, warnings), every point still goes through Sim::run, with a CompiledModel
// whose run() is replaced:
//   1. capture: Sim::run of each point hands its RunnerArgs to the hook, which keeps the inputs (state,
//      params, horizon, clock, recording) and ends the run (USER_BREAK, nothing recorded);
//   2. the lanes run the points together;
//   3. replay: Sim::run of each point again, the hook writing the lane's outputs (records, cursors,
//      state, NaN report) into RunnerArgs as the scalar runner would have left them.
// A pack whose points do not share the horizon, clock and recording (or want what the lane runner
// does not do: a transient, observers, save_at, tstops, aux records) runs scalar, point by point.
#include <algorithm>
#include <cstring>
#include <dynlib/batch.hpp>
#include <dynlib/errors.hpp>
#include <dynlib/sim.hpp>
#include <functional>

#include "core/batch_internal.hpp"
#include "kernels/compiled_model.hpp"
#include "kernels/lane_abi.hpp"

namespace dynlib::core {
namespace {

using kernels::kLanes;
using kernels::RunnerArgs;

// A CompiledModel that forwards everything to `inner` but run(), which calls `hook`.
class RunHookModel final : public kernels::CompiledModel {
 public:
  using Hook = std::function<void(RunnerArgs&)>;
  explicit RunHookModel(const kernels::CompiledModel& inner) : inner_(inner) {}
  void set_hook(Hook h) { hook_ = std::move(h); }

  const ir::ModelIR& model() const override { return inner_.model(); }
  const kernels::StepperInfo& stepper() const override { return inner_.stepper(); }
  const kernels::Layout& layout() const override { return inner_.layout(); }
  void run(RunnerArgs& args) const override { hook_(args); }
  void rhs(double t, const double* y, double* dy, const double* p, const double* ring,
           const std::int64_t* head) const override {
    inner_.rhs(t, y, dy, p, ring, head);
  }
  bool inverse(double t, const double* y, double* out, const double* p, const double* ring,
               const std::int64_t* head) const override {
    return inner_.inverse(t, y, out, p, ring, head);
  }
  bool jacobian(double t, const double* y, double* J, const double* p, const double* ring,
                const std::int64_t* head) const override {
    return inner_.jacobian(t, y, J, p, ring, head);
  }
  void update_aux(double t, const double* y, const double* p, double* aux, const double* ring,
                  const std::int64_t* head) const override {
    inner_.update_aux(t, y, p, aux, ring, head);
  }
  bool is_jitted(std::string_view c) const override { return inner_.is_jitted(c); }

 private:
  const kernels::CompiledModel& inner_;
  Hook hook_;
};

// What a point's Sim::run handed to the runner.
struct Captured {
  bool ok = false;
  double t_end = 0, t_base = 0, dt_nominal = 0, t = 0;
  std::int64_t step_end = 0, record_interval = 0, step_base = 0, step = 0, cap_rec = 0;
  std::int32_t resume_point = 0;
  std::int64_t n_rec_aux = 0, n_save_at = 0, n_tstops = 0;
  std::vector<std::int64_t> rec_states;
  std::vector<double> y, y_prev, params, config;
};

Captured capture(const RunnerArgs& a, std::int64_t n_state, std::int64_t n_params) {
  Captured c;
  c.ok = true;
  c.t_end = a.t_end, c.t_base = a.t_base, c.dt_nominal = a.dt_nominal, c.t = a.t;
  c.step_end = a.step_end, c.record_interval = a.record_interval, c.step_base = a.step_base, c.step = a.step;
  c.cap_rec = a.cap_rec;
  c.resume_point = a.resume_point;
  c.n_rec_aux = a.n_rec_aux, c.n_save_at = a.n_save_at, c.n_tstops = a.n_tstops;
  c.rec_states.assign(a.state_rec_idx, a.state_rec_idx + a.n_rec_states);
  c.y.assign(a.y_curr, a.y_curr + n_state);
  c.y_prev.assign(a.y_prev, a.y_prev + n_state);
  c.params.assign(a.params, a.params + n_params);
  c.config.assign(a.stepper_config, a.stepper_config + a.n_config);
  return c;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

// The lane runner can take this point: a fresh start, no aux records, save_at or tstops.
bool fits_lanes(const Captured& c) {
  return c.ok && c.resume_point == kernels::kResumeStart && c.step == 0 && c.step_base == 0 &&
         same_bits(c.t, c.t_base) && c.n_rec_aux == 0 && c.n_save_at == 0 && c.n_tstops == 0;
}
// ... together with `first` (the lanes share the horizon, clock, recording and stepper settings).
bool shares_pack(const Captured& c, const Captured& first) {
  return same_bits(c.t_end, first.t_end) && same_bits(c.t_base, first.t_base) &&
         same_bits(c.dt_nominal, first.dt_nominal) && c.step_end == first.step_end &&
         c.record_interval == first.record_interval && c.cap_rec == first.cap_rec &&
         c.rec_states == first.rec_states && same_bits(c.config, first.config);
}

// The pack's lane outputs.
struct PackOut {
  kernels::LaneRunnerArgs a;
  std::vector<double> y, y_prev, T, Y;
  std::vector<std::int64_t> STEP;
};

}  // namespace

std::shared_ptr<const kernels::LaneRunner> batch_lane_runner(const FullModelPtr& fm, const BatchOptions& o) {
  if (o.lanes != 0 && o.lanes != 1 && o.lanes != static_cast<unsigned>(kLanes))
    throw ArgumentError("lanes must be 0 (automatic), 1 (no SIMD lanes) or " + std::to_string(kLanes) +
                        " (got " + std::to_string(o.lanes) + ")");
  if (o.lanes == 1 || o.transient > 0 || !o.observers.empty() || o.save_at || o.tstops) return nullptr;
  if (o.lanes == 0) {  // automatic: only where a vector of kLanes doubles is one register
#if defined(__x86_64__) || defined(__i386__)
    if (!__builtin_cpu_supports("avx2")) return nullptr;
#else
    return nullptr;
#endif
  }
  const auto& cm = fm->compiled();
  if (!kernels::lanes_supported(cm.model(), cm.stepper())) return nullptr;
  return cm.lane_runner();  // compiles it on first use; null for the interpreter
}

void run_pack(const FullModelPtr& fm, const kernels::LaneRunner& lr, const BatchOptions& o,
              const std::vector<BatchItem>& items, std::size_t first, std::size_t last,
              std::optional<std::int64_t> cap_rec, std::vector<BatchRun>& runs) {
  const auto& L = fm->compiled().layout();
  const std::size_t count = last - first;
  const auto n = static_cast<std::size_t>(L.n_state), np = static_cast<std::size_t>(L.n_params);
  auto hook = std::make_shared<RunHookModel>(fm->compiled());
  auto hooked = std::make_shared<const FullModel>(fm->model_ptr(), fm->stepper_name(), fm->stepper(),
                                                  fm->dtype(), fm->options(), hook);
  auto scalar = [&] {
    for (std::size_t q = first; q < last; ++q) run_point(fm, o, items[q], cap_rec, runs[q]);
  };

  // 1. capture
  std::vector<Captured> caps(count);
  for (std::size_t j = 0; j < count; ++j) {
    hook->set_hook([&](RunnerArgs& a) {
      caps[j] = capture(a, L.n_state, L.n_params);
      a.status = static_cast<std::int32_t>(Status::USER_BREAK);
    });
    BatchRun probe;
    run_point(hooked, o, items[first + j], cap_rec, probe);
    if (!fits_lanes(caps[j]) || !shares_pack(caps[j], caps[0])) return scalar();
  }

  // 2. the lanes (a missing lane is a copy of lane 0; its results are dropped)
  const Captured& c0 = caps[0];
  PackOut p;
  auto& a = p.a;
  const std::int64_t cap = std::max<std::int64_t>(1, c0.cap_rec);
  const std::size_t nrs = c0.rec_states.size();
  p.y.assign(std::max<std::size_t>(n, 1) * kLanes, 0.0);
  p.y_prev = p.y;
  std::vector<double> params(std::max<std::size_t>(np, 1) * kLanes, 0.0),
      ws(static_cast<std::size_t>(std::max<std::int64_t>(L.ws_size, 1)) * kLanes, 0.0), y_prop(p.y.size());
  for (std::size_t j = 0; j < kLanes; ++j) {
    const Captured& c = caps[j < count ? j : 0];
    for (std::size_t k = 0; k < n; ++k) {
      p.y[k * kLanes + j] = c.y[k];
      p.y_prev[k * kLanes + j] = c.y_prev[k];
    }
    for (std::size_t k = 0; k < np; ++k) params[k * kLanes + j] = c.params[k];
  }
  p.T.assign(static_cast<std::size_t>(cap), 0.0);
  p.STEP.assign(static_cast<std::size_t>(cap), 0);
  p.Y.assign(nrs * static_cast<std::size_t>(cap) * kLanes, 0.0);
  a.t_end = c0.t_end;
  a.step_end = c0.step_end;
  a.record_interval = c0.record_interval;
  a.t_base = c0.t_base;
  a.step_base = c0.step_base;
  a.dt_nominal = c0.dt_nominal;
  a.y_curr = p.y.data();
  a.y_prev = p.y_prev.data();
  a.params = params.data();
  a.ws = ws.data();
  a.y_prop = y_prop.data();
  a.stepper_config = c0.config.data();
  a.n_config = static_cast<std::int64_t>(c0.config.size());
  a.T = p.T.data();
  a.STEP = p.STEP.data();
  a.Y = p.Y.data();
  a.cap_rec = cap;
  a.state_rec_idx = c0.rec_states.data();
  a.n_rec_states = static_cast<std::int64_t>(nrs);
  lr.run(a);

  // 3. replay: each point's Sim::run receives its lane's outputs
  for (std::size_t j = 0; j < count; ++j) {
    const auto st = static_cast<Status>(a.status[j]);
    if (st == Status::GROW_REC) {  // more records than the plan's capacity: this point runs scalar
      run_point(fm, o, items[first + j], cap_rec, runs[first + j]);
      continue;
    }
    hook->set_hook([&](RunnerArgs& r) {
      const std::int64_t n_rec = a.n_rec[j];
      if (r.cap_rec < n_rec) {  // as the scalar runner: ask for room, then write everything
        r.status = static_cast<std::int32_t>(Status::GROW_REC);
        r.need_rec = n_rec;
        return;
      }
      for (std::int64_t i = 0; i < n_rec; ++i) {
        r.T[i] = p.T[static_cast<std::size_t>(i)];
        r.STEP[i] = p.STEP[static_cast<std::size_t>(i)];
        for (std::size_t k = 0; k < nrs; ++k)
          r.Y[static_cast<std::int64_t>(k) * r.cap_rec + i] =
              p.Y[(k * static_cast<std::size_t>(cap) + static_cast<std::size_t>(i)) * kLanes + j];
      }
      for (std::size_t k = 0; k < n; ++k) {
        r.y_curr[k] = p.y[k * kLanes + j];
        r.y_prev[k] = p.y_prev[k * kLanes + j];
      }
      r.i = n_rec;
      r.step = a.step[j];
      r.t = a.t[j];
      r.status = static_cast<std::int32_t>(a.status[j]);
      if (a.step[j] > 0) r.dt = r.dt_nominal;
      const auto where = static_cast<kernels::NanWhere>(a.nan_where[j]);
      const bool at_start = st == Status::NAN_DETECTED &&
                            (where == kernels::NanWhere::initial_state || where == kernels::NanWhere::param);
      if (st == Status::NAN_DETECTED) {
        r.nan_where = static_cast<std::int32_t>(a.nan_where[j]);
        r.nan_index = a.nan_index[j];
        r.nan_event = -1;
        r.t_fail = a.t_fail[j];
      }
      r.resume_point = at_start ? kernels::kResumeStart : kernels::kResumeLoop;
      // The scalar runner leaves the aux of the last committed state (session state, not recorded here).
      if (L.n_aux > 0 && !at_start) fm->compiled().update_aux(r.t, r.y_curr, r.params, r.aux_values);
    });
    run_point(hooked, o, items[first + j], cap_rec, runs[first + j]);
  }
}

}  // namespace dynlib::core
