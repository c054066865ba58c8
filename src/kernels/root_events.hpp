// Root events (`[events.NAME] root = "expr"`): zero crossings located inside an accepted ODE step on the
// stepper's continuous extension (docs/simulation.md "Root events").
//
// After every accepted step (tc, y0) -> (t_new, y1) of size h:
//  * each root function g is sampled at the left end (the committed state) and at theta = j/K,
//    j = 1..K (K = kRootSamples) of the interpolant (theta = 1 is y1 itself), so two crossings that lie
//    in different sub-intervals of one step are both seen (the first fires, the step is cut there and
//    the next step finds the second);
//  * a sign change from the last nonzero sample to a sample that is zero or of the other sign, in the
//    event's direction, brackets a root. A left end where the function is exactly zero, or where the
//    event fired (its cooldown flag), takes its reference sign from a probe just after the left end
//    (100 ulps of |t| + |h| later; zero there too: from the first nonzero sample): the event fires only
//    after its function left zero ("must leave zero first"), so a zero at t0 does not fire, and an
//    action that leaves the state on the surface does not fire the same event again and again;
//  * the bracket is solved with the Illinois variant of regula falsi (bisection after kRootIllinoisIters
//    iterations as a guarantee) until it is a few ulps of t wide; the event time is the bracket end on
//    the far side of the crossing (where g is zero or has already changed sign), the event state is the
//    interpolant there;
//  * the earliest root of all events fires; events whose located time is the same (bit for bit) fire
//    too, in declaration order. The step is cut: y1 becomes the event state and t_new the event time,
//    the actions run on it, and the runner commits it as the end of the step.
// The continuous extension is the dense output of kernels/dense_output.hpp, prepared once per step and
// shared with the save_at records (kernels/save_at.hpp DenseStep): the runner locates first, records
// the save_at times up to the event time from the uncut step's interpolant, then fires.
// Scratch (RunnerArgs::scratch from kRootScratchAt): cool[n_root] (1: the event fired at the end of
// the last step), y_s[n] (a sampled state).
#pragma once
#include <limits>
#include <vector>

#include "kernels/events.hpp"
#include "kernels/save_at.hpp"

namespace dynlib::kernels {

constexpr int kRootSamples = 8;
constexpr int kRootIllinoisIters = 40;
constexpr int kRootMaxIters = 110;  // 70 bisections after the Illinois steps: below an ulp of theta
constexpr int kRootScratchAt = 1;   // scratch[0] is left to the runner

inline std::vector<int> root_event_indices(const ir::ModelIR& m) {
  std::vector<int> out;
  for (std::size_t k = 0; k < m.events.size(); ++k)
    if (m.events[k].root) out.push_back(static_cast<int>(k));
  return out;
}

// Scratch doubles the root events need beyond kRootScratchAt (0 without root events).
inline std::int64_t root_scratch_size(const ir::ModelIR& m) {
  const auto nr = static_cast<std::int64_t>(root_event_indices(m).size());
  if (nr == 0 || m.kind != ir::Kind::ode) return 0;
  return nr + static_cast<std::int64_t>(m.n_states());
}

template <class B, class Stepper>
struct RootEvents {
  using Val = typename B::Val;
  using Var = typename B::Var;
  using IVar = typename B::IVar;
  using Int = typename B::Int;
  using Arr = typename B::Arr;

  B& b;
  const RunnerView<B>& a;
  DenseStep<B, Stepper>& dense;
  const StepCtx<B>& sc;
  std::vector<int> roots;  // global indices of the root events, in declaration order
  std::vector<Var> ref, prev_g, prev_th, lo, hi, glo, ghi;
  std::vector<IVar> found;
  std::vector<Var> theta_min;  // one entry when there are root events
  Arr cool{}, ys{}, y1{};
  Val tc{}, t_new{}, h{};

  RootEvents(B& b_, const RunnerView<B>& a_, DenseStep<B, Stepper>& d, const StepCtx<B>& c, bool on)
      : b(b_), a(a_), dense(d), sc(c) {
    if (!on) return;
    roots = root_event_indices(b.model());
    const int nr = static_cast<int>(roots.size());
    for (int r = 0; r < nr; ++r) {
      ref.push_back(b.var(b.c(0.0)));
      prev_g.push_back(b.var(b.c(0.0)));
      prev_th.push_back(b.var(b.c(0.0)));
      lo.push_back(b.var(b.c(0.0)));
      hi.push_back(b.var(b.c(1.0)));
      glo.push_back(b.var(b.c(0.0)));
      ghi.push_back(b.var(b.c(0.0)));
      found.push_back(b.ivar(b.ci(0)));
    }
    theta_min.push_back(b.var(b.c(2.0)));
    cool = b.offset(a.scratch, kRootScratchAt);
    ys = b.offset(a.scratch, kRootScratchAt + nr);
  }

