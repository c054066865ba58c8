// The inner loop of the runner for simple maps (docs/internals/runner.md "Maps: the inner loop").
//
// A map without events, lags, stop condition or observers does nothing per step but the stepper, the
// NaN guard and the commit; everything else the general loop does per step (record phase, capacity
// checks, the user-break flag, the y_prev/y_curr copies through the state buffers) only matters at a
// few steps: the steps that record and the last one. So after each step of the general loop, this
// chunk runs the following steps up to (not including) the next step that records, the end of the
// run, or kMapChunk steps, whichever comes first, with the state carried in local variables (the
// JIT keeps them in registers: no store-to-load forwarding through the state buffer on the
// iteration's critical path).
//
// Same bits and the same stops as the general loop:
//  * each step is the general loop's step: the stepper on (t, y), then the same combined guard of
//    the proposal, t_new and dt_next; t_new = t_base + (step + 1 - step_base)*dt_nominal;
//  * a step whose guard (or stepper status) fails is not committed here: the chunk ends before it
//    and the general loop takes that step again and reports it exactly as without the chunk;
//  * the user-break flag is read once per chunk (after its last commit) instead of after every step;
//  * at the end of the chunk the cursors are those after its last commit (t, step, record phase,
//    y_prev, y_curr, y_prop, dt, err_est; lazily evaluated aux marked stale).
#pragma once
#include <type_traits>
#include <vector>

#include "kernels/events.hpp"

namespace dynlib::kernels {

// Steps per chunk: the user-break flag is read at least this often.
constexpr std::int64_t kMapChunk = 1024;

// Code-generation time: does this map take the inner loop? (The general loop remains for every step
// that records and for every step the chunk declines.)
template <class B, class Hooks>
bool map_fast_path(B& b, bool is_map) {
  const auto& model = b.model();
  return is_map && !Hooks::enabled && model.events.empty() && model.lags.empty() && !model.stop &&
         unroll_states(b, static_cast<int>(model.n_states()));
}

// One chunk after a step of the general loop (which left `st`, `t`, `step`, `rphase` current).
template <class B, class Stepper>
void map_fast_chunk(B& b, const RunnerView<B>& a, const Stepper& stepper, const StepCtx<B>& sc,
                    typename B::IVar& st, typename B::Var& t, typename B::Var& dt, typename B::IVar& step,
                    typename B::IVar& rphase, typename B::IVar& aux_dirty, bool lazy_aux) {
  using Val = typename B::Val;
  using Int = typename B::Int;
  const auto& model = b.model();
  const int n = static_cast<int>(model.n_states());
  b.if_(st.get() == b.ci(kRunning), [&] {
    auto ri = a.record_interval;
    // Steps before the next one that records: the one whose record phase is 0 at its start.
    Int to_record =
        b.iselect(ri > b.ci(0), (ri - rphase.get()) % b.iselect(ri > b.ci(0), ri, b.ci(1)), b.ci(kMapChunk));
    Int left = a.step_end - step.get();
    Int len = b.iselect(left < to_record, left, to_record);
    len = b.iselect(len < b.ci(kMapChunk), len, b.ci(kMapChunk));
    b.if_(len > b.ci(0), [&] {
      std::vector<typename B::Var> x, x_prev;
      x.reserve(static_cast<std::size_t>(n));
      x_prev.reserve(static_cast<std::size_t>(n));
      for (int k = 0; k < n; ++k) {
        x.push_back(b.var(Val(a.y_curr[k])));
        x_prev.push_back(b.var(Val(a.y_prev[k])));
      }
      auto s = b.ivar(step.get());
      auto tc = b.var(t.get());
      auto t_new = b.var(t.get());
      auto end = step.get() + len;
      auto out = make_step_out(b);
      auto ok = b.ivar(b.ci(0));
      // The step is taken in the loop condition and committed in the body: a failed guard leaves the
      // loop (a branch), so the state's dependency chain holds nothing but the map's own arithmetic.
      b.while_(
          [&] {
            b.if_(
                s.get() < end,
                [&] {
                  for (int k = 0; k < n; ++k) a.y_curr[k] = x[static_cast<std::size_t>(k)].get();
                  stepper(b, sc, tc.get(), a.dt_nominal, a.y_curr, a.y_prop, out);
                  t_new = a.t_base + b.to_val(s.get() + b.ci(1) - a.step_base) * a.dt_nominal;
                  if (model.dtype != ir::DType::float64)
                    for (int k = 0; k < n; ++k) a.y_prop[k] = b.to_storage(Val(a.y_prop[k]));
                  auto good = b.land(b.land(b.land(all_finite(b, n, a.y_prop), b.isfinite(t_new.get())),
                                            b.isfinite(out.dt_next.get())),
                                     out.status.get() == b.ci(kOK));
                  ok = b.iselect(good, b.ci(1), b.ci(0));
                },
                [&] { ok = b.ci(0); });
            return ok.get() != b.ci(0);
          },
          [&] {
            for (int k = 0; k < n; ++k) {
              const auto kk = static_cast<std::size_t>(k);
              x_prev[kk] = x[kk].get();
              x[kk] = Val(a.y_prop[k]);
            }
            tc = t_new.get();
            s = s.get() + b.ci(1);
          });
      // Back to the general loop's cursors (the state buffers as after its own commits).
      auto done = s.get() - step.get();
      for (int k = 0; k < n; ++k) a.y_curr[k] = x[static_cast<std::size_t>(k)].get();
      b.if_(done > b.ci(0), [&] {
        for (int k = 0; k < n; ++k) {
          a.y_prev[k] = x_prev[static_cast<std::size_t>(k)].get();
          a.y_prop[k] = x[static_cast<std::size_t>(k)].get();
        }
        step = s.get();
        t = tc.get();
        dt = a.dt_nominal;
        a.dio[kD_err_est] = out.err.get();
        auto rp = rphase.get() + done;
        rphase = b.iselect(ri > b.ci(0), b.iselect(rp == ri, b.ci(0), rp), rphase.get());
        if (lazy_aux) aux_dirty = b.ci(1);
        b.if_(b.user_break(), [&] { st = b.ci(static_cast<std::int64_t>(Status::USER_BREAK)); });
      });
    });
  });
}

}  // namespace dynlib::kernels
