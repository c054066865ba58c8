// Root events (`root = "expr"`): zero crossings located on the dense output of each step, in both
// backends with the same bits; the step is cut at the event.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <dynlib/dynlib.hpp>
#include <string>
#include <vector>

using namespace dynlib;
using Catch::Matchers::Contains;

namespace {

std::vector<bool> jit_modes() {
#if DYNLIB_TEST_HAVE_JIT
  return {false, true};
#else
  return {false};
#endif
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

std::vector<double> times_of(const Results& r, const std::string& name) {
  std::vector<double> out;
  for (const auto& e : r.events().of(name)) out.push_back(e.t);
  return out;
}

// A ball dropped from y = 1 bounces with restitution r: v -> -r*v at each impact.
std::string ball(const std::string& stepper, const std::string& extra = "", const std::string& dir = "down") {
  return R"(inline:
[model]
type = "ode"
[states]
y = 1.0
v = 0.0
[params]
g = 9.81
r = 0.9
[equations.rhs]
y = "v"
v = "-g"
[events.impact]
root = "y"
direction = ")" +
         dir + R"("
action = "v = -r*v"
log = ["t", "v"]
)" + extra +
         R"(
[sim]
t_end = 8.5
dt = 0.01
atol = 1e-12
rtol = 1e-12
stepper = ")" +
         stepper + "\"\n";
}

// Impact times of the ball in closed form.
std::vector<double> impact_times(int count) {
  const double g = 9.81, r = 0.9;
  double t = std::sqrt(2.0 / g), v = std::sqrt(2.0 * g);
  std::vector<double> out{t};
  for (int k = 1; k < count; ++k) {
    v *= r;
    t += 2.0 * v / g;
    out.push_back(t);
  }
  return out;
}

// Runs a model in each backend; the results must agree bit for bit. Returns the interpreter's.
Sim run_both(const std::string& model, const RunOptions& o = {}, Status want = Status::DONE) {
  std::vector<Sim> sims;
  for (bool jit : jit_modes()) {
    INFO("jit " << jit);
    sims.push_back(setup(model, {.jit = jit}));
    REQUIRE(sims.back().run(o) == want);
  }
  for (std::size_t k = 1; k < sims.size(); ++k) {
    const auto& a = sims[0].results();
    const auto& b = sims[k].results();
    CHECK(same_bits(a.t(), b.t()));
    for (const auto& s : a.state_names()) {
      const auto x = a[s], y = b[s];
      CHECK(same_bits({x.begin(), x.end()}, {y.begin(), y.end()}));
    }
    REQUIRE(a.events().size() == b.events().size());
    for (std::size_t i = 0; i < a.events().size(); ++i) {
      CHECK(std::memcmp(&a.events()[i].t, &b.events()[i].t, sizeof(double)) == 0);
      CHECK(a.events()[i].step == b.events()[i].step);
    }
    CHECK(same_bits(sims[0].state_vector(), sims[k].state_vector()));
    CHECK(a.stopped_by() == b.stopped_by());
  }
  return std::move(sims[0]);
}

}  // namespace

TEST_CASE("root events: bouncing ball impacts match the closed form", "[events][root]") {
  const auto exact = impact_times(50);
  // vern9 has no own interpolant: the runner's cubic Hermite one, exact on the ball's parabolas.
  for (const char* stepper : {"rk45", "dop853", "vern9"}) {
    INFO("stepper " << stepper);
    auto sim = run_both(ball(stepper), {.T = exact.back() + 0.002});
    const auto& R = sim.results();
    const auto t = times_of(R, "impact");
    REQUIRE(t.size() == 50);
    double worst = 0.0;
    for (std::size_t k = 0; k < 50; ++k) worst = std::max(worst, std::fabs(t[k] - exact[k]));
    CHECK(worst < 1e-9);
    // never below the floor: not at a step end, not at an event
    double lowest = 0.0;
    for (double y : R["y"]) lowest = std::min(lowest, y);
    CHECK(lowest > -1e-12);
  }
}

