// Batch runs and sweeps (include/dynlib/batch.hpp): identical to sequential Sim runs for any thread
// count; 1-D and 2-D sweeps with final states, recorded series and observer outputs; CSV.
#include <catch2/catch.hpp>
#include <cmath>
#include <dynlib/dynlib.hpp>
#include <filesystem>
#include <fstream>
#include <string>

using namespace dynlib;
using Catch::Matchers::Contains;

TEST_CASE("batch results are identical to sequential Sim runs, for 1..4 threads", "[batch]") {
  auto fm = build("builtin://ode/lorenz", {.stepper = "rk4"});
  std::vector<BatchItem> items;
  for (int i = 0; i < 24; ++i) items.push_back({.ic = {{"x", 1.0 + 0.1 * i}}, .params = {{"rho", 20.0 + i}}});
  const BatchOptions opt{.T = 5.0,
                         .dt = 0.01,
                         .transient = 1.0,
                         .record = true,
                         .record_interval = 10,
                         .observers = {lyapunov_mle({.trace_stride = 0})}};
  std::vector<BatchResults> outs;
  for (unsigned th : {1u, 2u, 4u}) {
    BatchOptions o = opt;
    o.threads = th;
    outs.push_back(run_batch(fm, items, o));
    CHECK(outs.back().threads == th);
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    Sim sim(fm);
    sim.run({.T = 5.0,
             .dt = 0.01,
             .record_interval = 10,
             .transient = 1.0,
             .ic = items[i].ic,
             .params = items[i].params,
             .observers = {lyapunov_mle({.trace_stride = 0})}});
    const auto y = sim.state_vector();
    const double mle = sim.results().observer("lyapunov_mle")["mle"];
    for (const auto& out : outs) {
      const auto& r = out[i];
      REQUIRE(r.ok());
      CHECK(r.final_state == y);
      CHECK(r.observers.at(0)["mle"] == mle);
      CHECK(r.t == sim.results().t());
      CHECK(r.series.at(2) == std::vector<double>(sim.results()["z"].begin(), sim.results()["z"].end()));
      CHECK(r.params[1] == 20.0 + static_cast<double>(i));
    }
  }
}

TEST_CASE("batch: default thread count and errors", "[batch]") {
  auto fm = build("builtin://ode/lorenz", {.stepper = "rk4"});
  auto out = run_batch(fm, {{}, {}, {}}, {.T = 0.1, .dt = 0.01});
  CHECK(out.size() == 3);
  CHECK(out.threads >= 1);
  CHECK(out[0].final_state == out[2].final_state);
  CHECK_THROWS_AS(run_batch(fm, {{.ic = {{"q", 1.0}}}}, {.T = 0.1}), ArgumentError);
  auto ad = build("builtin://ode/lorenz", {.stepper = "rk45"});
  CHECK_THROWS_WITH(run_batch(ad, {{}}, {.T = 0.1, .observers = {lyapunov_mle({.trace_stride = 0})}}),
                    Contains("Observers need a fixed-step stepper; stepper 'rk45' is adaptive"));
  // a failing run is reported in its own slot, the others complete
  auto blow = build(R"(inline:
[model]
type = "ode"
[states]
x = 1.0
[params]
a = 1.0
[equations.rhs]
x = "a*x*x"
)",
                    {.stepper = "rk4"});
  auto r = run_batch(blow, {{.params = {{"a", 0.0}}}, {.params = {{"a", 100.0}}}},
                     {.T = 10.0, .dt = 0.01, .threads = 2});
  CHECK(r[0].ok());
  CHECK_FALSE(r[1].ok());
  CHECK_THAT(r[1].error, Contains("NAN_DETECTED"));
}

TEST_CASE("sweeps with adaptive steppers equal single Sim runs point by point", "[batch][sweep]") {
  struct Case {
    const char* uri;
    const char* stepper;
    const char* param;
    double from, to;
  };
  for (const Case c : {Case{"builtin://ode/lorenz", "rk45", "rho", 20.0, 30.0},
                       Case{"builtin://ode/vanderpol", "bdf", "mu", 1.0, 50.0},
                       Case{"builtin://ode/vanderpol", "tsit5", "mu", 0.5, 2.0},
                       Case{"builtin://ode/lorenz", "vern9", "rho", 20.0, 30.0}}) {
    INFO(c.stepper);
    auto fm = build(c.uri, {.stepper = c.stepper});
    const StepperSettings settings = {{"rtol", 1e-6}, {"atol", 1e-8}};
    BatchOptions o{.T = 3.0, .record_last = 5, .stepper = settings, .threads = 2};
    const auto sw = sweep(fm, {SweepAxis::linspace(c.param, c.from, c.to, 4)}, o);
    REQUIRE(sw.nx() == 4);
    for (std::size_t i = 0; i < sw.nx(); ++i) {
      Sim sim(fm);
      const Status st = sim.run({.T = 3.0, .params = {{c.param, sw.axes[0].values[i]}}, .stepper = settings});
      const auto& r = sw.at(i);
      REQUIRE(r.ok());
      CHECK(r.status == st);
      CHECK(r.final_state == sim.state_vector());  // bit for bit
      CHECK(r.steps == sim.step_count());
      CHECK(r.t_final == 3.0);
      const auto& t = sim.results().t();
      REQUIRE(t.size() >= 5);
      CHECK(r.t == std::vector<double>(t.end() - 5, t.end()));
    }
  }
}

