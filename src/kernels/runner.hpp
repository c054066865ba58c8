// The runner loop for flows and maps, written once for every backend (docs/internals/runner.md).
//
// Per step (our fixes in brackets):
//   [capacity check for the whole step: a record slot if this step records, max_events_per_step event
//    rows -> GROW_REC / GROW_EVT before anything of the step happens, so re-entry resumes exactly]
//   events_pre(t, y_curr)                                (all true events fire, declaration order)
//   dt: adaptive -> clip to t_end; fixed -> nominal, or the final partial step t_end - t
//   stepper -> status != OK: return it (t_fail = t)
//   guard y_prop, t_prop, dt_next -> NAN_DETECTED
//   events_post(t_new, y_prop)                           (lag_shift 1: lag_x(1) = last committed)
//   commit y_prev = y_curr, y_curr = y_prop, step += 1
//   update_aux(t_new, y_curr) (+ stop flag)
//   advance lag rings
//   t = t_new [fixed/map: t_base + (step - step_base)*dt_nominal, the final partial step ends on t_end]
//   record if step % record_interval == 0
//   stop -> EARLY_EXIT; user break -> USER_BREAK
// Run start (resume_point 0): guard initial states and params, update_aux, record t0 when
// step % record_interval == 0.
//
// Fixed-step horizon: r = (t_end - t_base)/dt; n_full = floor(r); rem = r - n_full.
//   rem >= 1 - 1e-9  -> n_full + 1 full steps (T is a multiple of dt up to rounding),
//   rem <= 1e-9      -> n_full full steps,
//   otherwise        -> n_full full steps and one final partial step of t_end - (t_base + n_full*dt).
// i.e. a remainder shorter than 1e-9*dt is rounding noise, never an extra step.
//
// ANALYSIS variant (Hooks::enabled, kernels/observer.hpp): PRE hook after the pre-phase events (t_n,
// unclipped dt, step n); POST hook after commit, update_aux and the lag advance (t_{n+1}, the dt
// taken, step n+1), before t is updated and recorded; then the trace row cursor advances on traced
// steps; a full trace ends the completed step with TRACE_OVERFLOW (after its record).
#pragma once
#include "kernels/events.hpp"
#include "kernels/observer.hpp"
#include "kernels/root_events.hpp"
#include "kernels/runner_map_fast.hpp"
#include "kernels/save_at.hpp"

