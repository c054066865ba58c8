// Multistep and BDF steppers restart their history after an event action changed the state: a driven
// pendulum whose angle is wrapped to (-pi, pi] by an event fires the same events as rk4, and the JIT
// gives the same bits as the interpreter.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <dynlib/dynlib.hpp>
#include <string>
#include <vector>

using namespace dynlib;

namespace {

// Constant torque larger than gravity's maximum: the pendulum rotates, and the angle wraps about
// every two time units. Both an end-phase wrap (on the proposal) and a start-phase one (on the
// committed state) are exercised, one per model.
std::string pendulum(const char* phase) {
  return std::string(R"(inline:
[model]
type = "ode"
[states]
theta = 0.0
omega = 0.0
[params]
damping = 0.5
torque = 1.5
[equations.rhs]
theta = "omega"
omega = "-sin(theta) - damping*omega + torque"
[events.wrap]
phase = ")") +
         phase + R"("
cond = "theta > pi"
action.theta = "theta - 2*pi"
log = ["t", "theta"]
)";
}

std::vector<double> event_times(const Results& r) {
  std::vector<double> t;
  for (const auto& e : r.events()) t.push_back(e.t);
  return t;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

}  // namespace

TEST_CASE("multistep and BDF steppers restart after an event action: same events as rk4",
          "[runner][events]") {
  for (const char* phase : {"end", "start"}) {
    INFO("phase " << phase);
    const std::string model = pendulum(phase);
    auto ref = setup(model, {.stepper = "rk4"});
    REQUIRE(ref.run({.T = 20.0, .dt = 0.002}) == Status::DONE);
    const auto t_ref = event_times(ref.results());
    REQUIRE(t_ref.size() >= 7);
    for (const char* sn : {"ab2", "ab3", "bdf2", "bdf2a", "tr-bdf2a", "bdf"}) {
      INFO("stepper " << sn);
      const bool adaptive = std::string(sn).back() == 'a' || std::string(sn) == "bdf";
      auto sim = setup(model, {.stepper = sn});
      RunOptions o{.T = 20.0, .dt = 0.002};
      if (adaptive) o.stepper = {{"atol", 1e-9}, {"rtol", 1e-7}};
      // bdf takes long high-order steps here; events are seen at step ends, so cap the step.
      if (std::string(sn) == "bdf") o.stepper = {{"atol", 1e-9}, {"rtol", 1e-7}, {"dt_max", 0.01}};
      REQUIRE(sim.run(o) == Status::DONE);
      const auto& r = sim.results();
      const auto t = event_times(r);
      REQUIRE(t.size() == t_ref.size());
      for (std::size_t k = 0; k < t.size(); ++k)
        CHECK(t[k] == Approx(t_ref[k]).margin(adaptive ? 0.02 : 0.005));
      // The angle stays in (-pi, pi] (up to one step past the wrap).
      for (double th : r["theta"]) CHECK(std::abs(th) < M_PI + 0.1);

      if (!jit_available()) continue;
      auto jit = setup(model, {.stepper = sn, .jit = true});
      REQUIRE(jit.run(o) == Status::DONE);
      const auto& rj = jit.results();
      CHECK(same_bits(rj.t(), r.t()));
      CHECK(same_bits(std::vector<double>(rj["theta"].begin(), rj["theta"].end()),
                      std::vector<double>(r["theta"].begin(), r["theta"].end())));
      CHECK(same_bits(std::vector<double>(rj["omega"].begin(), rj["omega"].end()),
                      std::vector<double>(r["omega"].begin(), r["omega"].end())));
      CHECK(same_bits(event_times(rj), t));
    }
  }
}

// rk45 takes the last stage of an accepted step as the next first stage (FSAL) only while nothing
// changed in between. The same pendulum with an extra event that reads a lag (lags switch the reuse
// off, so every step evaluates its first stage) is the reference: the same bits. A reuse after a
// wrap (state) or a torque change (parameter) would differ.
TEST_CASE("rk45 reuses its last stage only while no event action changed anything", "[runner][events]") {
  const std::string torque_event = R"(
[events.kick]
phase = "start"
cond = "t > 3 and torque < 2"
action.torque = "2.25"
)";
  const std::string lag_reader = R"(
[events.never]
cond = "lag_theta(1) > 1e300"
)";
  for (const char* phase : {"end", "start"}) {
    INFO("phase " << phase);
    const std::string model = pendulum(phase) + torque_event;
    for (const bool jit : {false, true}) {
      if (jit && !jit_available()) continue;
      INFO("jit " << jit);
      const RunOptions o{.T = 20.0, .stepper = {{"atol", 1e-9}, {"rtol", 1e-7}}};
      auto sim = setup(model, {.stepper = "rk45", .jit = jit});
      auto ref = setup(model + lag_reader, {.stepper = "rk45", .jit = jit});
      REQUIRE(sim.run(o) == Status::DONE);
      REQUIRE(ref.run(o) == Status::DONE);
      const auto& r = sim.results();
      const auto& rr = ref.results();
      REQUIRE(event_times(r).size() >= 7);
      CHECK(sim.param("torque") == 2.25);
      CHECK(same_bits(r.t(), rr.t()));
      CHECK(same_bits(std::vector<double>(r["theta"].begin(), r["theta"].end()),
                      std::vector<double>(rr["theta"].begin(), rr["theta"].end())));
      CHECK(same_bits(std::vector<double>(r["omega"].begin(), r["omega"].end()),
                      std::vector<double>(rr["omega"].begin(), rr["omega"].end())));
      CHECK(same_bits(event_times(r), event_times(rr)));
    }
  }
}