TEST_CASE("1-D sweep: logistic bifurcation, last K records per point", "[batch][sweep]") {
  auto fm = build("builtin://map/logistic");
  auto sw = sweep(fm, {SweepAxis::linspace("r", 2.5, 4.0, 31)},
                  {.N = 300, .transient = 200, .record_last = 8, .threads = 2});
  REQUIRE(sw.nx() == 31);
  CHECK(sw.ny() == 1);
  CHECK(sw.at(0).series.at(0).size() == 8);
  // r = 2.5: fixed point 1 - 1/r = 0.6
  CHECK(sw.at(0).series[0].back() == Approx(0.6).margin(1e-9));
  // r = 3.2 (index 14): period 2
  const auto& p2 = sw.at(14).series[0];
  CHECK(sw.axes[0].values[14] == Approx(3.2));
  CHECK(p2[7] == Approx(p2[5]).margin(1e-9));
  CHECK(std::fabs(p2[7] - p2[6]) > 0.1);
  const auto csv = std::filesystem::temp_directory_path() / "dynlib_test_sweep1d.csv";
  sw.write_csv(csv);
  std::ifstream f(csv);
  std::string header;
  std::getline(f, header);
  CHECK(header == "r,t,x");
  int rows = 0;
  for (std::string line; std::getline(f, line);) ++rows;
  CHECK(rows == 31 * 8);
  std::filesystem::remove(csv);
}

TEST_CASE("2-D sweep: Henon (a, b) final states and Lyapunov outputs", "[batch][sweep]") {
  auto fm = build("builtin://map/henon");
  auto sw =
      sweep(fm, {SweepAxis::linspace("a", 1.0, 1.4, 5), SweepAxis::linspace("b", 0.2, 0.3, 3)},
            {.N = 2000, .transient = 100, .observers = {lyapunov_spectrum({.k = 2, .trace_stride = 0})}},
            {.ic = {{"x", 0.1}, {"y", 0.1}}});
  REQUIRE(sw.batch.size() == 15);
  CHECK(sw.nx() == 5);
  CHECK(sw.ny() == 3);
  // point (a=1.4, b=0.3): the classic attractor; exponents sum to ln b
  const auto& r = sw.at(4, 2);
  CHECK(r.params[0] == Approx(1.4));
  CHECK(r.params[1] == Approx(0.3));
  const auto ex = r.observers.at(0).exponents();
  CHECK(ex[0] + ex[1] == Approx(std::log(0.3)).margin(1e-9));
  CHECK(ex[0] > 0.3);
  // each point equals a direct run
  Sim sim(fm);
  sim.run({.N = 2000,
           .transient = 100,
           .ic = {{"x", 0.1}, {"y", 0.1}},
           .params = {{"a", 1.2}, {"b", 0.25}},
           .observers = {lyapunov_spectrum({.k = 2, .trace_stride = 0})}});
  CHECK(sw.at(2, 1).final_state == sim.state_vector());
  CHECK(sw.at(2, 1).observers[0].outputs == sim.results().observer("lyapunov_spectrum").outputs);
  const auto csv = std::filesystem::temp_directory_path() / "dynlib_test_sweep2d.csv";
  sw.write_csv(csv);
  std::ifstream f(csv);
  std::string header;
  std::getline(f, header);
  CHECK(header ==
        "a,b,status,t,x,y,lyapunov_spectrum.log_r0,lyapunov_spectrum.log_r1,lyapunov_spectrum.denom,"
        "lyapunov_spectrum.steps,lyapunov_spectrum.lyap0,lyapunov_spectrum.lyap1");
  std::filesystem::remove(csv);
  CHECK_THROWS_AS(sweep(fm, {SweepAxis::linspace("a", 1, 2, 0)}), ArgumentError);
  CHECK_THROWS_AS(sweep(fm, {SweepAxis::linspace("zz", 1, 2, 3)}), ArgumentError);
}