TEST_CASE("root events: an action that leaves the state on the surface does not fire again",
          "[events][root]") {
  // direction = either: right after an impact y is (about) zero and rising; only the impacts count.
  auto down = run_both(ball("rk45"), {.T = 5.0});
  auto either = run_both(ball("rk45", "", "either"), {.T = 5.0});
  CHECK(either.results().event_count("impact") == down.results().event_count("impact"));
  CHECK(down.results().event_count("impact") == 8);
}

TEST_CASE("root events: harmonic oscillator zero crossings over 100 periods", "[events][root]") {
  const std::string model = R"(inline:
[model]
type = "ode"
[states]
x = 1.0
u = 0.0
[equations.rhs]
x = "u"
u = "-x"
[events.zero]
root = "x"
log = ["t"]
[sim]
t_end = 628.3185307179587
atol = 1e-13
rtol = 1e-13
stepper = "dop853"
)";
  auto sim = run_both(model, {.record = false});
  const auto t = times_of(sim.results(), "zero");
  REQUIRE(t.size() == 200);
  const double pi = 3.14159265358979323846;
  double worst = 0.0;
  for (std::size_t k = 0; k < t.size(); ++k)
    worst = std::max(worst, std::fabs(t[k] - (pi / 2 + static_cast<double>(k) * pi)));
  CHECK(worst < 1e-10);
}

namespace {
// Leaky integrate-and-fire: v' = (I - v)/tau, spike and reset at v = v_th. Period tau*ln(I/(I - v_th)).
std::string lif(const std::string& stepper, double dt) {
  return R"(inline:
[model]
type = "ode"
[states]
v = 0.0
[params]
I = 2.0
tau = 1.0
v_th = 1.0
[equations.rhs]
v = "(I - v)/tau"
[events.spike]
root = "v - v_th"
direction = "up"
action = "v = 0"
log = ["t"]
[sim]
t_end = 5.0
dt = )" + std::to_string(dt) +
         "\nstepper = \"" + stepper + "\"\n";
}

double lif_error(const std::string& stepper, double dt) {
  auto sim = run_both(lif(stepper, dt));
  const auto t = times_of(sim.results(), "spike");
  REQUIRE(t.size() == 7);  // 7 ln 2 = 4.85
  const double period = std::log(2.0);
  double worst = 0.0;
  for (std::size_t k = 0; k < t.size(); ++k)
    worst = std::max(worst, std::fabs(t[k] - static_cast<double>(k + 1) * period));
  return worst;
}
}  // namespace

TEST_CASE("root events: integrate-and-fire spike times converge at the stepper's order", "[events][root]") {
  for (auto [stepper, order] : {std::pair{"rk4", 4}, std::pair{"rk2", 2}}) {
    INFO("stepper " << stepper);
    const double e1 = lif_error(stepper, 0.1), e2 = lif_error(stepper, 0.05), e3 = lif_error(stepper, 0.025);
    INFO("errors " << e1 << " " << e2 << " " << e3);
    CHECK(e3 < e2);
    const double observed = std::log2(e2 / e3);
    CHECK(observed > order - 0.5);
    CHECK(observed < order + 0.7);
    CHECK(e3 < (order == 4 ? 1e-6 : 1e-3));
  }
}

TEST_CASE("root events: a cut fixed step keeps the grid", "[events][root]") {
  auto sim = run_both(lif("rk4", 0.1));
  const auto& R = sim.results();
  REQUIRE(R.size() == 51);  // t0 and the 50 grid steps; the event points are not records
  for (std::size_t k = 0; k < R.size(); ++k) CHECK(R.t()[k] == 0.0 + static_cast<double>(k) * 0.1);
  CHECK(sim.step_count() == 50);
  CHECK(sim.t() == 5.0);
}

