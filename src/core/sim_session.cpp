// Sim: construction, session access, assign, presets, config, in-memory snapshots.
#include <algorithm>
#include <cmath>
#include <dynlib/errors.hpp>
#include <dynlib/sim.hpp>
#include <string>

#include "core/sim_impl.hpp"
#include "kernels/steppers.hpp"
#include "steppers_catalogue/stepper_settings.hpp"

namespace dynlib {

namespace {
// States or params assigned between runs: a stepper that keeps a history (multistep, BDF) or reuses its
// last stage (tsit5, dop853) restarts from the new values on resume, as after an event action.
void restart_stepper_history(Session& s, kernels::StepperId id) {
  if (s.iws.empty()) return;
  kernels::with_stepper(id, [&](auto st) {
    if constexpr (kernels::has_history<decltype(st)>()) s.iws[0] = 0;
  });
}
}  // namespace

// ---- helpers -------------------------------------------------------------------------------------
int index_of(const std::vector<std::string>& v, std::string_view name) {
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i] == name) return static_cast<int>(i);
  return -1;
}

// ---- Impl ---------------------------------------------------------------------------------------
Session Sim::Impl::fresh_session() const {
  const auto& model = m();
  const auto& L = cm->layout();
  Session s;
  s.t = model.sim.t0;
  s.y = model.state_ic;
  s.y_prev = model.state_ic;
  s.params = model.param_vals;
  s.dt = model.sim.dt;
  s.nominal_dt = cfg.dt ? *cfg.dt : model.sim.dt;
  s.lag_ring.assign(static_cast<std::size_t>(L.lag_ring_size), 0.0);
  s.lag_head.assign(static_cast<std::size_t>(L.n_lags), 0);
  s.aux.assign(static_cast<std::size_t>(L.n_aux), 0.0);
  s.ws.assign(static_cast<std::size_t>(L.ws_size), 0.0);
  s.iws.assign(static_cast<std::size_t>(L.iws_size), 0);
  s.event_counts.assign(static_cast<std::size_t>(L.n_events), 0);
  s.stepper_config = cm->default_config();
  s.t_base = s.t;
  s.clock_dt = s.nominal_dt;
  return s;
}

std::vector<double> Sim::Impl::build_stepper_config(const StepperSettings& kw) const {
  const auto& info = cm->stepper();
  std::vector<double> c = cm->default_config();  // from the model default, not the previous config
  std::vector<std::string> valid;
  for (const auto& f : info.config) valid.push_back(f.name);
  for (const auto& [name, setting] : kw) {
    int i = info.config_index(name);
    if (i < 0) {
      if (valid.empty())
        throw ArgumentError("Stepper '" + info.name + "' takes no settings; got '" + name + "'");
      throw ArgumentError("Unknown stepper setting '" + name + "' for stepper '" + info.name + "'" +
                          util::did_you_mean(name, valid) + ". Valid settings: " + join_names(valid));
    }
    const auto& f = info.config[static_cast<std::size_t>(i)];
    double value = setting.number;
    if (setting.is_name()) {
      const auto code = kernels::setting_code(f, setting.name);
      if (!code) {
        std::vector<std::string> names;
        for (const auto& ev : f.enum_values) names.push_back(ev.first);
        throw ArgumentError(
            "Invalid stepper setting " + name + "='" + setting.name + "'" +
            util::did_you_mean(setting.name, names) + ": " +
            (names.empty() ? "must be a number" : "must be one of " + kernels::setting_value_names(f)));
      }
      value = *code;
    }
    const std::string bad = kernels::setting_value_error(f, value);
    if (!bad.empty()) throw ArgumentError("Invalid stepper setting " + name + ": " + bad);
    c[static_cast<std::size_t>(i)] = value;
  }
  const int ia = info.config_index("atol"), ir = info.config_index("rtol");
  if (ia >= 0 && ir >= 0 && c[static_cast<std::size_t>(ia)] == 0.0 && c[static_cast<std::size_t>(ir)] == 0.0)
    throw ArgumentError(
        "Invalid stepper settings: atol and rtol cannot both be 0 (the error test needs a tolerance)");
  return c;
}

std::string Sim::Impl::pins_mismatch(const std::string& hash, const std::string& stepper,
                                     const std::string& dtype, std::size_t n_state,
                                     std::size_t n_params) const {
  std::string d;
  auto add = [&](const char* f, const std::string& mine, const std::string& theirs) {
    if (mine != theirs)
      d += std::string(d.empty() ? "" : ", ") + f + ": model=" + mine + " snapshot=" + theirs;
  };
  add("model_hash", m().hash.hex(), hash);
  add("stepper", fm->stepper(), stepper);
  add("dtype", fm->dtype_name(), dtype);
  add("n_state", std::to_string(m().n_states()), std::to_string(n_state));
  add("n_params", std::to_string(m().n_params()), std::to_string(n_params));
  return d;
}

