// The kernels instantiated with a STRICT backend: Val/Int/Bool are distinct wrapper types with no
// implicit conversion to double/bool, array elements are proxies. If the kernels compile here and
// reproduce DirectBackend bit for bit, they only use the backend concept (what the LLVM backend
// provides) and no double-only shortcut.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <vector>

#include "interp/bytecode.hpp"
#include "interp/direct_backend.hpp"
#include "kernels/runner.hpp"
#include "kernels/steppers.hpp"
#include "runtime/test_runner_helpers.hpp"

namespace strict {
struct Val {
  double v;
};
struct Bool {
  bool v;
};
struct Int {
  std::int64_t v;
};
inline Val operator+(Val a, Val b) { return {a.v + b.v}; }
inline Val operator-(Val a, Val b) { return {a.v - b.v}; }
inline Val operator*(Val a, Val b) { return {a.v * b.v}; }
inline Val operator/(Val a, Val b) { return {a.v / b.v}; }
inline Val operator-(Val a) { return {-a.v}; }
inline Bool operator<(Val a, Val b) { return {a.v < b.v}; }
inline Bool operator<=(Val a, Val b) { return {a.v <= b.v}; }
inline Bool operator>(Val a, Val b) { return {a.v > b.v}; }
inline Bool operator>=(Val a, Val b) { return {a.v >= b.v}; }
inline Bool operator==(Val a, Val b) { return {a.v == b.v}; }
inline Bool operator!=(Val a, Val b) { return {a.v != b.v}; }
inline Int operator+(Int a, Int b) { return {a.v + b.v}; }
inline Int operator-(Int a, Int b) { return {a.v - b.v}; }
inline Int operator*(Int a, Int b) { return {a.v * b.v}; }
inline Int operator/(Int a, Int b) { return {a.v / b.v}; }
inline Int operator%(Int a, Int b) { return {a.v % b.v}; }
inline Bool operator<(Int a, Int b) { return {a.v < b.v}; }
inline Bool operator<=(Int a, Int b) { return {a.v <= b.v}; }
inline Bool operator>(Int a, Int b) { return {a.v > b.v}; }
inline Bool operator>=(Int a, Int b) { return {a.v >= b.v}; }
inline Bool operator==(Int a, Int b) { return {a.v == b.v}; }
inline Bool operator!=(Int a, Int b) { return {a.v != b.v}; }

template <class E, class W>
struct Ref {
  E* p;
  operator W() const { return W{*p}; }
  Ref& operator=(W x) {
    *p = x.v;
    return *this;
  }
  Ref& operator=(const Ref& o) {
    *p = *o.p;
    return *this;
  }
};
template <class E, class W>
struct Array {
  E* p = nullptr;
  Ref<E, W> operator[](int i) const { return {p + i}; }
  Ref<E, W> operator[](Int i) const { return {p + i.v}; }
};
using Arr = Array<double, Val>;
using IArr = Array<std::int64_t, Int>;

struct Backend {
  using Val = strict::Val;
  using Bool = strict::Bool;
  using Int = strict::Int;
  using Arr = strict::Arr;
  using IArr = strict::IArr;
  struct Var {
    double v;
    Val get() const { return {v}; }
    Var& operator=(Val x) {
      v = x.v;
      return *this;
    }
  };
  struct IVar {
    std::int64_t v;
    Int get() const { return {v}; }
    IVar& operator=(Int x) {
      v = x.v;
      return *this;
    }
  };
  dynlib::interp::DirectBackend d;  // model functions come from the same bytecode
  Val c(double x) const { return {x}; }
  Int ci(std::int64_t x) const { return {x}; }
  Bool ctrue() const { return {true}; }
  Bool cfalse() const { return {false}; }
  Bool land(Bool a, Bool b) const { return {a.v && b.v}; }
  Bool lor(Bool a, Bool b) const { return {a.v || b.v}; }
  Bool lnot(Bool a) const { return {!a.v}; }
  Var var(Val x) const { return {x.v}; }
  IVar ivar(Int x) const { return {x.v}; }
  Arr offset(Arr a, int k) const { return {a.p + k}; }
  IArr offset(IArr a, int k) const { return {a.p + k}; }
  // Read-only index tables (the sparse LU's): the kernels never write them.
  IArr const_iarr(const std::vector<std::int64_t>& v) const { return {const_cast<std::int64_t*>(v.data())}; }
  Val sqrt(Val x) const { return {std::sqrt(x.v)}; }
  Val fabs(Val x) const { return {std::fabs(x.v)}; }
  Val fmin(Val a, Val b) const { return {std::fmin(a.v, b.v)}; }
  Val fmax(Val a, Val b) const { return {std::fmax(a.v, b.v)}; }
  Val pow(Val a, Val b) const { return {std::pow(a.v, b.v)}; }
  Bool isfinite(Val x) const { return {std::isfinite(x.v)}; }
  Val select(Bool c, Val a, Val b) const { return c.v ? a : b; }
  Int iselect(Bool c, Int a, Int b) const { return c.v ? a : b; }
  Val to_val(Int x) const { return {static_cast<double>(x.v)}; }
  Int to_int(Val x) const { return {static_cast<std::int64_t>(x.v)}; }
  Val to_storage(Val x) const { return {dynlib::kernels::storage_round(d.model().dtype, x.v)}; }
  template <class F>
  void if_(Bool c, F&& f) const {
    if (c.v) f();
  }
  template <class F, class G>
  void if_(Bool c, F&& f, G&& g) const {
    if (c.v)
      f();
    else
      g();
  }
  template <class C, class F>
  void while_(C&& c, F&& f) const {
    while (c().v) f();
  }
  template <class F>
  void for_(Int lo, Int hi, F&& f) const {
    for (auto i = lo.v; i < hi.v; ++i) f(Int{i});
  }
  const dynlib::ir::ModelIR& model() const { return d.model(); }
  Val eval(const dynlib::ir::Expr& e, const dynlib::kernels::EvalCtx<Backend>& c) const {
    dynlib::kernels::EvalCtx<dynlib::interp::DirectBackend> dc{c.t.v,        c.y.p,        c.params.p,
                                                               c.lag_ring.p, c.lag_head.p, c.lag_shift};
    return {d.eval(e, dc)};
  }
  void rhs(Val t, Arr y, Arr out, Arr p, Arr ring, IArr head) const {
    d.rhs(t.v, y.p, out.p, p.p, ring.p, head.p);
  }
  bool has_model_jacobian() const { return d.has_model_jacobian(); }
  void jacobian(Val t, Arr y, Arr J, Arr p, Arr ring, IArr head) const {
    d.jacobian(t.v, y.p, J.p, p.p, ring.p, head.p);
  }
  Bool user_break() const { return {d.user_break()}; }
};
}  // namespace strict

