// The dense-output layer (kernels/dense_output.hpp) driven directly with the DirectBackend: every ODE
// stepper's continuous extension reproduces the ends of its step, cubic Hermite is locally of order 4,
// rk45's own interpolant of order 5 locally, the Hermite f evaluations are counted and the last one is
// reused as the next step's first when nothing changed.
#include <catch2/catch.hpp>
#include <cmath>
#include <dynlib/dynlib.hpp>

#include "interp/bytecode.hpp"
#include "interp/direct_backend.hpp"
#include "kernels/dense_output.hpp"
#include "kernels/steppers.hpp"
#include "runtime/test_runner_helpers.hpp"

using namespace tb;
using dynlib::interp::DirectBackend;
namespace k = dynlib::kernels;

namespace {
// x' = v, v' = -x: x = cos t, v = -sin t.
std::shared_ptr<dynlib::ir::ModelIR> oscillator() { return ode({"x", "v"}, {1.0, 0.0}, {S(1), neg(S(0))}); }

// One stepper and its dense workspace, driven step by step as the runner does.
struct Driver {
  std::shared_ptr<dynlib::ir::ModelIR> m;
  const k::StepperInfo& si;
  dynlib::interp::Program prog;
  DirectBackend b;
  std::vector<double> ws, cfg, params, dws;
  std::vector<std::int64_t> iws;
  k::StepCtx<DirectBackend> c;

  Driver(std::shared_ptr<dynlib::ir::ModelIR> model, const k::StepperInfo& info)
      : m(std::move(model)), si(info), prog(*m) {
    b.m = m.get();
    b.prog = &prog;
    b.rhs_entry = prog.add_block(m->rhs);
    const auto n = static_cast<std::int64_t>(m->n_states());
    ws.assign(static_cast<std::size_t>(si.ws_size(n)), 0.0);
    iws.assign(static_cast<std::size_t>(si.iws_size(n)), 0);
    dws.assign(static_cast<std::size_t>(k::dense_ws_size(si, n)), 0.0);
    cfg = si.default_config(m->sim);
    params = m->param_vals;
    params.push_back(0.0);
    c.n = static_cast<int>(n);
    c.params = params.data();
    c.ws = ws.data();
    c.iws = iws.data();
    c.cfg = cfg.data();
  }
  // One step (t, y) -> (t1, y1) followed by the dense preparation; returns t1.
  double step(double t, double h, std::vector<double>& y, std::vector<double>& y1) {
    auto o = k::make_step_out(b);
    double t1 = 0;
    k::with_stepper(si.id, [&](auto st) {
      st(b, c, t, h, y.data(), y1.data(), o);
      REQUIRE(o.status.get() == k::kOK);
      t1 = si.adaptive ? o.t_prop.get() : t + h;
      k::dense_output_prepare(b, st, c, dws.data(), si.work_counters_at, t, t1, y.data(), y1.data());
    });
    return t1;
  }
  std::vector<double> eval(double theta) {
    std::vector<double> out(static_cast<std::size_t>(c.n));
    k::with_stepper(si.id, [&](auto st) { k::dense_output_eval(b, st, c, dws.data(), theta, out.data()); });
    return out;
  }
};

std::vector<const k::StepperInfo*> ode_steppers() {
  std::vector<const k::StepperInfo*> v;
  for (const auto& s : k::all_steppers())
    if (s.kind == dynlib::ir::Kind::ode) v.push_back(&s);
  return v;
}
}  // namespace

TEST_CASE("dense output: the registry's dense_output flag is the kernel's own interpolant", "[dense]") {
  for (const auto& s : k::all_steppers()) {
    INFO(s.name);
    k::with_stepper(s.id, [&](auto st) { CHECK(k::has_dense<decltype(st)>() == s.dense_output); });
    if (s.kind == dynlib::ir::Kind::map) CHECK(k::dense_ws_size(s, 3) == 0);
  }
}