// ---- Sim ----------------------------------------------------------------------------------------
Sim::Sim(FullModelPtr model) : impl_(std::make_unique<Impl>()) {
  if (!model) throw ArgumentError("Sim: null model");
  impl_->fm = std::move(model);
  impl_->cm = &impl_->fm->compiled();
  impl_->s = impl_->fresh_session();
}
Sim::Sim(Sim&&) noexcept = default;
Sim& Sim::operator=(Sim&&) noexcept = default;
Sim::~Sim() = default;

bool Sim::has_results() const noexcept { return impl_->results != nullptr; }
const Results& Sim::results() const {
  if (!impl_->results)
    throw ArgumentError("No simulation results available; call run() first (reset() clears history).");
  return *impl_->results;
}
std::shared_ptr<const Results> Sim::shared_results() const {
  if (!impl_->results)
    throw ArgumentError("No simulation results available; call run() first (reset() clears history).");
  return impl_->results;
}

void Sim::assign(const Assignments& values, bool clear_history) {
  const auto& m = impl_->m();
  std::vector<std::string> unknown;
  for (const auto& [k, v] : values)
    if (index_of(m.states, k) < 0 && index_of(m.params, k) < 0) unknown.push_back(k);
  if (!unknown.empty()) {
    std::vector<std::string> all = m.states;
    all.insert(all.end(), m.params.begin(), m.params.end());
    std::string msg = "Unknown state/param name(s): ";
    for (std::size_t i = 0; i < unknown.size(); ++i) {
      std::string s = suggest(unknown[i], all);
      msg += (i ? ", '" : "'") + unknown[i] + "'" + (s.empty() ? "" : " (did you mean '" + s + "'?)");
    }
    throw ArgumentError(msg + ". Valid states: " + join_names(m.states) +
                        ", params: " + join_names(m.params));
  }
  for (const auto& [k, v] : values) {
    int i = index_of(m.states, k);
    if (i >= 0)
      impl_->s.y[static_cast<std::size_t>(i)] = v;
    else
      impl_->s.params[static_cast<std::size_t>(index_of(m.params, k))] = v;
  }
  restart_stepper_history(impl_->s, impl_->cm->stepper().id);
  if (clear_history) impl_->results.reset();
}

std::vector<std::string> Sim::list_presets() const {
  std::vector<std::string> out;
  for (const auto& p : impl_->m().presets) out.push_back(p.name);
  for (const auto& p : impl_->extra_presets)
    if (std::find(out.begin(), out.end(), p.name) == out.end()) out.push_back(p.name);
  std::sort(out.begin(), out.end());
  return out;
}

void Sim::apply_preset(std::string_view name) {
  const ir::Preset* p = nullptr;
  for (const auto& q : impl_->extra_presets)
    if (q.name == name) p = &q;
  if (!p)
    for (const auto& q : impl_->m().presets)
      if (q.name == name) p = &q;
  if (!p) {
    auto names = list_presets();
    std::string s = suggest(name, names);
    throw ArgumentError("Unknown preset '" + std::string(name) + "'" +
                        (s.empty() ? "" : " (did you mean '" + s + "'?)") +
                        ". Available presets: " + join_names(names));
  }
  for (const auto& [i, v] : p->params) impl_->s.params[static_cast<std::size_t>(i)] = v;
  for (const auto& [i, v] : p->states) impl_->s.y[static_cast<std::size_t>(i)] = v;
  restart_stepper_history(impl_->s, impl_->cm->stepper().id);
}

void Sim::add_preset(std::string name, Assignments states, Assignments params, bool overwrite) {
  const auto& m = impl_->m();
  if (name.empty()) throw ArgumentError("Preset name must be non-empty");
  auto names = list_presets();
  if (!overwrite && std::find(names.begin(), names.end(), name) != names.end())
    throw ArgumentError("Preset '" + name + "' already exists (pass overwrite=true)");
  ir::Preset p;
  p.name = name;
  if (states.empty() && params.empty()) {
    for (std::size_t i = 0; i < m.n_states(); ++i)
      p.states.emplace_back(static_cast<std::int32_t>(i), impl_->s.y[i]);
    for (std::size_t i = 0; i < m.n_params(); ++i)
      p.params.emplace_back(static_cast<std::int32_t>(i), impl_->s.params[i]);
  }
  for (const auto& [k, v] : states) {
    int i = index_of(m.states, k);
    if (i < 0)
      throw ArgumentError("Unknown state '" + k + "' in preset. Valid states: " + join_names(m.states));
    p.states.emplace_back(i, v);
  }
  for (const auto& [k, v] : params) {
    int i = index_of(m.params, k);
    if (i < 0)
      throw ArgumentError("Unknown param '" + k + "' in preset. Valid params: " + join_names(m.params));
    p.params.emplace_back(i, v);
  }
  std::erase_if(impl_->extra_presets, [&](const ir::Preset& q) { return q.name == name; });
  impl_->extra_presets.push_back(std::move(p));
}

