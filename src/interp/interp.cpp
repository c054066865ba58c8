#include "interp/interp.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "dynlib/errors.hpp"
#include "interp/bytecode.hpp"
#include "interp/direct_backend.hpp"
#include "kernels/lyapunov.hpp"
#include "kernels/runner.hpp"
#include "kernels/steppers.hpp"
#include "util/deep_stack.hpp"

namespace dynlib::interp {

using namespace dynlib::kernels;

namespace {

class InterpretedModel;
using RunFn = void (*)(const InterpretedModel&, RunnerArgs&);
using RunAnalysisFn = void (*)(const InterpretedModel&, RunnerArgs&, const AnalysisHooks&);

// The ANALYSIS variant: the same runner template with AnalysisHooks (kernels/lyapunov.hpp).
class InterpretedAnalysisRunner final : public AnalysisRunner {
 public:
  InterpretedAnalysisRunner(const InterpretedModel& m, AnalysisLayout L, RunAnalysisFn fn)
      : m_(&m), L_(std::move(L)), fn_(fn) {}
  const AnalysisLayout& layout() const override { return L_; }
  void run(RunnerArgs& a) const override;
  bool is_jitted() const override { return false; }

 private:
  const InterpretedModel* m_;
  AnalysisLayout L_;
  RunAnalysisFn fn_;
};

class InterpretedModel final : public CompiledModel {
 public:
  // Defined after the class so that run_with<S> is complete where the runner lambdas name it
  // (clang does not emit the instantiations otherwise).
  InterpretedModel(std::shared_ptr<const ir::ModelIR> m, const StepperInfo& s);

  const ir::ModelIR& model() const override { return *m_; }
  const StepperInfo& stepper() const override { return *s_; }
  const Layout& layout() const override { return L_; }

  void run(RunnerArgs& a) const override { run_(*this, a); }

  std::shared_ptr<const AnalysisRunner> analysis_runner(const AnalysisSpec& spec) const override {
    return std::make_shared<InterpretedAnalysisRunner>(*this, analysis_layout(spec, *m_, *s_), run_analysis_);
  }

  template <class S, class Hooks>
  void run_with(RunnerArgs& a, const Hooks& hooks) const {
    // Pad a short config with the stepper's defaults (a short array keeps the defaults for the rest).
    const std::size_t nc = s_->config.size();
    double cfg_local[16];
    std::vector<double> cfg_heap;
    double* cfg = cfg_local;
    if (nc > 16) {
      cfg_heap.resize(nc);
      cfg = cfg_heap.data();
    }
    for (std::size_t k = 0; k < nc; ++k)
      cfg[k] = (a.stepper_config && static_cast<std::int64_t>(k) < a.n_config) ? a.stepper_config[k]
                                                                               : defaults_[k];

    DirectBackend b = backend();
    b.user_break_flag = a.user_break_flag;
    double dio[kD_count] = {a.t, a.dt, a.err_est, a.t_fail};
    std::int64_t iio[kI_count] = {a.i,         a.step,      a.m,           a.resume_point,
                                  a.status,    a.need_rec,  a.need_evt,    a.nan_where,
                                  a.nan_index, a.nan_event, a.save_at_next};
    RunnerView<DirectBackend> v;
    v.t_end = a.t_end;
    v.step_end = a.step_end;
    v.record_interval = a.record_interval;
    v.t_base = a.t_base;
    v.step_base = a.step_base;
    v.dt_nominal = a.dt_nominal;
    v.y_curr = a.y_curr;
    v.y_prev = a.y_prev;
    v.params = a.params;
    v.lag_ring = a.lag_ring;
    v.lag_head = a.lag_head;
    v.aux_values = a.aux_values;
    v.event_counts = a.event_counts;
    v.ws = a.ws;
    v.iws = a.iws;
    v.cfg = cfg;
    v.y_prop = a.y_prop;
    v.scratch = a.scratch;
    v.T = a.T;
    v.Y = a.Y;
    v.AUX = a.AUX;
    v.STEP = a.STEP;
    v.cap_rec = a.cap_rec;
    v.state_rec_idx = const_cast<std::int64_t*>(a.state_rec_idx);
    v.n_rec_states = a.n_rec_states;
    v.aux_rec_idx = const_cast<std::int64_t*>(a.aux_rec_idx);
    v.n_rec_aux = a.n_rec_aux;
    v.EVT_CODE = a.EVT_CODE;
    v.EVT_INDEX = a.EVT_INDEX;
    v.EVT_LOG_DATA = a.EVT_LOG_DATA;
    v.EVT_T = a.EVT_T;
    v.EVT_STEP = a.EVT_STEP;
    v.cap_evt = a.cap_evt;
    v.dio = dio;
    v.iio = iio;
    v.an_ws = a.analysis_ws;
    v.an_out = a.analysis_out;
    v.an_trace = a.analysis_trace;
    v.an_count = &a.trace_count;
    v.trace_cap = a.trace_cap;
    v.trace_stride = a.trace_stride;
    v.dense_ws = a.dense_ws;
    v.save_at = const_cast<double*>(a.save_at);
    v.n_save_at = a.n_save_at;
    v.tstops = const_cast<double*>(a.tstops);
    v.n_tstops = a.n_tstops;
    runner(b, v, S{}, traits_, hooks);
    a.t = dio[kD_t];
    a.dt = dio[kD_dt];
    a.err_est = dio[kD_err_est];
    a.t_fail = dio[kD_t_fail];
    a.i = iio[kI_i];
    a.step = iio[kI_step];
    a.m = iio[kI_m];
    a.resume_point = static_cast<std::int32_t>(iio[kI_resume]);
    a.status = static_cast<std::int32_t>(iio[kI_status]);
    a.need_rec = iio[kI_need_rec];
    a.need_evt = iio[kI_need_evt];
    a.nan_where = static_cast<std::int32_t>(iio[kI_nan_where]);
    a.nan_index = iio[kI_nan_index];
    a.nan_event = iio[kI_nan_event];
    a.save_at_next = iio[kI_save_next];
  }