using namespace tb;

TEST_CASE("kernels compile against a strict backend and match DirectBackend bit for bit",
          "[runner][backend]") {
  // Lorenz with a logged end event, an aux, a lag and the model Jacobian
  auto x = S(0), y = S(1), z = S(2);
  auto m = ode({"x", "y", "z"}, {1.0, 1.0, 1.0},
               {mul(P(0), sub(y, x)), sub(mul(x, sub(P(1), z)), y), sub(mul(x, y), mul(P(2), z))});
  m->params = {"sigma", "rho", "beta"};
  m->param_vals = {10.0, 28.0, 8.0 / 3.0};
  m->aux = {"e"};
  m->aux_exprs = {add(mul(x, x), mul(y, y))};
  const int slot = add_lag(*m, 2, 2);
  m->jacobian = std::vector<std::vector<Expr>>{
      {neg(P(0)), P(0), C(0)}, {sub(P(1), z), C(-1), neg(x)}, {y, x, neg(P(2))}};
  dynlib::ir::Event ev;
  ev.name = "peak";
  ev.phase = dynlib::ir::Phase::end;
  ev.cond = bin(Op::And, bin(Op::Gt, L(slot, 1), S(2)), bin(Op::Gt, L(slot, 1), C(40)));
  ev.log = {{dynlib::ir::LogItem::Kind::Time, 0, "t"}, {dynlib::ir::LogItem::Kind::State, 2, "z"}};
  m->events.push_back(ev);

  for (const auto& si : dynlib::kernels::all_steppers()) {
    if (si.kind != dynlib::ir::Kind::ode) continue;
    auto direct =
        run(m, si.name,
            {.t_end = 2.0,
             .dt = 0.001,
             .cfg = si.implicit ? decltype(Opts::cfg){{"jacobian_mode", 1}} : decltype(Opts::cfg){}});
    REQUIRE(direct.status == dynlib::Status::DONE);

    // Same run through the strict backend (one call, big buffers).
    auto cm = dynlib::interp::make_interpreted(m, si);
    const auto& Lay = cm->layout();
    dynlib::interp::Program prog(*m);
    auto rhs_e = prog.add_block(m->rhs);
    std::vector<Expr> flat;
    for (auto& row : *m->jacobian)
      for (auto& e : row) flat.push_back(e);
    auto jac_e = prog.add_block(flat);
    for (auto& e : m->aux_exprs) prog.add_expr(e);
    prog.add_expr(ev.cond);
    strict::Backend b;
    b.d.m = m.get();
    b.d.prog = &prog;
    b.d.rhs_entry = rhs_e;
    b.d.jac_entry = jac_e;
    std::vector<double> yc(m->state_ic), yp(3), yprop(3), params(m->param_vals), ring(Lay.lag_ring_size),
        aux(1), ws(Lay.ws_size), cfg = cm->default_config();
    if (si.implicit) cfg[si.config_index("jacobian_mode")] = 1;
    std::vector<std::int64_t> head(1), iws(std::max<std::int64_t>(1, Lay.iws_size)), idx{0, 1, 2},
        event_counts(1);
    cm->seed_lags(yc.data(), ring.data(), head.data());
    const std::int64_t cap = 1 << 16;
    std::vector<double> T(cap), Y(3 * cap), EL(2 * cap), AUXB(cap);
    std::vector<std::int64_t> ST(cap), EC(cap), EI(cap), ES(cap), aidx{0};
    std::vector<double> ET(cap);
    double dt0 = si.adaptive ? cm->initial_step(0.0, 2.0, yc.data(), params.data(), cfg.data(),
                                                static_cast<std::int64_t>(cfg.size()), 0.001)
                             : 0.001;
    double dio[dynlib::kernels::kD_count] = {0.0, dt0, 0, 0};
    std::int64_t iio[dynlib::kernels::kI_count] = {0, 0, 0, 0, 0, 0, 0, 0, -1, -1};
    dynlib::kernels::RunnerView<strict::Backend> v;
    v.t_end = {2.0};
    v.step_end = {100000000};
    v.record_interval = {1};
    v.t_base = {0.0};
    v.step_base = {0};
    v.dt_nominal = {0.001};
    v.y_curr = {yc.data()};
    v.y_prev = {yp.data()};
    v.params = {params.data()};
    v.lag_ring = {ring.data()};
    v.lag_head = {head.data()};
    v.aux_values = {aux.data()};
    v.event_counts = {event_counts.data()};
    v.ws = {ws.data()};
    v.iws = {iws.data()};
    v.cfg = {cfg.data()};
    v.y_prop = {yprop.data()};
    v.scratch = {nullptr};
    v.T = {T.data()};
    v.Y = {Y.data()};
    v.AUX = {AUXB.data()};
    v.STEP = {ST.data()};
    v.cap_rec = {cap};
    v.state_rec_idx = {idx.data()};
    v.n_rec_states = {3};
    v.aux_rec_idx = {aidx.data()};
    v.n_rec_aux = {1};
    v.EVT_CODE = {EC.data()};
    v.EVT_INDEX = {EI.data()};
    v.EVT_LOG_DATA = {EL.data()};
    v.cap_evt = {cap};
    v.EVT_T = {ET.data()};
    v.EVT_STEP = {ES.data()};
    v.dio = {dio};
    v.iio = {iio};
    dynlib::kernels::RunnerTraits tr{false, si.adaptive, Lay.max_events_per_step};
    dynlib::kernels::with_stepper(si.id, [&](auto st) { dynlib::kernels::runner(b, v, st, tr); });
    INFO(si.name);
    CHECK(iio[dynlib::kernels::kI_status] == static_cast<int>(dynlib::Status::DONE));
    CHECK(iio[dynlib::kernels::kI_step] == direct.steps);
    CHECK(yc == direct.y_final);
    CHECK(std::vector<double>(T.begin(), T.begin() + iio[0]) == direct.t);
    CHECK(iio[dynlib::kernels::kI_m] == static_cast<std::int64_t>(direct.evt_code.size()));
    CHECK(iio[dynlib::kernels::kI_m] > 0);
    CHECK(event_counts == direct.event_counts);
    CHECK(iws == direct.iws);  // the work counters of the implicit steppers too
    CHECK(AUXB[5] == Approx(Y[5] * Y[5] + Y[cap + 5] * Y[cap + 5]));
  }
}