void Sim::config(const SimConfig& c) {
  auto& I = *impl_;
  if (c.dt && !(*c.dt > 0.0 && std::isfinite(*c.dt))) throw ArgumentError("dt must be positive");
  if (c.max_steps && *c.max_steps <= 0) throw ArgumentError("max_steps must be > 0");
  if (c.record_interval && *c.record_interval < 1) throw ArgumentError("record_interval must be >= 1");
  if ((c.cap_rec && *c.cap_rec <= 0) || (c.cap_evt && *c.cap_evt <= 0))
    throw ArgumentError("cap_rec and cap_evt must be > 0");
  std::vector<double> sc;
  if (!c.stepper.empty()) sc = I.build_stepper_config(c.stepper);
  if (c.dt) {
    I.cfg.dt = c.dt;
    I.s.nominal_dt = *c.dt;
    I.s.dt = *c.dt;
  }
  if (c.max_steps) I.cfg.max_steps = c.max_steps;
  if (c.record) I.cfg.record = c.record;
  if (c.record_interval) I.cfg.record_interval = c.record_interval;
  if (c.cap_rec) I.cfg.cap_rec = c.cap_rec;
  if (c.cap_evt) I.cfg.cap_evt = c.cap_evt;
  if (!c.stepper.empty()) {
    I.s.stepper_config = sc;
    auto it = I.snapshots.find("initial");
    if (it != I.snapshots.end()) it->second.session.stepper_config = sc;
  }
}

Assignments Sim::stepper_config() const {
  Assignments out;
  const auto& info = impl_->cm->stepper();
  for (std::size_t i = 0; i < info.config.size() && i < impl_->s.stepper_config.size(); ++i)
    out.emplace_back(info.config[i].name, impl_->s.stepper_config[i]);
  return out;
}

void Sim::create_snapshot(std::string name, std::string description) {
  if (name.empty()) throw ArgumentError("Snapshot name must be non-empty");
  if (impl_->snapshots.count(name)) throw ArgumentError("Snapshot '" + name + "' already exists");
  impl_->snapshots.emplace(std::move(name), StoredSnapshot{impl_->s, std::move(description)});
}

std::vector<SnapshotInfo> Sim::list_snapshots() const {
  std::vector<SnapshotInfo> out;
  for (const auto& [n, s] : impl_->snapshots) out.push_back({n, s.description, s.session.t, s.session.step});
  return out;
}

void Sim::reset(std::string_view name) {
  auto& I = *impl_;
  auto it = I.snapshots.find(name);
  if (it != I.snapshots.end()) {
    I.s = it->second.session;
  } else if (name == "initial") {
    I.s = I.fresh_session();
  } else {
    std::vector<std::string> names;
    for (const auto& kv : I.snapshots) names.push_back(kv.first);
    throw ArgumentError("Unknown snapshot '" + std::string(name) + "'. Snapshots: " + join_names(names));
  }
  I.results.reset();
  I.rec_states.clear();
  I.rec_aux.clear();
}

double Sim::t() const noexcept { return impl_->s.t; }
std::int64_t Sim::step_count() const noexcept { return impl_->s.step; }
double Sim::dt() const noexcept { return impl_->s.dt; }
Status Sim::status() const noexcept { return impl_->s.status; }
std::vector<double> Sim::state_vector() const { return impl_->s.y; }
std::vector<double> Sim::param_vector() const { return impl_->s.params; }

double Sim::state(std::string_view name) const {
  const auto& m = impl_->m();
  int i = index_of(m.states, name);
  if (i < 0) {
    std::string s = suggest(name, m.states);
    throw ArgumentError("Unknown state '" + std::string(name) + "'" +
                        (s.empty() ? "" : " (did you mean '" + s + "'?)") +
                        ". Valid states: " + join_names(m.states));
  }
  return impl_->s.y[static_cast<std::size_t>(i)];
}

double Sim::param(std::string_view name) const {
  const auto& m = impl_->m();
  int i = index_of(m.params, name);
  if (i < 0) {
    std::string s = suggest(name, m.params);
    throw ArgumentError("Unknown param '" + std::string(name) + "'" +
                        (s.empty() ? "" : " (did you mean '" + s + "'?)") +
                        ". Valid params: " + join_names(m.params));
  }
  return impl_->s.params[static_cast<std::size_t>(i)];
}

std::atomic<std::int32_t>& Sim::user_break() noexcept { return impl_->user_break; }
const FullModel& Sim::model() const noexcept { return *impl_->fm; }
const FullModelPtr& Sim::model_ptr() const noexcept { return impl_->fm; }

}  // namespace dynlib
