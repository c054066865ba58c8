// Work counters of the implicit steppers (rhs evals, Jacobians, LU factorizations) as the host reports
// them: exact counts on a linear model where Newton's iterations are known, the same counts from the
// interpreter and the JIT, counts that add up over a resume, and none for a stepper that does not count.
#include <catch2/catch.hpp>
#include <dynlib/dynlib.hpp>
#include <string>

using namespace dynlib;

namespace {

// x' = -a*x with a = 1: linear, so with the exact Jacobian the first Newton iteration lands on the
// solution (up to rounding) and the second one confirms it: 2 iterations per solve, each 1 f, 1 LU and
// (full Newton) 1 Jacobian.
const char* kLinear =
    "inline: [model]\ntype='ode'\n[states]\nx=1.0\n[params]\na=1.0\n[equations.rhs]\nx='-a*x'\n";

std::vector<bool> jit_modes() {
#if DYNLIB_TEST_HAVE_JIT
  return {false, true};
#else
  return {false};
#endif
}

WorkStats work_of(const std::string& stepper, bool jit, RunOptions o) {
  auto sim = setup(kLinear, {.stepper = stepper, .jit = jit});
  sim.run(o);
  REQUIRE(sim.results().work_stats().has_value());
  return *sim.results().work_stats();
}

}  // namespace

TEST_CASE("work counters: exact counts for a linear model", "[work]") {
  for (bool jit : jit_modes()) {
    INFO("jit " << jit);
    RunOptions o{.T = 1.0, .dt = 0.1};
    o.stepper = StepperSettings{{"jacobian_mode", "external"}};
    // bdf2: f(t_n, y_n) for the predictor + a full Newton solve (2 iterations) per step; 10 steps.
    const auto bdf2 = work_of("bdf2", jit, o);
    CHECK(bdf2.rhs_evals == 10 * 3);
    CHECK(bdf2.jac_evals == 10 * 2);
    CHECK(bdf2.lu_factorizations == 10 * 2);
    // sdirk2: per stage a modified Newton solve (1 f + 1 Jacobian up front, 2 iterations of 1 f + 1 LU),
    // plus k1 = f(stage 1): 7 f, 2 Jacobians, 4 LU per step.
    const auto sdirk2 = work_of("sdirk2", jit, o);
    CHECK(sdirk2.rhs_evals == 10 * 7);
    CHECK(sdirk2.jac_evals == 10 * 2);
    CHECK(sdirk2.lu_factorizations == 10 * 4);
    // Finite differences: the same iterations, each Jacobian costs n = 1 more f.
    o.stepper = StepperSettings{{"jacobian_mode", "internal"}};
    const auto fd = work_of("bdf2", jit, o);
    CHECK(fd.jac_evals == 10 * 2);
    CHECK(fd.lu_factorizations == 10 * 2);
    CHECK(fd.rhs_evals == 10 * 3 + fd.jac_evals);
  }
}

TEST_CASE("work counters: the interpreter and the JIT count the same work", "[work][jit]") {
  for (const char* s : {"sdirk2", "bdf2", "bdf2a", "tr-bdf2a"}) {
    INFO("stepper " << s);
    RunOptions o{.T = 5.0, .dt = 0.01};
    const auto in = work_of(s, false, o);
    CHECK(in.rhs_evals > 0);
    CHECK(in.jac_evals > 0);
    CHECK(in.lu_factorizations >= in.jac_evals);
    for (bool jit : jit_modes()) {
      const auto w = work_of(s, jit, o);
      CHECK(w.rhs_evals == in.rhs_evals);
      CHECK(w.jac_evals == in.jac_evals);
      CHECK(w.lu_factorizations == in.lu_factorizations);
    }
  }
}

TEST_CASE("work counters add up over a resume; steppers that do not count report none", "[work]") {
  RunOptions whole{.T = 1.0, .dt = 0.1};
  whole.stepper = StepperSettings{{"jacobian_mode", "external"}};
  auto sim = setup(kLinear, {.stepper = "bdf2"});
  RunOptions first = whole;
  first.T = 0.5;
  sim.run(first);
  CHECK(sim.results().work_stats()->lu_factorizations == 5 * 2);
  sim.run({.T = 1.0, .resume = true});
  const auto w = *sim.results().work_stats();
  CHECK(w.rhs_evals == 10 * 3);
  CHECK(w.jac_evals == 10 * 2);
  CHECK(w.lu_factorizations == 10 * 2);
  // a fresh run starts from zero
  sim.run(whole);
  CHECK(sim.results().work_stats()->rhs_evals == 10 * 3);

  auto rk4 = setup(kLinear, {.stepper = "rk4"});
  rk4.run({.T = 1.0, .dt = 0.1});
  CHECK_FALSE(rk4.results().work_stats().has_value());
}
