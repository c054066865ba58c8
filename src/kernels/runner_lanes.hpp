// The lane runner (docs/internals/simd-lanes.md): kLanes fresh runs of a model in the SIMD lanes of
// one core, for the models and steppers of lanes_supported() (lane_abi.hpp). Each lane computes the
// bits of kernels::runner (runner.hpp) with its own inputs: the lane code is the same stepper and
// model code, on vectors whose operations are the scalar ones lane by lane.
//
// Two backends emit into one function: S (scalar) for what the lanes share (time, step count, record
// phase, the fixed-step plan, the records' T/STEP, the per-lane outputs) and L (lanes: L::Val holds
// one value per lane, L::Arr is lane-interleaved). S::Int and L::Int are the same type (uniform
// integers). Besides the kernel concept (backend.hpp), L provides l.splat(S::Val's value) -> Val,
// l.lane_bits(Bool) -> Int (bit j = lane j) and l.bits_mask(Int) -> Bool.
//
// Per step, as runner.hpp for a model without events, lags and observers:
//   [capacity check of a record step: GROW_REC ends every lane]
//   stepper (fixed step, the final partial step lands on t_end) -> guard -> commit -> step += 1
//   stop condition -> t = t_new -> record -> lanes whose stop condition holds end (EARLY_EXIT)
//   user break ends every lane
// A lane whose guard fails ends with NAN_DETECTED (first culprit as in the scalar run) and is frozen:
// its committed state, step count, time and record count are kept, while the vectors go on computing
// its lane (never looked at again). The hot loop has no per-lane blends: one test of "any running
// lane not finite" per step, and the frozen states are put back at the end.
#pragma once
#include <type_traits>
#include <vector>

#include "kernels/lane_abi.hpp"
#include "kernels/runner.hpp"