  const ir::Event& event(int r) const {
    return b.model().events[static_cast<std::size_t>(roots[static_cast<std::size_t>(r)])];
  }

  // out = the state at tc + theta*h (theta = 1: y1 exactly).
  void state_at(Val theta, Arr out) {
    const int n = sc.n;
    b.if_(
        theta == b.c(1.0), [&] { for_states(b, n, [&](auto i) { out[i] = Val(y1[i]); }); },
        [&] { dense_output_eval(b, dense.stepper, sc, a.dense_ws, theta, out); });
  }
  Val time_at(Val theta) { return b.select(theta == b.c(1.0), t_new, tc + theta * h); }
  Val g_at(int r, Val t, Arr y) {
    auto ctx = make_ctx(a, t, y, 0);
    return b.eval(event(r).root, ctx);
  }
  Val sign(Val g) { return b.select(g > b.c(0.0), b.c(1.0), b.select(g < b.c(0.0), b.c(-1.0), b.c(0.0))); }

  // Locates the root events of the accepted step (tc_, y0 = committed state) -> (t_new_, y1_ = proposal):
  // on a root, t_cut = the earliest event time and cut = 1. Changes nothing else (y1_ stays).
  void locate(Val tc_, Val t_new_, Arr y0, Arr y1_, Var& t_cut, IVar& cut) {
    tc = tc_;
    t_new = t_new_;
    y1 = y1_;
    h = t_new - tc;
    dense.prepare_once(tc, t_new, y0, y1);
    const int nr = static_cast<int>(roots.size());
    const double eps = std::numeric_limits<double>::epsilon();

    // The probe just after the left end: 100 ulps of (|t| + |h|), at most an eighth of a sub-interval.
    Val th_probe = b.fmin(b.c(100.0 * eps) * (b.fabs(tc) + b.fabs(h)) / b.fabs(h),
                          b.c(0.125 / static_cast<double>(kRootSamples)));
    auto probed = b.ivar(b.ci(0));
    for (int r = 0; r < nr; ++r) {
      Val g0 = g_at(r, tc, y0);
      ref[r] = sign(g0);
      prev_g[r] = g0;
      prev_th[r] = b.c(0.0);
      found[r] = b.ci(0);
      // Zero at the left end, or fired there: the reference sign is the one the function takes right
      // after it (zero again: none yet, the first nonzero sample sets it).
      b.if_(b.lor(Val(cool[r]) != b.c(0.0), g0 == b.c(0.0)), [&] {
        b.if_(probed.get() == b.ci(0), [&] {
          state_at(th_probe, ys);
          probed = b.ci(1);
        });
        Val gp = g_at(r, time_at(th_probe), ys);
        ref[r] = sign(gp);
        prev_g[r] = gp;
        prev_th[r] = th_probe;
      });
    }

    // Scan the samples for the first bracket of each event.
    b.for_(b.ci(1), b.ci(kRootSamples + 1), [&](Int j) {
      Val theta = b.to_val(j) / b.c(static_cast<double>(kRootSamples));
      state_at(theta, ys);
      Val tt = time_at(theta);
      for (int r = 0; r < nr; ++r) {
        const auto dir = event(r).direction;
        b.if_(found[r].get() == b.ci(0), [&] {
          Val g = g_at(r, tt, ys);
          Val rf = ref[r].get();
          auto falls = b.land(rf > b.c(0.0), b.lnot(g > b.c(0.0)));
          auto rises = b.land(rf < b.c(0.0), b.lnot(g < b.c(0.0)));
          auto fires = dir == ir::Direction::up     ? rises
                       : dir == ir::Direction::down ? falls
                                                    : b.lor(falls, rises);
          b.if_(
              fires,
              [&] {
                found[r] = b.ci(1);
                lo[r] = prev_th[r].get();
                glo[r] = prev_g[r].get();
                hi[r] = theta;
                ghi[r] = g;
              },
              [&] { b.if_(g != b.c(0.0), [&] { ref[r] = sign(g); }); });
          prev_g[r] = g;
          prev_th[r] = theta;
        });
      }
    });

    // Solve each bracket: [lo, hi] with g(lo) on the reference side, g(hi) zero or across.
    auto tol_t = b.c(4.0 * eps) * b.fmax(b.fabs(tc), b.fabs(t_new));
    theta_min[0] = b.c(2.0);
    for (int r = 0; r < nr; ++r) {
      b.if_(found[r].get() != b.ci(0), [&] {
        auto it = b.ivar(b.ci(0));
        auto side = b.ivar(b.ci(0));  // 1: lo moved last, 2: hi moved last
        b.while_(
            [&] {
              Val w = hi[r].get() - lo[r].get();
              auto wide = b.land(w * b.fabs(h) > tol_t, w > b.c(4.0 * eps));
              return b.land(b.land(ghi[r].get() != b.c(0.0), wide), it.get() < b.ci(kRootMaxIters));
            },
            [&] {
              Val l = lo[r].get(), u = hi[r].get(), gl = glo[r].get(), gu = ghi[r].get();
              Val mid = l + b.c(0.5) * (u - l);
              Val fal = u - gu * (u - l) / (gu - gl);
              auto inside = b.land(fal > l, fal < u);
              Val c = b.select(b.land(inside, it.get() < b.ci(kRootIllinoisIters)), fal, mid);
              state_at(c, ys);
              Val gc = g_at(r, time_at(c), ys);
              auto same_as_lo =
                  b.lor(b.land(gc > b.c(0.0), gl > b.c(0.0)), b.land(gc < b.c(0.0), gl < b.c(0.0)));
              b.if_(
                  same_as_lo,
                  [&] {
                    lo[r] = c;
                    glo[r] = gc;
                    b.if_(side.get() == b.ci(1), [&] { ghi[r] = ghi[r].get() * b.c(0.5); });
                    side = b.ci(1);
                  },
                  [&] {
                    hi[r] = c;
                    ghi[r] = gc;
                    b.if_(side.get() == b.ci(2), [&] { glo[r] = glo[r].get() * b.c(0.5); });
                    side = b.ci(2);
                  });
              it = it.get() + b.ci(1);
            });
        theta_min[0] = b.fmin(theta_min[0].get(), hi[r].get());
      });
    }
    for (int r = 0; r < nr; ++r) cool[r] = b.c(0.0);
    for (int r = 0; r < nr; ++r)
      b.if_(found[r].get() != b.ci(0), [&] {
        cut = b.ci(1);
        t_cut = time_at(theta_min[0].get());
      });
  }