namespace dynlib::kernels {

struct RunnerTraits {
  bool is_map = false;
  bool adaptive = false;
  std::int64_t max_events_per_step = 0;
  int work_counters_at = -1;  // StepperInfo::work_counters_at (dense output counts its f evaluations there)
};

constexpr double kFixedStepTol = 1e-9;

// The fixed-step horizon (see the top of this file): steps in total, and whether the last is partial.
template <class B>
struct FixedStepPlan {
  typename B::Int n_total;
  typename B::Bool has_partial;
};
template <class B>
FixedStepPlan<B> fixed_step_plan(B& b, typename B::Val t_end, typename B::Val t_base,
                                 typename B::Val dt_nominal) {
  auto dt_pos = b.select(dt_nominal > b.c(0.0), dt_nominal, b.c(1.0));
  auto r = b.fmin(b.fmax((t_end - t_base) / dt_pos, b.c(0.0)), b.c(4.0e18));  // NaN -> 0 (fmax)
  auto nf = b.to_int(r);
  auto rem = r - b.to_val(nf);
  auto n_full = b.iselect(rem >= b.c(1.0 - kFixedStepTol), nf + b.ci(1), nf);
  auto has_partial = b.land(rem > b.c(kFixedStepTol), rem < b.c(1.0 - kFixedStepTol));
  return {n_full + b.iselect(has_partial, b.ci(1), b.ci(0)), has_partial};
}

template <class B, class Stepper, class Hooks = NoHooks>
void runner(B& b, const RunnerView<B>& a, const Stepper& stepper, const RunnerTraits& tr,
            const Hooks& hooks = Hooks{}) {
  using Val = typename B::Val;
  using Int = typename B::Int;
  const auto& model = b.model();
  const int n = static_cast<int>(model.n_states());
  const int np = static_cast<int>(model.n_params());
  const bool aux_or_stop = !model.aux_exprs.empty() || static_cast<bool>(model.stop);
  // Lazy aux (BASE variant, models without lags): aux are pure functions of the committed state, so
  // instead of after every commit they are evaluated only where their values are read: before a
  // record that stores aux, before the pre-phase events (which may change y_curr in place) and when
  // the runner returns (aux_values is part of the session state). `aux_dirty` says that the last
  // commit has not been evaluated yet; the values are the same as with the eager update. With lags
  // the ring moves after the commit, and the ANALYSIS hooks may read aux: eager there.
  const bool lazy_aux = !Hooks::enabled && model.lags.empty() && !model.aux_exprs.empty();
  bool has_pre = false, has_post = false;
  for (const auto& e : model.events) {
    if (e.root) continue;  // located after the step (kernels/root_events.hpp)
    if (e.phase == ir::Phase::start || e.phase == ir::Phase::both) has_pre = true;
    if (e.phase == ir::Phase::end || e.phase == ir::Phase::both) has_post = true;
  }
  // Root events cut the step at the located event (kernels/root_events.hpp). A cut fixed step keeps the
  // grid: the committed event point is not a step of the count, and the next step ends on the grid.
  const bool has_root = !tr.is_map && !root_event_indices(model).empty();
  const auto RUN = b.ci(kRunning);
  auto S = [&](Status s) { return b.ci(static_cast<std::int64_t>(s)); };

  auto st = b.ivar(RUN);
  auto t = b.var(Val(a.dio[kD_t]));
  auto dt = b.var(Val(a.dio[kD_dt]));
  auto i = b.ivar(Int(a.iio[kI_i]));
  auto step = b.ivar(Int(a.iio[kI_step]));
  auto m = b.ivar(Int(a.iio[kI_m]));
  auto ri = a.record_interval;
  auto ri_safe = b.iselect(ri > b.ci(0), ri, b.ci(1));
  StepCtx<B> sc;
  sc.n = n;
  sc.params = a.params;
  sc.lag_ring = a.lag_ring;
  sc.lag_head = a.lag_head;
  sc.ws = a.ws;
  sc.iws = a.iws;
  sc.cfg = a.cfg;
  // Output at chosen times and tstops (kernels/save_at.hpp): ODE runners only, each behind one test of
  // n_save_at / n_tstops per step, so runs without them compute the same bits as before.
  const bool ode = !tr.is_map;
  auto sn = b.ivar(Int(a.iio[kI_save_next]));
  DenseStep<B, Stepper> dense(b, a, stepper, sc, tr.work_counters_at);
  RootEvents<B, Stepper> roots(b, a, dense, sc, has_root);
  TstopClip<B> tstop(b, a);
  auto save_on = a.n_save_at > b.ci(0);

  // Fixed-step plan (unused for maps and adaptive steppers).
  const auto plan = fixed_step_plan(b, a.t_end, a.t_base, a.dt_nominal);
  const auto n_total = plan.n_total;
  const auto has_partial = plan.has_partial;

  // save_at: room for every remaining record, checked once per entry (the buffers do not change during a
  // call), so the step loop has no extra capacity test.
  if (ode) b.if_(save_on, [&] { save_capacity(b, a, st, i.get(), sn.get()); });

  // ---- run start ----
  b.if_(Int(a.iio[kI_resume]) == b.ci(kResumeStart), [&] {
    for_states(b, n, [&](auto k) {
      b.if_(b.land(st.get() == RUN, b.lnot(b.isfinite(a.y_curr[k]))),
            [&] { set_nan(b, a, st, NanWhere::initial_state, k, -1, t.get()); });
    });
    for (int k = 0; k < np; ++k)
      b.if_(b.land(st.get() == RUN, b.lnot(b.isfinite(a.params[k]))),
            [&] { set_nan(b, a, st, NanWhere::param, k, -1, t.get()); });
    b.if_(st.get() == RUN, [&] {
      if (aux_or_stop) update_aux(b, a, t.get(), a.y_curr);  // a pre-phase stop does not exist in the DSL
      b.if_(b.land(ri > b.ci(0), step.get() % ri_safe == b.ci(0)), [&] {
        b.if_(
            i.get() >= a.cap_rec,
            [&] {
              st = S(Status::GROW_REC);
              a.iio[kI_need_rec] = i.get() + b.ci(1);
            },
            [&] {
              guard_recorded_aux(b, a, st, t.get());
              b.if_(st.get() == RUN, [&] {
                write_record(b, a, i.get(), t.get(), a.y_curr, step.get());
                i = i.get() + b.ci(1);
              });
            });
      });
      if (ode)  // save_at times at the start time: the state itself
        b.if_(b.land(st.get() == RUN, save_on), [&] { save_at_start(b, a, st, i, sn, t.get(), step.get()); });
      b.if_(st.get() == RUN, [&] { a.iio[kI_resume] = b.ci(kResumeLoop); });
    });
  });

  // Multistep / BDF steppers keep a history (iws[0] = steps in it): an event action that changes the
  // state or a parameter invalidates it, and the stepper restarts with its one-step start.
  constexpr bool restarts = has_history<Stepper>();
  // Hermite dense output reuses its last f1 as the next f0 only while no event action changed anything
  // (dense_forget).
  const bool hermite = ode && !has_dense<Stepper>() && !model.events.empty();
  // FSAL steppers (rk45) reuse the last stage of an accepted step as the first stage of the next one:
  // f at the same (t, y, params), the same bits, as long as nothing between the steps changes what the
  // rhs reads. An event action changes the state or a parameter (the flag is cleared); lag rings move
  // after every commit and a storage dtype rounds the committed state (no reuse in such models). The
  // flag lives in this call only, so every entry (fresh run, resume, re-entry, restored snapshot)
  // starts by evaluating f.
  FsalFlag<B, has_fsal<Stepper>()> fsal_flag(b);
  const bool fsal = has_fsal<Stepper>() && model.lags.empty() && model.dtype == ir::DType::float64;
  if (fsal) sc.fsal_valid = fsal_flag.get();
  const bool track_acted = restarts || fsal || hermite;
  auto acted = b.ivar(b.ci(0));
  // After events: an action changed the committed state or a parameter.
  auto after_actions = [&] {
    if (!track_acted) return;
    b.if_(acted.get() != b.ci(0), [&] {
      if (restarts) sc.iws[0] = b.ci(0);
      if (fsal) *sc.fsal_valid = b.ci(0);
      if (hermite) {  // dense_ws is used with save_at or root events only
        if (has_root)
          dense_forget(b, a.dense_ws);
        else
          b.if_(save_on, [&] { dense_forget(b, a.dense_ws); });
      }
      acted = b.ci(0);
    });
  };
  auto aux_dirty = b.ivar(b.ci(0));
  auto flush_aux = [&](typename B::Bool when) {
    if (!lazy_aux) return;
    b.if_(b.land(when, aux_dirty.get() != b.ci(0)), [&] {
      update_aux_values(b, a, t.get(), a.y_curr);
      aux_dirty = b.ci(0);
    });
  };

  // Record phase: rphase == (step + 1) % ri_safe, kept incrementally (no integer division per step).
  auto rphase = b.ivar((step.get() + b.ci(1)) % ri_safe);
  const bool map_fast = map_fast_path<B, Hooks>(b, tr.is_map);  // runner_map_fast.hpp

  // ---- the loop ----
  b.while_(
      [&] { return st.get() == RUN; },
      [&] {
        auto more = step.get() < a.step_end;
        if (!tr.is_map) {
          if (tr.adaptive)
            more = b.land(more, t.get() < a.t_end);
          else
            more = b.land(more, step.get() - a.step_base < n_total);
        }
        b.if_(
            b.lnot(more), [&] { st = S(Status::DONE); },
            [&] {
              auto records = b.land(ri > b.ci(0), rphase.get() == b.ci(0));
              b.if_(b.land(records, i.get() >= a.cap_rec), [&] {
                st = S(Status::GROW_REC);
                a.iio[kI_need_rec] = i.get() + b.ci(1);
              });
              if (tr.max_events_per_step > 0) {
                b.if_(b.land(st.get() == RUN, m.get() + b.ci(tr.max_events_per_step) > a.cap_evt), [&] {
                  st = S(Status::GROW_EVT);
                  a.iio[kI_need_evt] = m.get() + b.ci(tr.max_events_per_step);
                });
              }
              b.if_(st.get() == RUN, [&] {
                if (has_pre) {
                  flush_aux(b.ctrue());
                  run_events(b, a, false, t.get(), a.y_curr, st, m, i.get(), step.get(),
                             track_acted ? &acted : nullptr);
                  // An action changed the committed state: restart the history / first stage from it.
                  after_actions();
                }
                b.if_(st.get() == RUN, [&] {
                  if constexpr (Hooks::enabled) {
                    HookArgs<B> h;
                    h.t_prev = t.get();
                    h.t = t.get();
                    h.dt = (tr.adaptive && !tr.is_map) ? dt.get() : a.dt_nominal;
                    h.step = step.get();
                    h.trace_row_ok = b.cfalse();
                    h.trace_row = b.ci(0);
                    hooks.pre(b, a, h);
                  }
                  // the step size
                  auto tc = t.get();
                  auto last = b.land(has_partial, step.get() - a.step_base + b.ci(1) == n_total);
                  Val dt_use = a.dt_nominal;
                  // Adaptive steps end at t_end or at the next tstop (t_end without tstops).
                  Val lim = (ode && tr.adaptive) ? tstop.limit(tc) : Val(a.t_end);
                  Val left = lim - tc;
                  if (!tr.is_map) {
                    if (tr.adaptive) {
                      dt_use = b.select(b.land(dt.get() > left, left > b.c(0.0)), left, dt.get());
                    } else {
                      dt_use = b.select(last, a.t_end - tc, a.dt_nominal);
                      if (has_root) {  // after a cut: the rest of the grid step
                        auto on_grid = tc == a.t_base + b.to_val(step.get() - a.step_base) * a.dt_nominal;
                        Val next =
                            b.select(last, a.t_end,
                                     a.t_base + b.to_val(step.get() + b.ci(1) - a.step_base) * a.dt_nominal);
                        dt_use = b.select(on_grid, dt_use, next - tc);
                        if (restarts) b.if_(b.lnot(on_grid), [&] { acted = b.ci(1); });
                      }
                    }
                  }
                  auto out = make_step_out(b);
                  stepper(b, sc, tc, dt_use, a.y_curr, a.y_prop, out);
                  a.dio[kD_err_est] = out.err.get();
                  b.if_(
                      out.status.get() != b.ci(kOK),
                      [&] {
                        st = out.status.get();
                        a.dio[kD_t_fail] = tc;
                      },
                      [&] {
                        Val t_new = out.t_prop.get();
                        if (tr.is_map || !tr.adaptive) {
                          t_new = a.t_base + b.to_val(step.get() + b.ci(1) - a.step_base) * a.dt_nominal;
                          if (!tr.is_map) t_new = b.select(last, a.t_end, t_new);
                        } else {
                          t_new = tstop.land(tc, left, lim, t_new);
                        }
                        // Storage dtype (docs/simulation.md "dtype"): the proposal is stored rounded; NaN/Inf
                        // survive the rounding for the guards below. float64: nothing is emitted / executed.
                        if (b.model().dtype != ir::DType::float64)
                          for_states(b, n, [&](auto k) {
                            a.y_prop[k] = b.to_storage(typename B::Val(a.y_prop[k]));
                          });
                        // NaN guards: one combined test on the hot path; the slow path finds the first
                        // culprit.
                        auto all_ok = b.land(b.land(all_finite(b, n, a.y_prop), b.isfinite(t_new)),
                                             b.isfinite(out.dt_next.get()));
                        b.if_(b.lnot(all_ok), [&] {
                          for_states(b, n, [&](auto k) {
                            b.if_(b.land(st.get() == RUN, b.lnot(b.isfinite(a.y_prop[k]))),
                                  [&] { set_nan(b, a, st, NanWhere::proposed_state, k, -1, tc); });
                          });
                          b.if_(b.land(st.get() == RUN, b.lnot(b.isfinite(t_new))),
                                [&] { set_nan(b, a, st, NanWhere::proposed_time, -1, -1, tc); });
                          b.if_(b.land(st.get() == RUN, b.lnot(b.isfinite(out.dt_next.get()))),
                                [&] { set_nan(b, a, st, NanWhere::next_dt, -1, -1, tc); });
                        });
                        // Root events (kernels/root_events.hpp): located on this step's dense output; a
                        // firing cuts the step at the event time (t_new), after the save_at records up to it.
                        auto cut = b.ivar(b.ci(0));
                        auto terminal = b.ivar(b.ci(0));
                        if (ode) dense.reset();
                        const Val t_uncut = t_new;
                        if (has_root) {
                          auto t_cut = b.var(t_new);
                          b.if_(st.get() == RUN,
                                [&] { roots.locate(tc, t_new, a.y_curr, a.y_prop, t_cut, cut); });
                          t_new = t_cut.get();
                        }
                        // save_at times in (tc, t_new]: from the interpolant of this step, before
                        // end-phase actions change y_prop.
                        if (ode) {
                          b.if_(save_on, [&] {
                            save_at_step(b, a, dense, st, i, sn, tc, t_new, step.get() + b.ci(1));
                            if (lazy_aux) aux_dirty = b.ci(1);  // aux_values may hold a recorded point's
                          });
                        }
                        if (has_root) {
                          b.if_(b.land(st.get() == RUN, cut.get() != b.ci(0)), [&] {
                            roots.fire(t_new, a.y_prop, st, m, i.get(), step.get() + b.ci(1),
                                       track_acted ? &acted : nullptr, terminal);
                          });
                        }
                        if (has_post) {
                          b.if_(st.get() == RUN, [&] {
                            run_events(b, a, true, t_new, a.y_prop, st, m, i.get(), step.get() + b.ci(1),
                                       track_acted ? &acted : nullptr);
                          });
                        }
                        b.if_(st.get() == RUN, [&] {
                          for_states(b, n, [&](auto k) {
                            a.y_prev[k] = a.y_curr[k];
                            a.y_curr[k] = a.y_prop[k];
                          });
                          // A cut fixed step: the event point is committed, the step count stays (an
                          // event on the grid point itself ends the step as usual).
                          const bool fixed_cut = has_root && !tr.adaptive;
                          auto counted =
                              fixed_cut ? b.lor(cut.get() == b.ci(0), t_new == t_uncut) : b.ctrue();
                          auto records_here = fixed_cut ? b.land(records, counted) : records;
                          auto rp1 = rphase.get() + b.ci(1);
                          if (fixed_cut) {
                            step = step.get() + b.iselect(counted, b.ci(1), b.ci(0));
                            rphase =
                                b.iselect(counted, b.iselect(rp1 == ri_safe, b.ci(0), rp1), rphase.get());
                          } else {
                            step = step.get() + b.ci(1);
                            rphase = b.iselect(rp1 == ri_safe, b.ci(0), rp1);
                          }
                          auto stop = b.ivar(b.ci(0));
                          if (lazy_aux) {
                            aux_dirty = b.ci(1);
                            if (model.stop) stop = eval_stop(b, a, t_new, a.y_curr).get();
                          } else if (aux_or_stop) {
                            auto s2 = update_aux(b, a, t_new, a.y_curr);
                            stop = s2.get();
                          }
                          if (has_root) stop = b.iselect(terminal.get() != b.ci(0), b.ci(1), stop.get());
                          advance_lags(b, a, a.y_curr);
                          [[maybe_unused]] auto overflow = b.ivar(b.ci(0));
                          if constexpr (Hooks::enabled) {
                            auto stride = a.trace_stride;
                            auto stride_safe = b.iselect(stride > b.ci(0), stride, b.ci(1));
                            auto traced = b.land(stride > b.ci(0), step.get() % stride_safe == b.ci(0));
                            Int count = a.an_count[0];
                            HookArgs<B> h;
                            h.t_prev = tc;
                            h.t = t_new;
                            h.dt = dt_use;
                            h.step = step.get();
                            h.trace_row_ok = b.land(traced, count < a.trace_cap);
                            h.trace_row = count;
                            hooks.post(b, a, h);
                            b.if_(traced, [&] {
                              b.if_(
                                  count < a.trace_cap,
                                  [&] {
                                    auto W = b.ci(hooks.trace_width());
                                    a.an_trace[count * W] = t_new;
                                    a.an_trace[count * W + b.ci(1)] = b.to_val(step.get());
                                    a.an_count[0] = count + b.ci(1);
                                  },
                                  [&] {
                                    a.an_count[0] = a.trace_cap + b.ci(1);
                                    overflow = b.ci(1);
                                  });
                            });
                          }
                          t = t_new;
                          if (tr.adaptive && !tr.is_map)
                            dt = out.dt_next.get();
                          else
                            dt = a.dt_nominal;
                          // An event action changed the proposal: the history of this step no longer
                          // matches the committed state, so the next step starts the stepper afresh.
                          after_actions();
                          b.if_(records_here, [&] {
                            flush_aux(a.n_rec_aux > b.ci(0));
                            guard_recorded_aux(b, a, st, t.get());
                            b.if_(st.get() == RUN, [&] {
                              write_record(b, a, i.get(), t.get(), a.y_curr, step.get());
                              i = i.get() + b.ci(1);
                            });
                          });
                          b.if_(st.get() == RUN, [&] {
                            if constexpr (Hooks::enabled) {
                              b.if_(
                                  stop.get() != b.ci(0), [&] { st = S(Status::EARLY_EXIT); },
                                  [&] {
                                    b.if_(
                                        overflow.get() != b.ci(0), [&] { st = S(Status::TRACE_OVERFLOW); },
                                        [&] { b.if_(b.user_break(), [&] { st = S(Status::USER_BREAK); }); });
                                  });
                            } else {
                              b.if_(
                                  stop.get() != b.ci(0), [&] { st = S(Status::EARLY_EXIT); },
                                  [&] { b.if_(b.user_break(), [&] { st = S(Status::USER_BREAK); }); });
                            }
                          });
                        });
                      });
                });
              });
            });
        // Simple maps: the steps up to the next boundary in a tight loop.
        if (map_fast) map_fast_chunk(b, a, stepper, sc, st, t, dt, step, rphase, aux_dirty, lazy_aux);
      });

  flush_aux(b.ctrue());  // t is the time of the last commit here
  a.dio[kD_t] = t.get();
  a.dio[kD_dt] = dt.get();
  a.iio[kI_i] = i.get();
  a.iio[kI_step] = step.get();
  a.iio[kI_m] = m.get();
  a.iio[kI_save_next] = sn.get();
  a.iio[kI_status] = st.get();
}

}  // namespace dynlib::kernels