namespace dynlib::kernels {

template <class S, class L>
struct LaneView {
  typename S::Val t_end{}, t_base{}, dt_nominal{};
  typename S::Int step_end{}, record_interval{}, step_base{};
  typename L::Arr y_curr{}, y_prev{}, params{}, ws{}, y_prop{};
  typename L::Arr keep_y{}, keep_y_prev{};  // [n_state] lane scratch: the states of frozen lanes
  typename S::Arr T{};
  typename S::IArr STEP{};
  typename L::Arr Y{};
  typename S::Int cap_rec{};
  typename S::IArr state_rec_idx{};
  typename S::Int n_rec_states{};
  // per lane outputs [kLanes]
  typename S::IArr status{}, step{}, n_rec{}, nan_where{}, nan_index{};
  typename S::Arr t{}, t_fail{};
};

template <class S, class L, class Stepper>
void lane_runner(S& s, L& l, const LaneView<S, L>& a, const Stepper& stepper, bool is_map) {
  using Int = typename S::Int;
  using SVal = typename S::Val;
  using LVal = typename L::Val;
  const auto& model = l.model();
  const int n = static_cast<int>(model.n_states());
  const int np = static_cast<int>(model.n_params());
  constexpr int W = kLanes;
  const bool ode = !is_map;
  auto S_ = [&](Status st) { return s.ci(static_cast<std::int64_t>(st)); };
  auto idx = [&](auto k) -> Int {
    if constexpr (std::is_integral_v<decltype(k)>)
      return s.ci(k);
    else
      return k;
  };
  // bit j of `bits` set?
  auto has_lane = [&](Int bits, int j) { return (bits / s.ci(std::int64_t{1} << j)) % s.ci(2) != s.ci(0); };

  auto st = s.ivar(s.ci(kRunning));  // the pack: running, or why every lane ended together
  auto alive = s.ivar(s.ci((1 << W) - 1));
  auto t = s.var(a.t_base);
  auto step = s.ivar(a.step_base);
  auto i = s.ivar(s.ci(0));
  auto ri = a.record_interval;
  auto ri_safe = s.iselect(ri > s.ci(0), ri, s.ci(1));
  StepCtx<L> sc;
  sc.n = n;
  sc.params = a.params;
  sc.ws = a.ws;

  // The lanes in `bits` end with `status` at the current step, time and record count (their state stays).
  auto freeze = [&](Int bits, Int status) {
    for (int j = 0; j < W; ++j)
      s.if_(has_lane(bits, j), [&] {
        a.status[j] = status;
        a.step[j] = step.get();
        a.t[j] = t.get();
        a.n_rec[j] = i.get();
      });
    auto m = l.bits_mask(bits);
    for_states(l, n, [&](auto k) {
      a.keep_y[k] = l.select(m, LVal(a.y_curr[k]), LVal(a.keep_y[k]));
      a.keep_y_prev[k] = l.select(m, LVal(a.y_prev[k]), LVal(a.keep_y_prev[k]));
    });
    alive = alive.get() - bits;  // bits is a subset of alive
  };
  // Running lanes where `bad` holds: NAN_DETECTED at `where`/`index`, t_fail = t.
  auto nan_lanes = [&](typename L::Bool bad, NanWhere where, Int index) {
    Int bits = l.lane_bits(l.land(l.bits_mask(alive.get()), bad));
    s.if_(bits != s.ci(0), [&] {
      for (int j = 0; j < W; ++j)
        s.if_(has_lane(bits, j), [&] {
          a.nan_where[j] = s.ci(static_cast<std::int64_t>(where));
          a.nan_index[j] = index;
          a.t_fail[j] = t.get();
        });
      freeze(bits, S_(Status::NAN_DETECTED));
    });
  };
  auto record = [&] {
    a.T[i.get()] = t.get();
    a.STEP[i.get()] = step.get();
    s.for_(s.ci(0), a.n_rec_states,
           [&](Int k) { a.Y[k * a.cap_rec + i.get()] = a.y_curr[a.state_rec_idx[k]]; });
    i = i.get() + s.ci(1);
  };

  const auto plan = fixed_step_plan(s, a.t_end, a.t_base, a.dt_nominal);
  for_states(l, n, [&](auto k) {
    a.keep_y[k] = a.y_curr[k];
    a.keep_y_prev[k] = a.y_prev[k];
  });

  // ---- run start: guards of the initial states and parameters, record t0 ----
  for_states(l, n,
             [&](auto k) { nan_lanes(l.lnot(l.isfinite(a.y_curr[k])), NanWhere::initial_state, idx(k)); });
  for (int k = 0; k < np; ++k) nan_lanes(l.lnot(l.isfinite(a.params[k])), NanWhere::param, s.ci(k));
  s.if_(s.land(ri > s.ci(0), step.get() % ri_safe == s.ci(0)), [&] {
    s.if_(
        i.get() >= a.cap_rec, [&] { st = S_(Status::GROW_REC); }, [&] { record(); });
  });
  s.if_(alive.get() == s.ci(0), [&] { st = S_(Status::DONE); });

  // ---- the loop ----
  auto rphase = s.ivar((step.get() + s.ci(1)) % ri_safe);

  // The inner loop (as runner_map_fast.hpp, for maps and ODEs without a stop condition): after a step of
  // the general loop, the full steps before the next record step, the last step of the run or kMapChunk
  // steps, with the state in variables and nothing per step but the stepper, the guard and the commit. A
  // step whose guard fails in a running lane is not committed here: the chunk ends before it and the
  // general loop takes it again (same bits, same reports). The user-break flag is read once per chunk.
  const bool chunked = !model.stop && unroll_states(l, n);
  auto chunk = [&] {
    s.if_(st.get() == s.ci(kRunning), [&] {
      Int to_record = s.iselect(ri > s.ci(0), (ri - rphase.get()) % ri_safe, s.ci(kMapChunk));
      Int left = a.step_end - step.get();
      if (ode) {  // the last step (maybe partial) is the general loop's
        Int left_ode = plan.n_total - s.ci(1) - (step.get() - a.step_base);
        left = s.iselect(left_ode < left, left_ode, left);
      }
      Int len = s.iselect(left < to_record, left, to_record);
      len = s.iselect(len < s.ci(kMapChunk), len, s.ci(kMapChunk));
      s.if_(len > s.ci(0), [&] {
        std::vector<typename L::Var> x, x_prev;
        x.reserve(static_cast<std::size_t>(n));
        x_prev.reserve(static_cast<std::size_t>(n));
        for (int k = 0; k < n; ++k) {
          x.push_back(l.var(LVal(a.y_curr[k])));
          x_prev.push_back(l.var(LVal(a.y_prev[k])));
        }
        auto running = l.bits_mask(alive.get());
        auto sk = s.ivar(step.get());
        auto tc = s.var(t.get());
        auto t_new = s.var(t.get());
        auto end = step.get() + len;
        auto out = make_step_out(l);
        auto ok = s.ivar(s.ci(0));
        auto dt_ok = s.isfinite(a.dt_nominal);
        s.while_(
            [&] {
              s.if_(
                  sk.get() < end,
                  [&] {
                    for (int k = 0; k < n; ++k) a.y_curr[k] = x[static_cast<std::size_t>(k)].get();
                    stepper(l, sc, l.splat(tc.get()), l.splat(a.dt_nominal), a.y_curr, a.y_prop, out);
                    t_new = a.t_base + s.to_val(sk.get() + s.ci(1) - a.step_base) * a.dt_nominal;
                    if (model.dtype != ir::DType::float64)
                      for (int k = 0; k < n; ++k) a.y_prop[k] = l.to_storage(LVal(a.y_prop[k]));
                    auto z = l.var(l.c(0.0));
                    for (int k = 0; k < n; ++k) {
                      LVal v = a.y_prop[k];
                      z = z.get() + (v - v);
                    }
                    Int bad = l.lane_bits(l.land(running, l.lnot(l.isfinite(z.get()))));
                    auto good = s.land(s.land(bad == s.ci(0), s.isfinite(t_new.get())), dt_ok);
                    ok = s.iselect(good, s.ci(1), s.ci(0));
                  },
                  [&] { ok = s.ci(0); });
              return ok.get() != s.ci(0);
            },
            [&] {
              for (int k = 0; k < n; ++k) {
                const auto kk = static_cast<std::size_t>(k);
                x_prev[kk] = x[kk].get();
                x[kk] = LVal(a.y_prop[k]);
              }
              tc = t_new.get();
              sk = sk.get() + s.ci(1);
            });
        auto done = sk.get() - step.get();
        for (int k = 0; k < n; ++k) a.y_curr[k] = x[static_cast<std::size_t>(k)].get();
        s.if_(done > s.ci(0), [&] {
          for (int k = 0; k < n; ++k) a.y_prev[k] = x_prev[static_cast<std::size_t>(k)].get();
          step = sk.get();
          t = tc.get();
          auto rp = rphase.get() + done;
          rphase = s.iselect(ri > s.ci(0), s.iselect(rp == ri, s.ci(0), rp), rphase.get());
          s.if_(s.user_break(), [&] { st = S_(Status::USER_BREAK); });
        });
      });
    });
  };
  s.while_([&] { return st.get() == s.ci(kRunning); },
           [&] {
             auto more = step.get() < a.step_end;
             if (ode) more = s.land(more, step.get() - a.step_base < plan.n_total);
             s.if_(
                 s.lnot(more), [&] { st = S_(Status::DONE); },
                 [&] {
                   auto records = s.land(ri > s.ci(0), rphase.get() == s.ci(0));
                   s.if_(s.land(records, i.get() >= a.cap_rec), [&] { st = S_(Status::GROW_REC); });
                   s.if_(st.get() == s.ci(kRunning), [&] {
                     SVal tc = t.get();
                     auto last = s.land(plan.has_partial, step.get() - a.step_base + s.ci(1) == plan.n_total);
                     SVal dt_use = a.dt_nominal;
                     if (ode) dt_use = s.select(last, a.t_end - tc, a.dt_nominal);
                     auto out = make_step_out(l);
                     stepper(l, sc, l.splat(tc), l.splat(dt_use), a.y_curr, a.y_prop, out);
                     SVal t_new = a.t_base + s.to_val(step.get() + s.ci(1) - a.step_base) * a.dt_nominal;
                     if (ode) t_new = s.select(last, a.t_end, t_new);
                     if (model.dtype != ir::DType::float64)
                       for_states(l, n, [&](auto k) { a.y_prop[k] = l.to_storage(LVal(a.y_prop[k])); });
                     // Guard: x - x is +0 for a finite x and NaN otherwise, so one sum tests every state.
                     auto z = l.var(l.c(0.0));
                     for_states(l, n, [&](auto k) {
                       LVal v = a.y_prop[k];
                       z = z.get() + (v - v);
                     });
                     Int bad = l.lane_bits(l.land(l.bits_mask(alive.get()), l.lnot(l.isfinite(z.get()))));
                     auto uniform_ok = s.land(s.isfinite(t_new), s.isfinite(dt_use));
                     s.if_(s.lor(bad != s.ci(0), s.lnot(uniform_ok)), [&] {
                       // The first culprit of each lane, in the scalar runner's order.
                       for_states(l, n, [&](auto k) {
                         nan_lanes(l.lnot(l.isfinite(a.y_prop[k])), NanWhere::proposed_state, idx(k));
                       });
                       auto every = l.bits_mask(s.ci((1 << W) - 1));
                       s.if_(s.lnot(s.isfinite(t_new)),
                             [&] { nan_lanes(every, NanWhere::proposed_time, s.ci(-1)); });
                       s.if_(s.lnot(s.isfinite(dt_use)),
                             [&] { nan_lanes(every, NanWhere::next_dt, s.ci(-1)); });
                       s.if_(alive.get() == s.ci(0), [&] { st = S_(Status::DONE); });
                     });
                     s.if_(st.get() == s.ci(kRunning), [&] {
                       for_states(l, n, [&](auto k) {
                         a.y_prev[k] = a.y_curr[k];
                         a.y_curr[k] = a.y_prop[k];
                       });
                       step = step.get() + s.ci(1);
                       auto rp1 = rphase.get() + s.ci(1);
                       rphase = s.iselect(rp1 == ri_safe, s.ci(0), rp1);
                       Int stop_bits = s.ci(0);
                       if (model.stop) {
                         EvalCtx<L> ctx{l.splat(t_new), a.y_curr, a.params, {}, {}, 1};
                         auto sv = l.eval(model.stop, ctx);
                         stop_bits = l.lane_bits(l.land(l.bits_mask(alive.get()), sv != l.c(0.0)));
                       }
                       t = t_new;
                       s.if_(records, [&] { record(); });
                       if (model.stop) {
                         s.if_(stop_bits != s.ci(0), [&] {
                           freeze(stop_bits, S_(Status::EARLY_EXIT));
                           s.if_(alive.get() == s.ci(0), [&] { st = S_(Status::DONE); });
                         });
                       }
                       s.if_(s.land(st.get() == s.ci(kRunning), s.user_break()),
                             [&] { st = S_(Status::USER_BREAK); });
                     });
                   });
                 });
             if (chunked) chunk();
           });

  // ---- the lanes still running end with the pack; frozen lanes get their states back ----
  Int running = alive.get();
  for (int j = 0; j < W; ++j)
    s.if_(has_lane(running, j), [&] {
      a.status[j] = st.get();
      a.step[j] = step.get();
      a.t[j] = t.get();
      a.n_rec[j] = i.get();
    });
  s.if_(running != s.ci((1 << W) - 1), [&] {
    auto keep = l.bits_mask(running);
    for_states(l, n, [&](auto k) {
      a.y_curr[k] = l.select(keep, LVal(a.y_curr[k]), LVal(a.keep_y[k]));
      a.y_prev[k] = l.select(keep, LVal(a.y_prev[k]), LVal(a.keep_y_prev[k]));
    });
  });
}

}  // namespace dynlib::kernels