  // After locate found a root: y1 = the event state at t_e (the cut step's end), then the events located
  // at the earliest time fire on it in declaration order. terminal = 1 if a terminal event reached its
  // count (iio nan_event = its index). `acted` (if given) is set: the stepper's history and FSAL stage
  // belong to the uncut step.
  void fire(Val t_e, Arr y1_, IVar& st, IVar& m, Int i_rec, Int step_seen, IVar* acted, IVar& terminal) {
    const int n = sc.n;
    const int nr = static_cast<int>(roots.size());
    Val th = theta_min[0].get();
    state_at(th, ys);
    for_states(b, n, [&](auto i) { y1_[i] = Val(ys[i]); });
    if (acted) *acted = b.ci(1);
    for (int r = 0; r < nr; ++r) {
      const int k = roots[static_cast<std::size_t>(r)];
      const auto& ev = event(r);
      b.if_(b.land(found[r].get() != b.ci(0), hi[r].get() == th), [&] {
        cool[r] = b.c(1.0);
        b.if_(st.get() == b.ci(kRunning), [&] {
          auto ctx = make_ctx(a, t_e, y1_, 1);
          fire_event(b, a, k, ctx, t_e, y1_, st, m, i_rec, step_seen, nullptr);
          if (ev.terminal > 0)
            b.if_(b.land(st.get() == b.ci(kRunning), Int(a.event_counts[k]) >= b.ci(ev.terminal)), [&] {
              b.if_(terminal.get() == b.ci(0), [&] { a.iio[kI_nan_event] = b.ci(k); });
              terminal = b.ci(1);
            });
        });
      });
    }
  }
};

}  // namespace dynlib::kernels