TEST_CASE("dense output: theta 0 and 1 reproduce both ends of the step for every ODE stepper", "[dense]") {
  for (const auto* s : ode_steppers()) {
    INFO(s->name);
    Driver d(oscillator(), *s);
    std::vector<double> y = {1.0, 0.0}, y1(2);
    // Several steps, so that multistep steppers are past their start.
    double t = 0.0;
    for (int j = 0; j < 4; ++j) {
      const double t1 = d.step(t, 0.05, y, y1);
      const auto a = d.eval(0.0), e = d.eval(1.0);
      for (int i = 0; i < 2; ++i) {
        if (s->dense_output) {
          CHECK(std::fabs(a[i] - y[i]) <= 1e-13);
          CHECK(std::fabs(e[i] - y1[i]) <= 1e-13);
        } else {  // Hermite: bit for bit
          CHECK(a[i] == y[i]);
          CHECK(e[i] == y1[i]);
        }
      }
      t = t1;
      y = y1;
    }
  }
}

TEST_CASE("dense output: cubic Hermite is locally of order 4, rk45's own interpolant of order 5", "[dense]") {
  // One step from the exact state; the error in the middle of the step, for h and h/2.
  auto mid_error = [](const char* name, double h, bool exact_ends) {
    Driver d(oscillator(), k::get_stepper(name));
    const double t = 0.3;
    std::vector<double> y = {std::cos(t), -std::sin(t)}, y1(2);
    if (d.si.config_index("atol") >= 0)  // take the step as given
      d.cfg[static_cast<std::size_t>(d.si.config_index("atol"))] = 1e10;
    if (exact_ends) {
      // The interpolant itself: exact end values, so only the Hermite error remains.
      y1 = {std::cos(t + h), -std::sin(t + h)};
      k::dense_output_prepare(d.b, k::StepEuler{}, d.c, d.dws.data(), -1, t, t + h, y.data(), y1.data());
    } else {
      d.step(t, h, y, y1);
    }
    const auto v = exact_ends ? [&] {
      std::vector<double> out(2);
      k::dense_output_eval(d.b, k::StepEuler{}, d.c, d.dws.data(), 0.37, out.data());
      return out;
    }()
                              : d.eval(0.37);
    const double tm = t + 0.37 * h;
    return std::max(std::fabs(v[0] - std::cos(tm)), std::fabs(v[1] + std::sin(tm)));
  };
  const double eh1 = mid_error("euler", 0.2, true), eh2 = mid_error("euler", 0.1, true);
  CHECK(std::log2(eh1 / eh2) == Approx(4.0).margin(0.15));
  const double er1 = mid_error("rk45", 0.2, false), er2 = mid_error("rk45", 0.1, false);
  CHECK(std::log2(er1 / er2) == Approx(5.0).margin(0.3));
}

TEST_CASE("dense output: Hermite counts its f evaluations and reuses the last one when nothing changed",
          "[dense]") {
  Driver d(oscillator(), k::get_stepper("sdirk2"));
  const auto rhs_at =
      static_cast<std::size_t>(d.si.work_counters_at) + static_cast<std::size_t>(k::WorkCounter::rhs);
  std::vector<double> y = {1.0, 0.0}, y1(2);
  auto rhs_of_step = [&](double t) {
    auto o = k::make_step_out(d.b);
    k::StepSDIRK2{}(d.b, d.c, t, 0.1, y.data(), y1.data(), o);
    const auto before = d.iws[rhs_at];
    k::dense_output_prepare(d.b, k::StepSDIRK2{}, d.c, d.dws.data(), d.si.work_counters_at, t, t + 0.1,
                            y.data(), y1.data());
    y = y1;
    return d.iws[rhs_at] - before;
  };
  CHECK(rhs_of_step(0.0) == 2);  // f0 and f1
  CHECK(rhs_of_step(0.1) == 1);  // f0 is the previous f1: same bits
  // An event action changed the state: the runner forgets f1.
  k::dense_forget(d.b, d.dws.data());
  CHECK(rhs_of_step(0.2) == 2);
  // A state that differs from the stored end (as from an edited session) is never met with a stale f1.
  y[0] += 1e-3;
  CHECK(rhs_of_step(0.3) == 2);
}
