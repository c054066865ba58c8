// The runner's inner loop for simple maps (kernels/runner_map_fast.hpp) gives the same bits and the same
// stops as the general loop. The reference is the same map with an event that never fires: events keep
// a map on the general loop for every step, and the event changes no value. Built twice: for the
// interpreter and (DYNLIB_TEST_JIT=1) for the JIT, which must also equal the interpreter.
#include <catch2/catch.hpp>
#include <cstring>
#include <dynlib/dynlib.hpp>
#include <string>
#include <vector>

#ifndef DYNLIB_TEST_JIT
#define DYNLIB_TEST_JIT 0
#endif

namespace {

using dynlib::Sim;
using dynlib::Status;

constexpr bool kJit = DYNLIB_TEST_JIT != 0;

// A map with `body` as its states/params/equations; with `general`, an event that never fires.
std::string map_model(const std::string& body, bool general) {
  std::string m = "inline:\n[model]\ntype = \"map\"\n" + body;
  if (general) m += "\n[events.never]\ncond = \"t < -1e300\"\n";
  return m;
}

const std::string kLogistic = R"M(
[states]
x = 0.1
[params]
r = 3.9
[aux]
q = "x*(1 - x)"
[equations.rhs]
x = "r * x * (1 - x)"
)M";

const std::string kHenon = R"M(
[states]
x = 0.0
y = 0.0
[params]
a = 1.4
b = 0.3
[equations.rhs]
x = "1 - a*x**2 + y"
y = "b*x"
)M";

// Doubles every iteration: x = 2^(k - 600) overflows to inf at iteration 1624 (mid-chunk).
const std::string kDoubling = R"M(
[states]
x = 2.409919865102884e-181
u = 1.0
[equations.rhs]
x = "2*x"
u = "u + t"
)M";

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}
bool same_bits(std::span<const double> a, std::span<const double> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

Sim make(const std::string& body, bool general, bool jit = kJit) {
  auto sim = dynlib::setup(map_model(body, general), {.jit = jit});
  if (jit) sim.model().wait_optimized();
  return sim;
}

// Everything a run leaves: records (t, step, states, aux), final t/step/state/aux, status.
void check_same_run(Sim& a, Sim& b) {
  CHECK(a.status() == b.status());
  CHECK(a.step_count() == b.step_count());
  const double ta = a.t(), tb = b.t();
  CHECK(std::memcmp(&ta, &tb, sizeof(double)) == 0);
  CHECK(same_bits(a.state_vector(), b.state_vector()));
  const auto& ra = a.results();
  const auto& rb = b.results();
  REQUIRE(ra.size() == rb.size());
  CHECK(same_bits(ra.t(), rb.t()));
  CHECK(ra.step() == rb.step());
  for (const auto& s : ra.state_names()) CHECK(same_bits(ra[s], rb[s]));
  for (const auto& s : ra.aux_names()) CHECK(same_bits(ra[s], rb[s]));
}

}  // namespace

TEST_CASE("map inner loop == general loop: record intervals, transient, chunk boundaries", "[runner][maps]") {
  struct Case {
    std::int64_t N, interval;
    double transient;
  };
  for (const auto* body : {&kLogistic, &kHenon}) {
    for (const auto& c :
         {Case{5000, 0, 0}, Case{5000, 1, 0}, Case{5000, 7, 0}, Case{5000, 1024, 0}, Case{5000, 1025, 0},
          Case{4097, 3000, 0}, Case{3000, 5, 1500}, Case{3000, 0, 2049}, Case{1, 1, 0}, Case{0, 1, 0}}) {
      INFO("N=" << c.N << " interval=" << c.interval << " transient=" << c.transient);
      auto fast = make(*body, false);
      auto general = make(*body, true, false);
      dynlib::RunOptions o;
      o.N = c.N;
      if (c.interval == 0)
        o.record = false;
      else
        o.record_interval = c.interval;
      if (c.transient > 0) o.transient = c.transient;
      if (body == &kHenon) o.record_vars = std::vector<std::string>{"x", "y"};
      if (body == &kLogistic) o.record_vars = std::vector<std::string>{"x", "aux.q"};
      CHECK(fast.run(o) == Status::DONE);
      CHECK(general.run(o) == Status::DONE);
      check_same_run(fast, general);
    }
  }
}

TEST_CASE("map inner loop: resume in pieces that end inside a chunk == one run", "[runner][maps]") {
  auto whole = make(kHenon, false);
  REQUIRE(whole.run({.N = 7000, .record_interval = 9}) == Status::DONE);
  auto pieces = make(kHenon, false);
  REQUIRE(pieces.run({.N = 1000, .record_interval = 9}) == Status::DONE);
  for (std::int64_t n : {1024, 1025, 2050, 3333, 7000})
    REQUIRE(pieces.run({.N = n, .record_interval = 9, .resume = true}) == Status::DONE);
  CHECK(same_bits(whole.state_vector(), pieces.state_vector()));
  CHECK(whole.step_count() == pieces.step_count());
  CHECK(whole.t() == pieces.t());
}

TEST_CASE("map inner loop: overflow mid-chunk stops at the same step with the same report",
          "[runner][maps]") {
  for (std::int64_t interval : {0, 1, 100}) {
    INFO("interval " << interval);
    auto fast = make(kDoubling, false);
    auto general = make(kDoubling, true, false);
    dynlib::RunOptions o;
    o.N = 5000;
    if (interval == 0)
      o.record = false;
    else
      o.record_interval = interval;
    std::string ef, eg;
    try {
      fast.run(o);
    } catch (const dynlib::SimulationError& e) {
      ef = e.what();
    }
    try {
      general.run(o);
    } catch (const dynlib::SimulationError& e) {
      eg = e.what();
    }
    // The report names the step and time of the failure and the last committed state (the session
    // itself is left as before the run).
    CHECK_THAT(ef, Catch::Matchers::Contains("NAN_DETECTED"));
    CHECK_THAT(ef, Catch::Matchers::Contains("step=1623"));  // 2^-600 * 2^1624 overflows
    CHECK_THAT(ef, Catch::Matchers::Contains("x=8.9884656743115795e+307"));
    CHECK(ef == eg);
  }
}

TEST_CASE("map inner loop: a user break stops a long run, resuming gives the same bits", "[runner][maps]") {
  auto sim = make(kLogistic, false);
  sim.request_break();
  CHECK(sim.run({.N = 100000, .record = false}) == Status::USER_BREAK);
  CHECK(sim.step_count() >= 1);
  CHECK(sim.step_count() <= 1 + 1024);  // the flag is read at least once per chunk
  CHECK(sim.run({.N = 100000, .record = false, .resume = true}) == Status::DONE);
  auto whole = make(kLogistic, false);
  CHECK(whole.run({.N = 100000, .record = false}) == Status::DONE);
  CHECK(same_bits(whole.state_vector(), sim.state_vector()));
}

#if DYNLIB_TEST_JIT
TEST_CASE("map inner loop: JIT == interpreter, bit for bit", "[runner][maps][jit]") {
  for (const auto* body : {&kLogistic, &kHenon}) {
    for (std::int64_t interval : {0, 1, 13, 2000}) {
      INFO("interval " << interval);
      auto jit = make(*body, false, true);
      auto interp = make(*body, false, false);
      dynlib::RunOptions o;
      o.N = 6000;
      if (interval == 0)
        o.record = false;
      else
        o.record_interval = interval;
      CHECK(jit.run(o) == Status::DONE);
      CHECK(interp.run(o) == Status::DONE);
      check_same_run(jit, interp);
    }
  }
}
#endif