  void rhs(double t, const double* y, double* dy, const double* params, const double* ring,
           const std::int64_t* head) const override {
    Env env{t, y, params, ring, head, 0, dy};
    prog_.eval(rhs_e_, env);
  }
  bool inverse(double t, const double* y, double* out, const double* params, const double* ring,
               const std::int64_t* head) const override {
    if (inv_e_ < 0) return false;
    Env env{t, y, params, ring, head, 0, out};
    prog_.eval(inv_e_, env);
    return true;
  }
  bool jacobian(double t, const double* y, double* J, const double* params, const double* ring,
                const std::int64_t* head) const override {
    if (jac_e_ < 0) return false;
    Env env{t, y, params, ring, head, 0, J};
    prog_.eval(jac_e_, env);
    return true;
  }
  void update_aux(double t, const double* y, const double* params, double* aux_out, const double* ring,
                  const std::int64_t* head) const override {
    Env env{t, y, params, ring, head, 1, aux_out};
    prog_.eval(aux_e_, env);
  }
  bool is_jitted(std::string_view) const override { return false; }

  DirectBackend backend() const {
    DirectBackend b;
    b.m = m_.get();
    b.prog = &prog_;
    b.rhs_entry = rhs_e_;
    b.jac_entry = jac_e_;
    return b;
  }

 private:
  std::shared_ptr<const ir::ModelIR> m_;
  const StepperInfo* s_;
  Layout L_;
  Program prog_;
  std::int32_t rhs_e_ = -1, jac_e_ = -1, inv_e_ = -1, aux_e_ = -1;
  RunnerTraits traits_;
  RunFn run_ = nullptr;
  RunAnalysisFn run_analysis_ = nullptr;
  std::vector<double> defaults_;

  void compile(const ir::ModelIR& M);  // every expression of M into prog_
};

void InterpretedModel::compile(const ir::ModelIR& M) {
  rhs_e_ = prog_.add_block(M.rhs);
  // The exact Jacobian: the model's [equations.jacobian], else the symbolic one (ir.hpp exact_jacobian()).
  if (const auto* ej = M.exact_jacobian()) {
    std::vector<ir::Expr> flat;
    for (const auto& row : *ej)
      for (const auto& e : row) flat.push_back(e);
    jac_e_ = prog_.add_block(flat);
  }
  // d rhs / dt, evaluated entry by entry (b.eval) by the Rosenbrock steppers.
  if (M.derived_time_derivative)
    for (const auto& e : *M.derived_time_derivative) prog_.add_expr(e);
  if (M.inverse) inv_e_ = prog_.add_block(*M.inverse);
  aux_e_ = prog_.add_block(M.aux_exprs);
  for (const auto& e : M.aux_exprs) prog_.add_expr(e);
  for (const auto& ev : M.events) {
    if (ev.cond) prog_.add_expr(ev.cond);
    if (ev.root) prog_.add_expr(ev.root);
    for (const auto& a : ev.actions) prog_.add_expr(a.value);
  }
  if (M.stop) prog_.add_expr(M.stop);
}

InterpretedModel::InterpretedModel(std::shared_ptr<const ir::ModelIR> m, const StepperInfo& s)
    : m_(std::move(m)), s_(&s), prog_(*m_) {
  L_ = compute_layout(*m_, *s_);
  // Compiling recurses once per nesting level of an expression (a sum of 100k terms is 100k levels).
  util::run_with_large_stack([&] { compile(*m_); });
  traits_.is_map = s.kind == ir::Kind::map;
  traits_.adaptive = s.adaptive;
  traits_.max_events_per_step = L_.max_events_per_step;
  traits_.work_counters_at = s.work_counters_at;
  run_ = with_stepper(s.id, [](auto st) -> RunFn {
    using S = decltype(st);
    return [](const InterpretedModel& self, RunnerArgs& a) { self.run_with<S>(a, NoHooks{}); };
  });
  run_analysis_ = with_stepper(s.id, [](auto st) -> RunAnalysisFn {
    using S = decltype(st);
    return
        [](const InterpretedModel& self, RunnerArgs& a, const AnalysisHooks& h) { self.run_with<S>(a, h); };
  });
  defaults_ = s.default_config(m_->sim);
}

void InterpretedAnalysisRunner::run(RunnerArgs& a) const {
  AnalysisHooks h;
  h.L = &L_;
  fn_(*m_, a, h);
}

}  // namespace

std::unique_ptr<CompiledModel> make_interpreted(std::shared_ptr<const ir::ModelIR> model,
                                                const StepperInfo& stepper) {
  if (!model) throw ArgumentError("make_interpreted: null model");
  if (model->kind != stepper.kind)
    throw StepperKindMismatchError(stepper.name, stepper.kind_name(),
                                   model->kind == ir::Kind::ode ? "ode" : "map");
  return std::make_unique<InterpretedModel>(std::move(model), stepper);
}

}  // namespace dynlib::interp
