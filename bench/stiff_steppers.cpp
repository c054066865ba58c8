// Stiff test problems (ROBER, HIRES, Van der Pol mu = 1000, OREGO) with the stiff adaptive steppers: steps,
// work counters (rhs / Jacobian / LU, where the stepper keeps them), the error against reference values
// (max over components of |y - ref| / (atol + rtol*|ref|)) and the run time of the compiled runner after
// setup (best of `reps`). The problems and reference values are the tests'
// (tests/problems/stiff_problems.hpp).
//
// Usage: stiff_steppers [tol=1e-8] [reps=3] [steppers=rodas5p,rodas4,bdf2a] [jit=1]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <dynlib/dynlib.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/compiled_model.hpp"
#include "problems/stiff_problems.hpp"

namespace {

// The four problems with their reference values: tests/problems/stiff_problems.hpp.
const std::vector<dynlib::test_problems::StiffProblem>& problems() {
  namespace tp = dynlib::test_problems;
  static const std::vector<tp::StiffProblem> p = {tp::kRober, tp::kHires, tp::kVdp1000, tp::kOrego};
  return p;
}

struct Result {
  int status = 0;
  std::int64_t steps = 0;
  std::vector<double> y;
  std::vector<std::int64_t> iws;
};

// One fresh run over [0, t_end] without records (the minimal host of runner_abi.hpp).
Result run_once(const dynlib::kernels::CompiledModel& cm, double t_end) {
  const auto& m = cm.model();
  const auto& L = cm.layout();
  const auto n = static_cast<std::size_t>(L.n_state);
  std::vector<double> y(m.state_ic), yprev(m.state_ic), p(m.param_vals),
      aux(std::max<std::int64_t>(L.n_aux, 1)), ring(std::max<std::int64_t>(L.lag_ring_size, 1)),
      ws(std::max<std::int64_t>(L.ws_size, 1)), yprop(n), scratch(std::max<std::int64_t>(L.scratch_size, 1)),
      T(1), Y(n), EL(std::max<std::int64_t>(L.log_width, 1)), ET(1);
  std::vector<std::int64_t> head(std::max<std::int64_t>(L.n_lags, 1)),
      iws(std::max<std::int64_t>(L.iws_size, 1)), srec(n), STEP(1), EC(1), EI(1), ES(1);
  cm.seed_lags(y.data(), ring.data(), head.data());
  auto cfg = cm.default_config();
  dynlib::kernels::RunnerArgs a;
  a.t_end = t_end;
  a.step_end = 100000000;
  a.record_interval = 0;
  a.n_state = L.n_state;
  a.dt_nominal = t_end;
  a.y_curr = y.data();
  a.y_prev = yprev.data();
  a.params = p.data();
  a.lag_ring = ring.data();
  a.lag_head = head.data();
  a.aux_values = aux.data();
  a.ws = ws.data();
  a.iws = iws.data();
  a.stepper_config = cfg.data();
  a.n_config = static_cast<std::int64_t>(cfg.size());
  a.y_prop = yprop.data();
  a.scratch = scratch.data();
  a.state_rec_idx = srec.data();
  a.T = T.data();
  a.Y = Y.data();
  a.STEP = STEP.data();
  a.cap_rec = 1;
  a.EVT_CODE = EC.data();
  a.EVT_INDEX = EI.data();
  a.EVT_LOG_DATA = EL.data();
  a.EVT_T = ET.data();
  a.EVT_STEP = ES.data();
  a.cap_evt = 1;
  a.dt = cm.initial_step(0.0, t_end, y.data(), p.data(), cfg.data(), a.n_config, t_end, ring.data(),
                         head.data());
  cm.run(a);
  return {a.status, a.step, y, iws};
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string x; std::getline(ss, x, ',');) out.push_back(x);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const double tol = argc > 1 ? std::atof(argv[1]) : 1e-8;
  const int reps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
  const auto steppers = split(argc > 3 ? argv[3] : "rodas5p,rodas4,bdf2a");
  const bool jit = argc > 4 ? std::atoi(argv[4]) != 0 : true;
  char tols[96];
  std::snprintf(tols, sizeof tols, "atol = %.17g\nrtol = %.17g\n", tol, tol);
  std::printf("tol %g, %s, best of %d runs\n", tol, jit ? "jit" : "interpreter", reps);
  std::printf("%-8s %-8s %-8s %8s %9s %8s %8s %10s %10s\n", "problem", "stepper", "status", "steps", "rhs",
              "jac", "lu", "err/tol", "ms");
  for (const auto& pr : problems()) {
    const std::string uri = std::string(pr.uri) + "[sim]\n" + tols;
    for (const auto& st : steppers) {
      auto fm = dynlib::build(uri, {.stepper = st, .jit = jit, .jit_tiered = false});
      const auto& cm = fm->compiled();
      Result r;
      double best = 1e300;
      for (int k = 0; k < reps; ++k) {
        const auto t0 = std::chrono::steady_clock::now();
        r = run_once(cm, pr.t_end);
        best = std::min(
            best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
      double err = 0.0;
      for (std::size_t i = 0; i < pr.ref.size(); ++i)
        err = std::max(err, std::fabs(r.y[i] - pr.ref[i]) / (tol + tol * std::fabs(pr.ref[i])));
      const int at = cm.stepper().work_counters_at;
      auto counter = [&](int k) {
        return at >= 0 ? std::to_string(r.iws[static_cast<std::size_t>(at + k)]) : "-";
      };
      std::printf("%-8s %-8s %-8s %8lld %9s %8s %8s %10.3g %10.3f\n", pr.name, st.c_str(),
                  dynlib::status_name(static_cast<dynlib::Status>(r.status)), static_cast<long long>(r.steps),
                  counter(0).c_str(), counter(1).c_str(), counter(2).c_str(), err, best);
    }
  }
  return 0;
}