namespace {
const char* kLine = R"M(inline:
[model]
type = "ode"
[states]
x = 0.0
[equations.rhs]
x = "1"
[events.twice]
root = "(x - 1.2)*(x - 1.7)"
log = ["t"]
[events.a]
root = "x - 2.5"
log = ["t", "x"]
[events.b]
root = "2*x - 5"
action = "x = x + 0.25"
log = ["t", "x"]
[events.at_start]
root = "x"
log = ["t"]
[sim]
t_end = 4.0
dt = 1.0
stepper = "rk4"
)M";
}

TEST_CASE("root events: two crossings in one step, simultaneous events, an event at t0", "[events][root]") {
  auto sim = run_both(kLine);
  const auto& R = sim.results();
  // two crossings inside the step [1, 2] are both found
  const auto t = times_of(R, "twice");
  REQUIRE(t.size() == 2);
  CHECK(t[0] == Approx(1.2).margin(1e-14));
  CHECK(t[1] == Approx(1.7).margin(1e-14));
  // a and b cross at the same time: both fire there, in declaration order (b's action runs after a's log)
  const auto& ev = R.events();
  std::vector<std::string> order;
  for (const auto& e : ev)
    if (e.name == "a" || e.name == "b") order.push_back(e.name);
  CHECK(order == std::vector<std::string>{"a", "b"});
  const auto a = R.events().of("a"), b = R.events().of("b");
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(a[0].t == b[0].t);
  CHECK(a[0].t == Approx(2.5).margin(1e-14));
  CHECK(a[0]["x"] == Approx(2.5).margin(1e-14));
  CHECK(b[0]["x"] == Approx(2.75).margin(1e-14));
  // zero at t0: does not fire there, and x never comes back to 0
  CHECK(R.event_count("at_start") == 0);
  CHECK(sim.state("x") == Approx(4.25).margin(1e-12));
}

TEST_CASE("root events: terminal events end the run with their name", "[events][root]") {
  const auto exact = impact_times(3);
  {
    auto sim = run_both(ball("rk45", "terminal = true\n"), {}, Status::EARLY_EXIT);
    CHECK(sim.results().stopped_by() == "impact");
    CHECK(sim.results().event_count("impact") == 1);
    CHECK(sim.t() == Approx(exact[0]).margin(1e-12));
    CHECK(sim.results().t().back() == sim.t());  // the event point is the last record
  }
  {
    auto sim = run_both(ball("dop853", "terminal = 3\n"), {}, Status::EARLY_EXIT);
    CHECK(sim.results().stopped_by() == "impact");
    CHECK(sim.results().event_count("impact") == 3);
    CHECK(sim.t() == Approx(exact[2]).margin(1e-12));
  }
  {  // fixed step, the impact inside the final partial step
    auto sim = run_both(ball("rk4", "terminal = true\n"), {.T = exact[0] + 0.004}, Status::EARLY_EXIT);
    CHECK(sim.results().stopped_by() == "impact");
    CHECK(sim.t() == Approx(exact[0]).margin(1e-9));
  }
  {  // not reached: DONE, nothing named
    auto sim = run_both(ball("rk45", "terminal = 3\n"), {.T = 1.5});
    CHECK(sim.results().stopped_by().empty());
    CHECK(sim.results().event_count("impact") == 2);
  }
}

TEST_CASE("root events: existing cond events keep their step-boundary meaning", "[events][root]") {
  // a cond event fires at the first step boundary where it holds: the cut at 0.25 is one, and the
  // condition x >= 0.27 holds first at the end of the rest of that grid step, 0.3
  const std::string model = R"(inline:
[model]
type = "ode"
[states]
x = 0.0
[equations.rhs]
x = "1"
[events.c]
cond = "x >= 0.27"
action = "x = -10"
log = ["t"]
[events.r]
root = "x - 0.25"
direction = "up"
log = ["t"]
[sim]
t_end = 1.0
dt = 0.1
stepper = "rk4"
)";
  auto sim = run_both(model);
  const auto c = times_of(sim.results(), "c"), r = times_of(sim.results(), "r");
  REQUIRE(r.size() == 1);
  REQUIRE(c.size() == 1);
  CHECK(r[0] == Approx(0.25).margin(1e-14));
  CHECK(c[0] == Approx(0.3).margin(1e-14));  // the next grid point after the cut
}

