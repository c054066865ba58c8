// Stiff test problems (ROBER, HIRES, Van der Pol mu = 1000, OREGO) with the stiff adaptive steppers: steps,
// work counters (rhs / Jacobian / LU, where the stepper keeps them), the error against reference values
// (max over components of |y - ref| / (atol + rtol*|ref|)) and the run time of the compiled runner after
// setup (best of `reps`). The reference values are the usual test-set values at the end times below.
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

namespace {

struct Problem {
  const char* name;
  const char* body;
  double t_end;
  std::vector<double> ref;
};

const std::vector<Problem>& problems() {
  static const std::vector<Problem> p = {
      {"ROBER",
       R"M([states]
y1 = 1.0
y2 = 0.0
y3 = 0.0
[equations.rhs]
y1 = "-0.04*y1 + 1e4*y2*y3"
y2 = "0.04*y1 - 1e4*y2*y3 - 3e7*y2*y2"
y3 = "3e7*y2*y2"
)M",
       40.0,
       {0.7158270687, 9.185534765e-6, 0.2841637457}},
      {"HIRES",
       R"M([states]
y1 = 1.0
y2 = 0.0
y3 = 0.0
y4 = 0.0
y5 = 0.0
y6 = 0.0
y7 = 0.0
y8 = 0.0057
[equations.rhs]
y1 = "-1.71*y1 + 0.43*y2 + 8.32*y3 + 0.0007"
y2 = "1.71*y1 - 8.75*y2"
y3 = "-10.03*y3 + 0.43*y4 + 0.035*y5"
y4 = "8.32*y2 + 1.71*y3 - 1.12*y4"
y5 = "-1.745*y5 + 0.43*y6 + 0.43*y7"
y6 = "-280.0*y6*y8 + 0.69*y4 + 1.71*y5 - 0.43*y6 + 0.69*y7"
y7 = "280.0*y6*y8 - 1.81*y7"
y8 = "-(280.0*y6*y8 - 1.81*y7)"
)M",
       321.8122,
       {7.37131257332567e-4, 1.44248572631618e-4, 5.8887297409676e-5, 1.175651343283149e-3,
        2.38635619883133e-3, 6.238968252742796e-3, 2.849998395185769e-3, 2.850001604814231e-3}},
      {"VDP1000",
       R"M([states]
y1 = 2.0
y2 = 0.0
[params]
mu = 1000.0
[equations.rhs]
y1 = "y2"
y2 = "mu*(1 - y1*y1)*y2 - y1"
)M",
       3000.0,
       {-1.510606936744095, 1.178380000730945e-3}},
      {"OREGO",
       R"M([states]
y1 = 1.0
y2 = 2.0
y3 = 3.0
[equations.rhs]
y1 = "77.27*(y2 + y1*(1 - 8.375e-6*y1 - y2))"
y2 = "(y3 - (1 + y1)*y2)/77.27"
y3 = "0.161*(y1 - y3)"
)M",
       360.0,
       {1.000814870318523, 1228.178521549889, 132.0554942846513}},
  };
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
    const std::string uri = std::string("inline:\n[model]\ntype = \"ode\"\n") + pr.body + "[sim]\n" + tols;
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