TEST_CASE("root events: model errors are located and say what is allowed", "[events][root][errors]") {
  const std::string head = "inline:\n[model]\ntype = 'ode'\n[states]\nx = 1.0\n[equations.rhs]\nx = '-x'\n";
  auto err = [&](const std::string& ev) -> std::string {
    try {
      (void)load_model(head + ev);
    } catch (const ModelLoadError& e) {
      return e.what();
    }
    return "no error";
  };
  CHECK_THAT(err("[events.e]\nroot = 'x'\ncond = 'x > 1'\n"),
             Contains("[events.e] has both 'cond' and 'root'") && Contains(":8:"));
  CHECK_THAT(
      err("[events.e]\nroot = 'x'\ndirection = 'rising'\n"),
      Contains("[events.e].direction must be 'up', 'down' or 'either', got 'rising'") && Contains(":9:"));
  CHECK_THAT(err("[events.e]\nroot = 'x'\ndirection = 1\n"), Contains("got int"));
  CHECK_THAT(
      err("[events.e]\nroot = 'x'\nterminal = 0\n"),
      Contains("[events.e].terminal must be true, false or a positive integer n") && Contains("got 0"));
  CHECK_THAT(err("[events.e]\nroot = 'x'\nterminal = 'yes'\n"), Contains("got str"));
  CHECK_THAT(err("[events.e]\nroot = ''\n"), Contains("[events.e].root must be a non-empty string"));
  CHECK_THAT(err("[events.e]\nroot = 'x +'\n"), Contains("[events.e].root"));
  CHECK_THAT(err("[events.e]\nroot = 'y'\n"), Contains("y"));
  CHECK_THAT(err("[events.e]\nroot = 'x'\nphase = 'end'\n"),
             Contains("[events.e].phase applies only to 'cond'"));
  CHECK_THAT(err("[events.e]\ncond = 'x > 1'\nterminal = true\n"),
             Contains("[events.e].terminal applies only to 'root' events"));
  CHECK_THAT(err("[events.e]\ncond = 'x > 1'\ndirection = 'up'\n"),
             Contains("[events.e].direction applies only to 'root' events"));
  CHECK(err("[events.e]\nroot = 'x - 0.5'\ndirection = 'down'\nterminal = 2\n") == "no error");
  const std::string map = "inline:\n[model]\ntype = 'map'\n[states]\nx = 1.0\n[equations.rhs]\nx = '0.5*x'\n";
  try {
    (void)load_model(map + "[events.e]\nroot = 'x - 0.5'\n");
    FAIL("a root event in a map loaded");
  } catch (const ModelLoadError& e) {
    CHECK_THAT(std::string(e.what()), Contains("[events.e].root is only supported for ODE models"));
  }
}

TEST_CASE("root events: mods add and replace them, the IR and hash carry them", "[events][root][mods]") {
  const std::string base =
      "inline:\n[model]\ntype = 'ode'\n[states]\nx = 1.0\n[equations.rhs]\nx = '-x'\n"
      "[events.e]\ncond = 'x < 0.5'\n";
  auto plain = load_model(base);
  auto replaced =
      load_model(base, {.mods = {"inline:\n[mod]\nname = 'm'\n[mod.replace.events.e]\nroot = 'x - 0.5'\n"
                                 "direction = 'down'\nterminal = 2\n"}});
  REQUIRE(replaced->events.size() == 1);
  CHECK(replaced->events[0].root);
  CHECK(!replaced->events[0].cond);
  CHECK(replaced->events[0].direction == ir::Direction::down);
  CHECK(replaced->events[0].terminal == 2);
  CHECK(plain->hash != replaced->hash);
  auto added =
      load_model(base, {.mods = {"inline:\n[mod]\nname = 'm'\n[mod.add.events.f]\nroot = 'x - 0.5'\n"}});
  REQUIRE(added->events.size() == 2);
  CHECK(added->events[1].direction == ir::Direction::either);
  CHECK(added->events[1].terminal == 0);
  auto up = load_model(base, {.mods = {"inline:\n[mod]\nname = 'm'\n[mod.add.events.f]\nroot = 'x - 0.5'\n"
                                       "direction = 'up'\n"}});
  CHECK(up->hash != added->hash);
}

TEST_CASE(
    "root events with save_at: records before an event come from the uncut step, after it from the "
    "trajectory after the action",
    "[events][root][save_at]") {
  // The ball's height in closed form between impacts, sampled on a grid through three impacts.
  const auto impacts = impact_times(3);
  std::vector<double> grid;
  for (int k = 0; k <= 200; ++k) grid.push_back(0.01 * k);
  auto sim = run_both(ball("dop853"), {.T = 2.0, .save_at = grid});
  const auto& R = sim.results();
  REQUIRE(R.size() == grid.size());
  const double g = 9.81, r = 0.9;
  double worst = 0.0;
  for (std::size_t k = 0; k < grid.size(); ++k) {
    const double t = grid[k];
    double y = 1.0 - 0.5 * g * t * t;  // before the first impact
    double v0 = std::sqrt(2.0 * g);
    for (std::size_t j = 0; j < impacts.size(); ++j) {
      if (t < impacts[j]) break;
      v0 = (j == 0 ? std::sqrt(2.0 * g) : v0) * r;
      const double s = t - impacts[j];
      y = v0 * s - 0.5 * g * s * s;
    }
    worst = std::max(worst, std::fabs(R["y"][k] - y));
  }
  CHECK(worst < 1e-9);
}

TEST_CASE("root events: an event exactly on a grid point ends that step as usual", "[events][root]") {
  const std::string model = R"(inline:
[model]
type = "ode"
[states]
x = 0.0
[equations.rhs]
x = "1"
[events.half]
root = "x - 0.5"
log = ["t"]
[sim]
t_end = 1.0
dt = 0.25
stepper = "rk4"
)";
  auto sim = run_both(model);
  const auto t = times_of(sim.results(), "half");
  REQUIRE(t.size() == 1);
  CHECK(t[0] == 0.5);
  CHECK(sim.step_count() == 4);
  CHECK(sim.results().t() == std::vector<double>{0.0, 0.25, 0.5, 0.75, 1.0});
}

TEST_CASE("root events: after a bounce the next impact is found even inside one large step",
          "[events][root]") {
  // The solution is a parabola: rk45's error estimate is ~0 and its steps grow large. Right after an
  // impact h is zero; the side h leaves to (up) must come from just after the impact, else the next
  // impact, inside the first eighth of a big step, is missed and the ball falls through the floor.
  const std::string model = R"(inline:
[model]
type = "ode"
[states]
h = 10.0
v = 0.0
[params]
g = 9.81
restitution = 0.8
[equations.rhs]
h = "v"
v = "-g"
[events.impact]
root = "h"
direction = "down"
terminal = 10
action = "v = -restitution*v"
[sim]
t_end = 30.0
stepper = "rk45"
atol = 1e-10
rtol = 1e-10
)";
  auto sim = run_both(model, {.record = false}, Status::EARLY_EXIT);
  const double g = 9.81, r = 0.8, v0 = std::sqrt(2.0 * g * 10.0);
  double t10 = v0 / g, v = v0;
  for (int k = 1; k < 10; ++k) {
    v *= r;
    t10 += 2.0 * v / g;
  }
  CHECK(sim.results().event_count("impact") == 10);
  CHECK(sim.t() == Approx(t10).margin(1e-9));
  CHECK(std::fabs(sim.state("h")) < 1e-9);
}
